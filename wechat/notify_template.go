package wechat

import (
	"context"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"github.com/jifen/jifen/domain/reminder"
)

// TemplateSender sends official-account template messages
// (cgi-bin/message/template/send): To is the member's official-account
// openid. With MiniAppID set, Page opens in the mini-program. WeChat
// answers 43004 to a user who does not follow the account and 40037 to an
// unknown template id; both are refusals the outbox never retries.
type TemplateSender struct {
	Official  *Official
	MiniAppID string
}

var _ reminder.Sender = (*TemplateSender)(nil)

// Send implements reminder.Sender.
func (s *TemplateSender) Send(ctx context.Context, m reminder.Message) error {
	msg := &message.TemplateMessage{ToUser: m.To, TemplateID: m.TemplateID, Data: map[string]*message.TemplateDataItem{}}
	for k, v := range m.Data {
		msg.Data[k] = &message.TemplateDataItem{Value: v}
	}
	if m.Page != "" && s.MiniAppID != "" {
		msg.MiniProgram.AppID, msg.MiniProgram.PagePath = s.MiniAppID, m.Page
	}
	return s.Official.sendOnce(ctx, "template/send", s.Official.staleToken, func(ctx context.Context, token string) error {
		return postJSON(ctx, "template/send", endpoint(hostWeChat, "/cgi-bin/message/template/send", withToken(token)), msg, &plain{})
	})
}
