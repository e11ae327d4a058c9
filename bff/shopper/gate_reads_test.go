package shopper_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

// commands counts the commands the service sends Redis, by name (a
// client hook: on the in-process Redis and on a real one alike).
type commands struct {
	mu sync.Mutex
	n  map[string]int
}

func countCommands(h *apptest.Harness) *commands {
	c := &commands{n: map[string]int{}}
	h.Env.Redis.C.AddHook(c)
	return c
}

func (k *commands) get(name string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n[name]
}

func (k *commands) count(cmds []redis.Cmder) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range cmds {
		k.n[strings.ToUpper(c.Name())]++
	}
}

func (k *commands) DialHook(next redis.DialHook) redis.DialHook { return next }
func (k *commands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		k.count([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}
func (k *commands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		k.count(cmds)
		return next(ctx, cmds)
	}
}

// TestAuthenticatedReadReadsOnlyTheKeysLogoutWrites: every authenticated
// request reads the session denylist in Redis. A shopper's token carries
// its session, and logging out denies the session, never the token on its
// own: so a request reads the denylist's ready key and its session's key,
// and GET /me its cached answer — three keys, not one more for the token's
// own id, which nothing writes. Logging out still refuses the token.
func TestAuthenticatedReadReadsOnlyTheKeysLogoutWrites(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) {
		c.RateLimit.PerMemberPerMinute = 100_000
		c.RateLimit.PerIPPerMinute = 100_000
	})
	tok, refresh, _ := h.Login(apptest.UniqueUser("gate-reads"))
	if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...); r.Status != http.StatusOK {
		t.Fatalf("first /me: %d %s", r.Status, r.Body)
	}
	reads := countCommands(h)
	const n = 20
	for i := 0; i < n; i++ {
		if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...); r.Status != http.StatusOK {
			t.Fatalf("/me %d: %d %s", i, r.Status, r.Body)
		}
	}
	got, cached := reads.get("GET"), reads.get("HMGET")
	if got != 2*n || cached != n {
		t.Fatalf("%d GET /me read %d denylist keys and %d cached answers; want %d (the ready key and the session's) and %d",
			n, got, cached, 2*n, n)
	}
	if r := h.Do("POST", "/api/v1/shopper/logout", map[string]string{"refresh_token": refresh}, apptest.Auth(tok)...); r.Status/100 != 2 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...); r.Status != http.StatusUnauthorized {
		t.Fatalf("/me after logout: %d %s, want 401", r.Status, r.Body)
	}
}
