package shopper_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

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
