package reminder

import (
	"reflect"
	"strings"
	"testing"
)

func TestChoosePicksTheFirstChannelThatReaches(t *testing.T) {
	ts := map[Channel]MessageTemplate{
		Subscribe: {Channel: Subscribe, WeChatID: "tmpl-a"},
		Template:  {Channel: Template, WeChatID: "oa-a"},
		WeCom:     {Channel: WeCom, Text: "x"},
	}
	order := []Channel{Subscribe, Template, WeCom, Robot}
	cases := []struct {
		name   string
		r      Recipient
		ch     Channel
		to     string
		reason string
	}{
		{"quota", Recipient{OpenID: "o1", Quota: map[string]int64{"tmpl-a": 1}, OfficialOpenID: "oa1"}, Subscribe, "o1", ""},
		{"no quota, follower", Recipient{OpenID: "o1", OfficialOpenID: "oa1"}, Template, "oa1", ""},
		{"guide only", Recipient{OpenID: "o1", Guide: Guide{UserID: "g1", RobotKey: "k"}}, WeCom, "g1", ""},
		{"robot has no template", Recipient{OpenID: "o1", Guide: Guide{RobotKey: "k"}}, None, "", "robot: no template"},
	}
	for _, c := range cases {
		ch, to, reason := Choose(c.r, order, ts)
		if ch != c.ch || to != c.to || !strings.Contains(reason, c.reason) {
			t.Errorf("%s: got %s %q %q, want %s %q containing %q", c.name, ch, to, reason, c.ch, c.to, c.reason)
		}
	}
}

func TestTemplateRenderAndUnknownVariables(t *testing.T) {
	tm := MessageTemplate{WeChatID: "w", Fields: map[string]string{"thing1": "{{points}} 积分", "date2": "{{ expire_date }}"}, Text: "{{nickname}} {{coupon}}"}
	if got := tm.Placeholders(); !reflect.DeepEqual(got, []string{"coupon", "expire_date", "nickname", "points"}) {
		t.Fatalf("placeholders %v", got)
	}
	if got := tm.Unknown(nil); !reflect.DeepEqual(got, []string{"coupon"}) {
		t.Fatalf("unknown %v", got)
	}
	if got := tm.Unknown(map[string]string{"coupon": "c"}); len(got) != 0 {
		t.Fatalf("unknown with extra %v", got)
	}
	m := tm.Render("o1", map[string]string{"points": "1,200", "expire_date": "12月31日", "nickname": "小王", "coupon": "C9"})
	if m.To != "o1" || m.Data["thing1"] != "1,200 积分" || m.Data["date2"] != "12月31日" || m.Text != "小王 C9" {
		t.Fatalf("rendered %+v", m)
	}
}
