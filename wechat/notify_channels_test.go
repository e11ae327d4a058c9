package wechat

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/wechat/sim"
)

func TestTemplateSenderDeliversAndReportsRefusals(t *testing.T) {
	ctx := context.Background()
	c, _ := newCache(t)
	s := &TemplateSender{Official: NewOfficial(fmt.Sprintf("wxoa%d", appSeq.Add(1)), "s", c), MiniAppID: "wx-mini"}
	user := fmt.Sprintf("tmpl-%d", appSeq.Add(1))
	to := sim.OfficialOpenID(user)
	msg := reminder.Message{To: to, TemplateID: "oa-tmpl", Page: "pages/points/index", Data: map[string]string{"first": "您有 100 积分将过期"}}

	code := func(err error) int64 {
		var se *reminder.SendError
		if !errors.As(err, &se) {
			t.Fatalf("error %v is not a *reminder.SendError", err)
		}
		return se.ErrCode
	}
	if got := code(s.Send(ctx, msg)); got != reminder.CodeNotFollowing {
		t.Fatalf("not following: errcode %d, want 43004", got)
	}
	control(t, "POST", "/_sim/followers", `{"user":"`+user+`","subscribe":true}`)
	if err := s.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	got := simServer.Delivered(to)
	if len(got) != 1 || got[0].API != "template_send" || got[0].Page != "pages/points/index" || got[0].TemplateID != "oa-tmpl" {
		t.Fatalf("delivered %+v", got)
	}
	bad := msg
	bad.TemplateID = "bad-template"
	if got := code(s.Send(ctx, bad)); got != reminder.CodeBadTemplateID {
		t.Fatalf("unknown template: errcode %d, want 40037", got)
	}
	bad = msg
	bad.To = "sim-openid-" + user // a mini-program openid is not the account's
	if got := code(s.Send(ctx, bad)); got != reminder.CodeBadOpenID {
		t.Fatalf("wrong openid: errcode %d, want 40003", got)
	}
	fault(t, `{"api":"template_send","http_status":502}`)
	var se *reminder.SendError
	if err := s.Send(ctx, msg); !errors.As(err, &se) || se.HTTPStatus != 502 {
		t.Fatalf("502: %v", err)
	}
}

func TestOfficialFollowerLookup(t *testing.T) {
	ctx := context.Background()
	c, _ := newCache(t)
	o := NewOfficial(fmt.Sprintf("wxoa%d", appSeq.Add(1)), "s", c)
	user := fmt.Sprintf("info-%d", appSeq.Add(1))
	simServer.Follow(sim.OfficialOpenID(user), true)
	t.Cleanup(func() { simServer.Follow(sim.OfficialOpenID(user), false) })
	f, err := o.Follower(ctx, sim.OfficialOpenID(user))
	if err != nil || !f.Subscribed || f.UnionID != "sim-unionid-"+user {
		t.Fatalf("follower %+v %v", f, err)
	}
	if u, err := o.UnionID(ctx, sim.OfficialOpenID(user)); err != nil || u != "sim-unionid-"+user {
		t.Fatalf("unionid %q %v", u, err)
	}
	if _, err := o.Follower(ctx, "not-an-openid"); err == nil {
		t.Fatal("40003 became no error")
	}
	ids, _, err := o.FollowerPage(ctx, "")
	found := false
	for _, id := range ids {
		found = found || id == sim.OfficialOpenID(user)
	}
	if err != nil || !found {
		t.Fatalf("follower page %v %v", ids, err)
	}
}

func TestAppMessageSenderReachesTheGuideAndReportsUnknownUsers(t *testing.T) {
	ctx := context.Background()
	c, _ := newCache(t)
	s := &AppMessageSender{Work: NewWork(fmt.Sprintf("wwapp%d", appSeq.Add(1)), "s", "1000002", c)}
	guide := fmt.Sprintf("guide-%d", appSeq.Add(1))
	if err := s.Send(ctx, reminder.Message{To: guide, Text: "您有 2 位顾客的积分即将过期"}); err != nil {
		t.Fatal(err)
	}
	if got := simServer.Delivered(guide); len(got) != 1 || got[0].API != "message_send" || got[0].Text != "您有 2 位顾客的积分即将过期" {
		t.Fatalf("delivered %+v", got)
	}
	sent := simServer.Calls("message_send")
	if last := sent[len(sent)-1]; last.Params["agentid"] != "1000002" || last.Params["msgtype"] != "text" {
		t.Fatalf("request %v", last.Params)
	}
	var se *reminder.SendError
	if err := s.Send(ctx, reminder.Message{To: "bad-guide", Text: "x"}); !errors.As(err, &se) || se.ErrCode != 81013 {
		t.Fatalf("unknown guide: %v", err)
	}
}
