package wechat

import (
	"context"

	"github.com/silenceper/wechat/v2/miniprogram/subscribe"

	"github.com/jifen/jifen/domain/reminder"
)

// SubscribeSender sends mini-program subscribe messages
// (subscribeMessage.send): To is the member's mini-program openid.
type SubscribeSender struct{ Mini *MiniProgram }

var _ reminder.Sender = (*SubscribeSender)(nil)

// Send implements reminder.Sender.
func (s *SubscribeSender) Send(ctx context.Context, m reminder.Message) error {
	msg := &subscribe.Message{ToUser: m.To, TemplateID: m.TemplateID, Page: m.Page, Data: map[string]*subscribe.DataItem{}}
	for k, v := range m.Data {
		msg.Data[k] = &subscribe.DataItem{Value: v}
	}
	return s.Mini.sendOnce(ctx, "subscribe/send", s.Mini.staleToken, func(ctx context.Context, token string) error {
		return postJSON(ctx, "subscribe/send", endpoint(hostWeChat, "/cgi-bin/message/subscribe/send", withToken(token)), msg, &plain{})
	})
}
