package wechat

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/wechat/sim"
)

// Two instances of the service share one appid's token through Redis.
// When another system rotates the token underneath them and its grace runs
// out, both keep working, and between them they ask WeChat once: the
// refresh runs under a Redis lock, through stable_token (which does not
// rotate the token again) (issue 19, item 2).
func TestTwoInstancesKeepWorkingThroughATokenRotation(t *testing.T) {
	c, _ := newCache(t)
	appID := fmt.Sprintf("wxshared%d", appSeq.Add(1))
	instances := []*MiniProgram{
		NewMiniProgram(appID, "s", c),
		NewMiniProgram(appID, "s", NewRedisCache(c.rdb, c.prefix)), // the other instance: its own objects, the same Redis
	}
	ctx := context.Background()
	phoneAll := func() {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Go(func() {
				if _, err := instances[i%2].PhoneNumber(ctx, simServer.PhoneCode("13800001111", time.Time{})); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	fetches := func() int { return len(calls("stable_token", "appid", appID)) + len(calls("token", "appid", appID)) }

	phoneAll()
	if n := fetches(); n != 1 {
		t.Fatalf("%d token fetches by two instances starting together, want 1", n)
	}
	simServer.RotateToken(sim.HostWeChat, appID, 0) // another system took a new token; the grace is over
	phoneAll()
	if n := fetches(); n != 2 {
		t.Fatalf("%d token fetches after one rotation, want 2 (one refresh)", n)
	}
	if n := len(calls("token", "appid", appID)); n != 0 {
		t.Fatalf("%d calls of /cgi-bin/token, which rotates the token for everyone", n)
	}
}

// Redis holds only what can be rebuilt: while it does not answer, WeChat
// calls go on with the token the process fetched last, or with one it
// fetches itself (stable_token, without the lock), which then serves it
// until Redis is back; a token WeChat refuses meanwhile is replaced too.
// Before, every call that needed a token was a 503 (access token lock:
// redis: circuit open).
func TestTokensOutliveARedisOutage(t *testing.T) {
	ctx := context.Background()
	phone := func(t *testing.T, m *MiniProgram) {
		t.Helper()
		if _, err := m.PhoneNumber(ctx, simServer.PhoneCode("13800002222", time.Time{})); err != nil {
			t.Fatalf("phone with Redis down: %v", err)
		}
	}

	t.Run("with a token fetched before", func(t *testing.T) {
		c, mr := newCache(t)
		appID := fmt.Sprintf("wxredisdown%d", appSeq.Add(1))
		mini := NewMiniProgram(appID, "s", c)
		phone(t, mini)
		mr.SetError("connection refused")
		phone(t, mini)
		phone(t, mini)
		if n := len(calls("stable_token", "appid", appID)); n != 1 {
			t.Fatalf("%d token fetches, want the one before the outage", n)
		}
	})

	t.Run("without a token", func(t *testing.T) {
		c, mr := newCache(t)
		appID := fmt.Sprintf("wxredisdown%d", appSeq.Add(1))
		mini := NewMiniProgram(appID, "s", c)
		mr.SetError("connection refused")
		phone(t, mini)
		phone(t, mini)
		got := calls("stable_token", "appid", appID)
		if len(got) != 1 || got[0].Params["force_refresh"] == true {
			t.Fatalf("token fetches %+v, want one without force_refresh", got)
		}

		simServer.RotateToken(sim.HostWeChat, appID, 0) // WeChat refuses the kept token now
		phone(t, mini)
		if n := len(calls("stable_token", "appid", appID)); n != 2 {
			t.Fatalf("%d token fetches after a rotation, want 2", n)
		}

		mr.SetError("") // Redis is back: the shared token is used and kept there again
		phone(t, mini)
		if len(mr.Keys()) == 0 {
			t.Fatal("no token in Redis once it answers again")
		}
	})
}
