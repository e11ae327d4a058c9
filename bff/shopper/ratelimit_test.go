package shopper_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2/server"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

// TestLimitsOnAuthenticatedRoutes: the per-member and per-IP limits that
// travel in one round trip with the session check still hold: a member's
// limit is that member's (another member goes on), the IP's covers every
// route, and a refused request says when to retry.
func TestLimitsOnAuthenticatedRoutes(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) {
		c.RateLimit.PerMemberPerMinute = 5
		c.RateLimit.PerIPPerMinute = 14
	})
	a, _, _ := h.Login(apptest.UniqueUser("limit-a")) // logins count per IP: 2 of 14
	b, _, _ := h.Login(apptest.UniqueUser("limit-b"))
	for i := 0; i < 5; i++ {
		if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(a)...); r.Status != http.StatusOK {
			t.Fatalf("member a, request %d of 5: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(a)...)
	if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "RATE_LIMITED" {
		t.Fatalf("member a, request 6: %d %s, want 429", r.Status, r.Body)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 12 {
		t.Fatalf("Retry-After %q, want the 12 s until one more request fits", r.Header.Get("Retry-After"))
	}
	// 8 of 14 per IP so far; member b has its own 5.
	for i := 0; i < 5; i++ {
		if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(b)...); r.Status != http.StatusOK {
			t.Fatalf("member b, request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	// 13 of 14: one more from this address, whatever the route, then 429.
	if r := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]string{"refresh_token": "x"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("request 14 from the address: %d %s, want 401 (a bad refresh token)", r.Status, r.Body)
	}
	for i, hdr := range [][]string{apptest.Auth(b), apptest.Auth("not-a-token"), nil} {
		r := h.Do("GET", "/api/v1/shopper/me", nil, hdr...)
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("over the address's limit (case %d): %d %s, want 429 before any token check", i, r.Status, r.Body)
		}
	}
}

// TestGateAfterRedisLostItsScripts: a Redis that restarted (or a Cluster
// node that failed over) has forgotten the rate-limit script; the gate
// loads it and sends its pipeline again, and answers from that second
// round only — a member whose session is live is admitted, one who
// logged out is refused, as before.
func TestGateAfterRedisLostItsScripts(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	tok, _, _ := h.Login(apptest.UniqueUser("noscript"))
	gone, goneRefresh, _ := h.Login(apptest.UniqueUser("noscript-out"))
	if r := h.Do("POST", "/api/v1/shopper/logout", map[string]string{"refresh_token": goneRefresh}, apptest.Auth(gone)...); r.Status/100 != 2 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	for i := 0; i < 3; i++ {
		if err := h.Env.Redis.C.ScriptFlush(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...); r.Status != http.StatusOK {
			t.Fatalf("round %d: a live session after SCRIPT FLUSH: %d %s", i, r.Status, r.Body)
		}
		if err := h.Env.Redis.C.ScriptFlush(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(gone)...); r.Status != http.StatusUnauthorized {
			t.Fatalf("round %d: a logged-out session after SCRIPT FLUSH: %d %s", i, r.Status, r.Body)
		}
	}
}

// TestHotMemberSpendsLeasedCells: a member whose client calls again and
// again takes several cells of its bucket per Redis script and spends
// them without Redis, and its limit still holds exactly: never more than
// the limit passes (cells are taken from the bucket before they are
// used), the rest is refused with a Retry-After, and another member and a
// member calling now and then are unaffected. On the in-process Redis the
// scripts are counted: far fewer than the requests.
func TestHotMemberSpendsLeasedCells(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) {
		c.RateLimit.PerMemberPerMinute = 200 // leases of up to 10 cells
		c.RateLimit.PerIPPerMinute = 100_000
	})
	var scripts atomic.Int64
	if h.Env.Mini != nil {
		h.Env.Mini.Server().SetPreHook(func(_ *server.Peer, cmd string, _ ...string) bool {
			if strings.EqualFold(cmd, "EVALSHA") || strings.EqualFold(cmd, "EVAL") {
				scripts.Add(1)
			}
			return false
		})
	}
	hot, _, _ := h.Login(apptest.UniqueUser("lease-hot"))
	other, _, _ := h.Login(apptest.UniqueUser("lease-other"))
	passed, refused := 0, 0
	start := time.Now()
	for i := 0; i < 260; i++ {
		switch r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(hot)...); r.Status {
		case http.StatusOK:
			passed++
		case http.StatusTooManyRequests:
			refused++
			if r.Header.Get("Retry-After") == "" {
				t.Fatalf("request %d refused without Retry-After", i+1)
			}
		default:
			t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	// The bucket refills a cell every 300 ms while the loop runs. A lease
	// lapses unused only if the member stops for 100 ms between requests;
	// a slow machine may see one or two.
	most := 200 + int(time.Since(start)/(300*time.Millisecond)) + 1
	if passed > most || passed < 180 || refused != 260-passed {
		t.Fatalf("%d passed and %d refused of 260 at 200 a minute; want at most %d passed, the rest refused", passed, refused, most)
	}
	if h.Env.Mini != nil {
		// Two limits a request (address and member) would be 520 scripts.
		if n := scripts.Load(); n > 200 {
			t.Fatalf("260 requests of one member sent %d rate-limit scripts; want leases to spare most", n)
		}
	}
	for i := 0; i < 3; i++ {
		if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(other)...); r.Status != http.StatusOK {
			t.Fatalf("another member, request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
}

// TestGateFindsTheScriptGoneBehindALeasedAddress: when the address's
// cells are leased, the gate's pipeline starts with the session's
// denylist reads, whose "not set" (redis.Nil) is the first error Exec
// reports. A Redis that lost the script must still be noticed from the
// member's check further on, the script loaded and the check counted: the
// member's limit holds across SCRIPT FLUSHes.
func TestGateFindsTheScriptGoneBehindALeasedAddress(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) {
		c.RateLimit.PerMemberPerMinute = 5
		c.RateLimit.PerIPPerMinute = 100_000 // the address leases its cells
	})
	tok, _, _ := h.Login(apptest.UniqueUser("noscript-leased"))
	passed := 0
	for i := 0; i < 9; i++ {
		if err := h.Env.Redis.C.ScriptFlush(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		switch r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...); r.Status {
		case http.StatusOK:
			passed++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	if passed != 5 {
		t.Fatalf("%d of 9 requests passed a limit of 5 a minute with the script flushed before each; want 5", passed)
	}
}

// TestBusyKeysRefillTheirLeasesAhead: one address and one member making
// many requests at once (a shop's Wi-Fi, a client polling from several
// tabs) take their next lease while cells of the last one remain, so the
// requests that come while a lease is asked for do not each run the
// script in Redis. The scripts are counted by a client hook, on the
// in-process Redis and on a real one alike.
func TestBusyKeysRefillTheirLeasesAhead(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) {
		c.RateLimit.PerMemberPerMinute = 10_000_000
		c.RateLimit.PerIPPerMinute = 10_000_000
	})
	tok, _, _ := h.Login(apptest.UniqueUser("lease-busy"))
	sent := countCommands(h)
	const workers, each = 16, 150
	var failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...); r.Status != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d requests under limits of 10,000,000 a minute were not answered 200", n, workers*each)
	}
	// Two limits a request: 4,800 scripts without leases; about 1,000
	// when a busy key's requests each asked while its lease was asked for.
	scripts := sent.get("EVALSHA") + sent.get("EVAL")
	t.Logf("%d requests, %d scripts", workers*each, scripts)
	if scripts > workers*each/5 {
		t.Fatalf("%d concurrent requests of one member from one address ran %d rate-limit scripts; want at most %d",
			workers*each, scripts, workers*each/5)
	}
}
