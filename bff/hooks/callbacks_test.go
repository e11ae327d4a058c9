package hooks_test

import (
	"context"
	"encoding/xml"
	"net/url"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/wechat/sim"
)

const oaPath = "/api/v1/hooks/wechat/official-account?"

func oaApp(h *apptest.Harness) sim.OfficialAccountApp {
	oa := h.Config.Tasks.OfficialAccount
	return sim.OfficialAccountApp{AppID: h.Config.OfficialAccountAppID(), Token: string(oa.Token), AESKey: string(oa.AESKey)}
}

// follower returns the stored follow state of user's official-account openid.
func follower(t *testing.T, h *apptest.Harness, user string) (subscribed, found bool) {
	t.Helper()
	var rows []struct{ Subscribed bool }
	if err := h.Env.DB.Conn(context.Background()).Table("official_followers").Where("openid = ?", sim.OfficialOpenID(user)).
		Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return false, false
	}
	return rows[0].Subscribed, true
}

// resign moves an encrypted push to another timestamp and nonce, signed
// with the right token: what a sender holding the token could send.
func resign(t *testing.T, app sim.OfficialAccountApp, body []byte, ts, nonce string) url.Values {
	t.Helper()
	var env struct{ Encrypt string }
	if err := xml.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	return url.Values{"encrypt_type": {"aes"}, "timestamp": {ts}, "nonce": {nonce},
		"signature": {util.Signature(app.Token, ts, nonce)}, "msg_signature": {util.Signature(app.Token, ts, nonce, env.Encrypt)}}
}

// TestOfficialAccountPushTimestampWindowAndNonce: a push more than five
// minutes old or ahead is refused; a nonce is taken once, so a second push
// under a nonce already seen (even with another body) changes nothing.
func TestOfficialAccountPushTimestampWindowAndNonce(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	app := oaApp(h)
	user := apptest.UniqueUser("oa-window")
	now := h.Clock.Now()
	for _, skew := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
		q, body, err := app.Push(app.Subscribe(user, now.Add(skew)), now.Add(skew), true)
		if err != nil {
			t.Fatal(err)
		}
		if r := h.Do("POST", oaPath+q.Encode(), body); r.Status != 401 {
			t.Fatalf("push %s away: %d %s", skew, r.Status, r.Body)
		}
	}
	if _, found := follower(t, h, user); found {
		t.Fatal("a push outside the window was recorded")
	}
	q, body, err := app.Push(app.Subscribe(user, now.Add(-4*time.Minute)), now.Add(-4*time.Minute), true)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.Do("POST", oaPath+q.Encode(), body); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("push 4 minutes old: %d %s", r.Status, r.Body)
	}
	// The same nonce and timestamp with an unsubscribe inside.
	_, ubody, err := app.Push(app.Unsubscribe(user, now), now, true)
	if err != nil {
		t.Fatal(err)
	}
	rq := resign(t, app, ubody, q.Get("timestamp"), q.Get("nonce"))
	if r := h.Do("POST", oaPath+rq.Encode(), ubody); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("push under a used nonce: %d %s", r.Status, r.Body)
	}
	if subscribed, _ := follower(t, h, user); !subscribed {
		t.Fatal("a push under a used nonce changed the follower")
	}
	// The nonces are in Redis and may be lost: the service keeps answering,
	// and the replayed push, processed again, changes nothing.
	if err := h.Env.Redis.DeleteAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := h.Do("POST", oaPath+q.Encode(), body); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("replay after a Redis flush: %d %s", r.Status, r.Body)
	}
	if subscribed, _ := follower(t, h, user); !subscribed {
		t.Fatal("replay after a Redis flush changed the follower")
	}
}

// TestOfficialAccountFollowerFollowsEventOrder: WeChat retries a push it
// got no answer to, so a subscribe can arrive after the unsubscribe that
// followed it; the follower stays unsubscribed.
func TestOfficialAccountFollowerFollowsEventOrder(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	app := oaApp(h)
	user := apptest.UniqueUser("oa-order")
	now := h.Clock.Now()
	send := func(plain []byte) {
		t.Helper()
		q, body, err := app.Push(plain, h.Clock.Now(), true)
		if err != nil {
			t.Fatal(err)
		}
		if r := h.Do("POST", oaPath+q.Encode(), body); r.Status != 200 || string(r.Body) != "success" {
			t.Fatalf("push: %d %s", r.Status, r.Body)
		}
	}
	send(app.Unsubscribe(user, now))
	send(app.Subscribe(user, now.Add(-30*time.Second))) // the late retry
	if subscribed, found := follower(t, h, user); !found || subscribed {
		t.Fatalf("after a late subscribe: subscribed %v found %v, want unsubscribed", subscribed, found)
	}
	h.Clock.Advance(time.Minute)
	send(app.Subscribe(user, h.Clock.Now())) // a new follow
	if subscribed, _ := follower(t, h, user); !subscribed {
		t.Fatal("a newer subscribe was not recorded")
	}
}

// TestOfficialAccountRefusesPlaintextWhenEncrypted: with an EncodingAESKey
// configured, a plaintext push is refused even with a right signature (it
// does not cover the body, so a captured one could carry a forged
// subscribe); without one, plaintext is the only mode.
func TestOfficialAccountRefusesPlaintextWhenEncrypted(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	app := oaApp(h)
	user := apptest.UniqueUser("oa-plain")
	q, body, _ := app.Push(app.Subscribe(user, h.Clock.Now()), h.Clock.Now(), false)
	if r := h.Do("POST", oaPath+q.Encode(), body); r.Status != 401 {
		t.Fatalf("plaintext push with an AES key configured: %d %s", r.Status, r.Body)
	}
	if _, found := follower(t, h, user); found || rows(t, h, "task_events") != 0 {
		t.Fatal("a refused plaintext push was recorded")
	}

	plain := apptest.New(t, func(c *configs.Config) { c.Tasks.OfficialAccount.AESKey = "" })
	papp := oaApp(plain)
	q, body, _ = papp.Push(papp.Subscribe(user, plain.Clock.Now()), plain.Clock.Now(), false)
	if r := plain.Do("POST", oaPath+q.Encode(), body); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("plaintext push without an AES key: %d %s", r.Status, r.Body)
	}
	if subscribed, _ := follower(t, plain, user); !subscribed {
		t.Fatal("plaintext push without an AES key not recorded")
	}
}

// TestOfficialAccountPushWithRedisDown: the nonces live in Redis; without
// it a push is still worked (the timestamp window holds and the events are
// idempotent in SQL), so WeChat does not retry against an outage.
func TestOfficialAccountPushWithRedisDown(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	app := oaApp(h)
	user := apptest.UniqueUser("oa-noredis")
	if h.Env.Mini == nil {
		h.Env.Redis.C.Close()
	} else {
		h.Env.Mini.Close()
	}
	q, body, err := app.Push(app.Unsubscribe(user, h.Clock.Now()), h.Clock.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.Do("POST", oaPath+q.Encode(), body); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("push with Redis down: %d %s", r.Status, r.Body)
	}
	if subscribed, found := follower(t, h, user); !found || subscribed {
		t.Fatalf("unsubscribe with Redis down: found %v subscribed %v", found, subscribed)
	}
}
