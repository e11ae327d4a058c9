package wechat

import (
	"context"
	"fmt"
	"strings"

	"github.com/silenceper/wechat/v2/util"
	"github.com/silenceper/wechat/v2/work/message"

	"github.com/jifen/jifen/domain/reminder"
)

// codeAllInvalid is WeCom's answer when no recipient of message/send is a
// corp member.
const codeAllInvalid = 81013

// AppMessageSender sends WeCom app text messages (cgi-bin/message/send)
// from the Work app's agent: To is the shop guide's userid. WeCom answers
// errcode 0 with the userid in invaliduser when some recipients are
// unknown, and 81013 when all are; with one recipient both mean the guide
// did not get it, and both are reported as 81013 (never retried).
type AppMessageSender struct{ Work *Work }

var _ reminder.Sender = (*AppMessageSender)(nil)

// Send implements reminder.Sender.
func (s *AppMessageSender) Send(ctx context.Context, m reminder.Message) error {
	agentID := s.Work.agentID
	return s.Work.sendOnce(ctx, "message/send", s.Work.staleToken, func(ctx context.Context, token string) error {
		var res message.SendResponse
		err := postJSON(ctx, "message/send", endpoint(hostWeCom, "/cgi-bin/message/send", withToken(token)), message.SendTextRequest{
			SendRequestCommon: &message.SendRequestCommon{ToUser: m.To, MsgType: "text", AgentID: agentID},
			Text:              message.TextField{Content: m.Text},
		}, &res)
		if err == nil && res.InvalidUser != "" {
			for _, u := range strings.Split(res.InvalidUser, "|") {
				if strings.EqualFold(u, m.To) {
					return fmt.Errorf("message/send: %w", util.NewCommonError("message/send", codeAllInvalid, "invaliduser "+res.InvalidUser))
				}
			}
		}
		return err
	})
}
