package wechat

import (
	"context"
	"net/url"

	"github.com/silenceper/wechat/v2/work/robot"

	"github.com/jifen/jifen/domain/reminder"
)

// RobotSender posts text to WeCom group robots (webhook/send): To is the
// robot's webhook key. The shop guides feature can use it for store
// groups. The webhook needs no access token, so it needs no Work app.
type RobotSender struct{}

var _ reminder.Sender = RobotSender{}

// Send implements reminder.Sender. The SDK returns a nil error when the
// body carries an errcode (45009, 93000…), so the body is checked here.
func (RobotSender) Send(ctx context.Context, m reminder.Message) error {
	installClient()
	opt := &robot.WebhookSendTextOption{MsgType: "text"}
	opt.Text.Content = m.Text
	ctx, cancel := context.WithTimeout(ctx, DefaultCallTimeout)
	defer cancel()
	err := postJSON(ctx, "webhook/send", endpoint(hostWeCom, "/cgi-bin/webhook/send", url.Values{"key": {m.To}}), opt, &plain{})
	observe("webhook/send", errcode(err), err)
	return sendError(err)
}

// SendStoreSummary implements guide.StoreNotifier: the shop guides' daily
// store summary goes to the store group's robot.
func (r RobotSender) SendStoreSummary(ctx context.Context, robotKey, text string) error {
	return r.Send(ctx, reminder.Message{To: robotKey, Text: text})
}
