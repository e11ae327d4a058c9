package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
)

// hookStatus is the status of a bare GET of a hook: 404 when it is not
// routed.
func hookStatus(h *apptest.Harness, path string) int {
	rec := httptest.NewRecorder()
	h.App.Handler.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code
}

// TestAccountsOff: without an official account (wechat.official.appid "")
// and a WeCom app (wechat.work.corp_id ""), their hooks are not routed (an
// unconfigured token would take anyone's signature), no reminder is sent on
// their channels, the follower sync has nothing to run, guides are told
// WeCom is not configured, and a channel left out of reminder.channels is
// neither sent on nor checked at start.
func TestAccountsOff(t *testing.T) {
	on := apptest.New(t)
	for _, p := range []string{"/api/v1/hooks/wecom", "/api/v1/hooks/wechat/official-account"} {
		if s := hookStatus(on, p); s == http.StatusNotFound {
			t.Fatalf("GET %s with the accounts configured: 404", p)
		}
	}
	if len(on.App.Reminder.Dispatcher.Senders) != 4 {
		t.Fatalf("senders with every channel on: %v", on.App.Reminder.Dispatcher.Senders)
	}

	off := apptest.New(t, func(c *configs.Config) {
		c.WeChat.Official.AppID, c.WeChat.Work.CorpID = "", ""
		c.Reminder.Channels = []string{"robot", "wecom", "template"}
		c.Reminder.Templates["expiry_subscribe"] = configs.ReminderTemplate{Channel: "subscribe", WeChatID: "no-such-template",
			Fields: map[string]string{"thing1": "{{points}}"}}
	})
	for _, p := range []string{"/api/v1/hooks/wecom", "/api/v1/hooks/wechat/official-account"} {
		if s := hookStatus(off, p); s != http.StatusNotFound {
			t.Errorf("GET %s without its account: %d, want 404 (not routed)", p, s)
		}
	}
	var chans []string
	for ch := range off.App.Reminder.Dispatcher.Senders {
		chans = append(chans, string(ch))
	}
	slices.Sort(chans)
	if strings.Join(chans, ",") != "robot" {
		t.Errorf("senders %v, want robot only (subscribe not listed, template and wecom without their accounts)", chans)
	}
	if off.App.Reminder.Followers != nil {
		t.Error("a follower sync without an official account")
	}
	if _, err := off.App.Guides.Login(context.Background(), "any-code"); domain.ErrorCode(err) != domain.Misconfigured {
		t.Errorf("guide login without WeCom: %v, want MISCONFIGURED", err)
	}
	problems, err := off.App.Reminder.CheckTemplates(context.Background())
	if err != nil || len(problems) != 0 {
		t.Errorf("templates of channels that are off were checked: %v %v", problems, err)
	}
	if got := off.App.Reminder.Campaigns.Config.Channels; !slices.Equal(got, []reminder.Channel{reminder.Robot}) {
		t.Errorf("campaigns' default channels %v, want the channels that are on", got)
	}
}
