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
