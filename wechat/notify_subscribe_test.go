package wechat

import (
	"context"
	"fmt"
	"testing"

	"github.com/jifen/jifen/domain/reminder"
)

// A subscribe send refused with 40014 (invalid access token) refreshes the
// token and tries once more, as the other sends do (issue 19, item 3).
func TestSubscribeSenderRefreshesTheTokenOn40014(t *testing.T) {
	mini, _ := newMini(t)
	openid := fmt.Sprintf("sim-openid-sub40014-%d", appSeq.Add(1))
	simServer.GrantSubscription(openid, "tmpl-expiry", 1)
	fault(t, `{"api":"subscribe_send","errcode":40014}`)
	err := (&SubscribeSender{Mini: mini}).Send(context.Background(), reminder.Message{To: openid, TemplateID: "tmpl-expiry",
		Data: map[string]string{"thing1": "1,200 积分"}})
	if err != nil {
		t.Fatalf("40014 then a fresh token: %v", err)
	}
	if got := simServer.Delivered(openid); len(got) != 1 {
		t.Fatalf("delivered %+v", got)
	}
}
