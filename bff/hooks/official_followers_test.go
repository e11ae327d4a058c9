package hooks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/wechat/sim"
)

func TestOfficialAccountPushesKeepFollowers(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	user := apptest.UniqueUser("oa-follow")
	oa := h.Config.Tasks.OfficialAccount
	app := sim.OfficialAccountApp{AppID: h.Config.OfficialAccountAppID(), Token: string(oa.Token), AESKey: string(oa.AESKey)}
	const path = "/api/v1/hooks/wechat/official-account?"
	follower := func() (unionid string, subscribed bool, found bool) {
		t.Helper()
		var rows []struct {
			UnionID    string `gorm:"column:unionid"`
			Subscribed bool
		}
		if err := h.Env.DB.Conn(context.Background()).Table("official_followers").Where("openid = ?", sim.OfficialOpenID(user)).
			Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			return "", false, false
		}
		return rows[0].UnionID, rows[0].Subscribed, true
	}
	for i, push := range [][]byte{app.Subscribe(user, h.Clock.Now()), app.Unsubscribe(user, h.Clock.Now())} {
		q, body, err := app.Push(push, h.Clock.Now(), true)
		if err != nil {
			t.Fatal(err)
		}
		if r := h.Do("POST", path+q.Encode(), body); r.Status != 200 || string(r.Body) != "success" {
			t.Fatalf("push %d: %d %s", i, r.Status, r.Body)
		}
		unionid, subscribed, found := follower()
		if !found || unionid != "sim-unionid-"+user || subscribed != (i == 0) {
			t.Fatalf("after push %d: unionid %q subscribed %v found %v", i, unionid, subscribed, found)
		}
	}
	// A push naming no openid WeChat would issue (200,000 characters) is
	// answered "success" and records nothing.
	long := strings.Repeat("x", 200_000)
	q, body, err := app.Push(app.Subscribe(long, h.Clock.Now()), h.Clock.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.Do("POST", path+q.Encode(), body); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("push with a long openid: %d %.200s", r.Status, r.Body)
	}
	var n int64
	if err := h.Env.DB.Conn(context.Background()).Table("official_followers").Where("LENGTH(openid) > 64").Count(&n).Error; err != nil || n != 0 {
		t.Fatalf("%d followers with an openid past 64 characters (%v)", n, err)
	}
}
