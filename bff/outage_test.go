package bff_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/repo/testenv"
)

// A database that goes away is an outage, not a bug: every route answers
// 503 UNAVAILABLE with Retry-After, and when the database comes back the
// first request succeeds although every pooled connection went stale.
// MariaDB goes away behind a proxy the test cuts; the embedded SQLite has no
// server to lose, so its pool is closed instead (and it cannot come back).
func TestDatabaseOutageAnswers503(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.WithProxies())
	h := apptest.NewOn(t, env)
	tok, _, id := h.Login(apptest.UniqueUser("dbout"))
	admin := h.ConsoleLogin("admin")

	type call struct {
		name, method, path string
		body               any
		hdr                []string
	}
	calls := []call{
		{"me", "GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)},
		{"entries", "GET", "/api/v1/shopper/points/entries", nil, apptest.Auth(tok)},
		{"signin", "POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)},
		{"adjust", "POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), map[string]any{"delta": 5, "reason": "outage"},
			append(apptest.Auth(admin), "Idempotency-Key", "outage-adjust")},
		{"login", "POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(apptest.UniqueUser("dbout"))}, nil},
	}

	if env.SQLProxy != nil {
		env.SQLProxy.Cut()
	} else {
		env.DB.Close()
	}
	for _, c := range calls {
		r := h.Do(c.method, c.path, c.body, c.hdr...)
		if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "UNAVAILABLE" || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s with the database down: %d %s Retry-After=%q; want 503 UNAVAILABLE with Retry-After",
				c.name, r.Status, r.Body, r.Header.Get("Retry-After"))
		}
	}
	start := time.Now()
	if r := h.Do("GET", "/readyz", nil); r.Status != http.StatusServiceUnavailable || time.Since(start) > time.Second {
		t.Errorf("readyz with the database down: %d after %v %s", r.Status, time.Since(start), r.Body)
	}
	if env.SQLProxy == nil {
		return // the closed SQLite pool does not come back
	}

	// The server is back; every connection in the pools is stale.
	env.SQLProxy.Restore()
	for _, c := range calls {
		r := h.Do(c.method, c.path, c.body, c.hdr...)
		if r.Status >= 500 {
			t.Errorf("%s, first request after the database came back: %d %s", c.name, r.Status, r.Body)
		}
	}
}

// Redis is a cache: when it refuses connections or hangs (SIGSTOP), the
// routes that can do without it keep answering 2xx, each within a second;
// a draw, whose stock gate lives in Redis, answers 503 UNAVAILABLE with
// Retry-After within a second; everything recovers on its own.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"down", "stalled"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			env := testenv.New(t, testenv.WithProxies())
			h := apptest.NewOn(t, env)
			admin := h.ConsoleLogin("admin")
			r := h.Do("POST", "/api/v1/console/lottery/campaigns", `{"name":"outage","starts_at":"2026-11-23T00:00:00+08:00",
				"ends_at":"2026-12-23T00:00:00+08:00","cost_points":1,"free_per_day":0,"limit_daily":100,
				"prizes":[{"name":"谢谢参与","kind":"nothing","weight":1}]}`, apptest.Auth(admin)...)
			if r.Status != 201 {
				t.Fatalf("create campaign: %d %s", r.Status, r.Body)
			}
			draws := fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%v/draws", r.JSON()["campaign"].(map[string]any)["id"])
			tok, _, id := h.LoginJoined(apptest.UniqueUser("rdout"), apptest.MonthStart)
			adjust := func(key string) *apptest.Response {
				return h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), map[string]any{"delta": 100, "reason": "seed"},
					append(apptest.Auth(admin), "Idempotency-Key", key)...)
			}
			if r := adjust("seed"); r.Status != 201 {
				t.Fatalf("seed: %d %s", r.Status, r.Body)
			}
			draw := func(key string) *apptest.Response {
				return h.Do("POST", draws, nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
			}
			if r := draw("warm"); r.Status != 201 {
				t.Fatalf("draw with Redis up: %d %s", r.Status, r.Body)
			}
			// The mall's stock gate lives in Redis too (#18): browsing and an
			// item's detail go on, a redemption is 503 and writes nothing.
			r = h.Do("POST", "/api/v1/console/mall/items", `{"kind":"physical","name":"outage","category":"c","points":1,"stock":50,"enabled":true}`,
				apptest.Auth(admin)...)
			if r.Status != 201 {
				t.Fatalf("create mall item: %d %s", r.Status, r.Body)
			}
			item := fmt.Sprintf("/api/v1/shopper/mall/items/%v", r.JSON()["item"].(map[string]any)["id"])
			redeem := func(key string) *apptest.Response {
				return h.Do("POST", item+"/redemptions", nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
			}
			if r := redeem("warm"); r.Status != 201 {
				t.Fatalf("redeem with Redis up: %d %s", r.Status, r.Body)
			}
			mine := func() int {
				rs, _, err := h.App.Mall.MyRedemptions(context.Background(), id, 100, 0)
				if err != nil {
					t.Fatalf("my redemptions: %v", err)
				}
				return len(rs)
			}

			if mode == "down" {
				env.RedisProxy.Cut()
			} else {
				env.RedisProxy.Stall()
			}
			// A stalled Redis never answers: without the command deadline
			// (redis.timeout, a few hundred ms per request at most) these
			// would hang. The bound only has to tell "ended at a deadline"
			// from "hung", with room for a loaded CI machine's scheduling.
			timed := func(name string, do func() *apptest.Response) *apptest.Response {
				start := time.Now()
				r := do()
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("%s with Redis %s took %v", name, mode, d)
				}
				return r
			}
			ok := []struct {
				name string
				do   func() *apptest.Response
			}{
				{"me", func() *apptest.Response { return h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...) }},
				{"entries", func() *apptest.Response {
					return h.Do("GET", "/api/v1/shopper/points/entries", nil, apptest.Auth(tok)...)
				}},
				{"signin", func() *apptest.Response { return h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)...) }},
				{"calendar", func() *apptest.Response {
					return h.Do("GET", "/api/v1/shopper/signin/calendar?month=2026-11", nil, apptest.Auth(tok)...)
				}},
				{"earn", func() *apptest.Response { return adjust("earn") }},
				{"spend", func() *apptest.Response {
					return h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"2026-11-22"}`, apptest.Auth(tok)...)
				}},
				{"readyz", func() *apptest.Response { return h.Do("GET", "/readyz", nil) }},
				{"mall items", func() *apptest.Response { return h.Do("GET", "/api/v1/shopper/mall/items", nil, apptest.Auth(tok)...) }},
				{"mall item", func() *apptest.Response { return h.Do("GET", item, nil, apptest.Auth(tok)...) }},
			}
			for round := 0; round < 2; round++ { // the second round meets an open circuit
				for _, c := range ok {
					if r := timed(c.name, c.do); r.Status >= 300 && r.Status != 409 {
						t.Errorf("%s with Redis %s (round %d): %d %s", c.name, mode, round, r.Status, r.Body)
					}
				}
				r := timed("draw", func() *apptest.Response { return draw(fmt.Sprintf("down-%d", round)) })
				if r.Status != 503 || r.ErrorCode() != "UNAVAILABLE" || r.Header.Get("Retry-After") == "" {
					t.Errorf("draw with Redis %s: %d %s Retry-After=%q; want 503 UNAVAILABLE with Retry-After",
						mode, r.Status, r.Body, r.Header.Get("Retry-After"))
				}
				before, bal := mine(), h.App.Ledger
				b0, _ := bal.Balance(context.Background(), id)
				r = timed("redeem", func() *apptest.Response { return redeem(fmt.Sprintf("down-%d", round)) })
				if r.Status != 503 || r.ErrorCode() != "UNAVAILABLE" || r.Header.Get("Retry-After") == "" {
					t.Errorf("redeem with Redis %s: %d %s Retry-After=%q; want 503 UNAVAILABLE with Retry-After",
						mode, r.Status, r.Body, r.Header.Get("Retry-After"))
				}
				if b1, _ := bal.Balance(context.Background(), id); mine() != before || b1.Available != b0.Available {
					t.Errorf("redeem with Redis %s wrote: %d redemptions (was %d), %d points (was %d)", mode, mine(), before, b1.Available, b0.Available)
				}
			}

			if mode == "down" {
				env.RedisProxy.Restore()
			} else {
				env.RedisProxy.Resume()
			}
			deadline := time.Now().Add(15 * time.Second)
			for i := 0; ; i++ {
				r := draw(fmt.Sprintf("back-%d", i))
				if r.Status == 201 {
					break
				}
				if r.Status != 503 || time.Now().After(deadline) {
					t.Fatalf("draw after Redis came back: %d %s", r.Status, r.Body)
				}
				time.Sleep(250 * time.Millisecond)
			}
			// The 503s wrote nothing, so the same key redeems now.
			if r := redeem("down-0"); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("redeem after Redis came back: %d %s", r.Status, r.Body)
			}
		})
	}
}

// A logout made on an instance that cannot reach Redis is refused on every
// instance within about a second (sessionstore.Denylist: the denial whose
// copy failed is copied from the database by whichever instance reaches
// Redis), although the denylist's ready key stayed in Redis and the other
// instances trust it. Two instances share one database and one Redis; the
// first one's link to Redis is cut.
func TestLogoutWithoutRedisEndsTheSessionOnEveryInstance(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.WithProxies())
	a := apptest.NewOn(t, env)
	b := a.Instance(env.Instance(t))
	tok, refresh, _ := a.Login(apptest.UniqueUser("lgout"))
	me := func(h *apptest.Harness) *apptest.Response {
		return h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
	}
	// Both instances have read the denylist through Redis: it is built.
	for name, h := range map[string]*apptest.Harness{"a": a, "b": b} {
		if r := me(h); r.Status != 200 {
			t.Fatalf("/me on %s before the logout: %d %s", name, r.Status, r.Body)
		}
	}

	env.RedisProxy.Cut()
	if r := a.Do("POST", "/api/v1/shopper/logout", map[string]string{"refresh_token": refresh}); r.Status != http.StatusNoContent {
		t.Fatalf("logout on a without Redis: %d %s", r.Status, r.Body)
	}
	if r := me(a); r.Status != 401 {
		t.Errorf("/me on a (no Redis: the database answers) after the logout: %d %s", r.Status, r.Body)
	}
	start := time.Now()
	for {
		r := me(b)
		if r.Status == 401 && r.ErrorCode() == "UNAUTHORIZED" {
			break
		}
		if r.Status != 200 || time.Since(start) > 10*time.Second {
			t.Fatalf("/me on b %v after a logout made on a without Redis: %d %s; want 401 within about a second", time.Since(start), r.Status, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("b refused the logged-out token only after %v; want about a second", took)
	}
	if r := b.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)...); r.Status != 401 {
		t.Errorf("sign-in on b with the logged-out token: %d %s", r.Status, r.Body)
	}

	// a's Redis comes back (its breaker may first wait out its cooldown):
	// the token stays refused there too, as Redis now holds the denial.
	env.RedisProxy.Restore()
	for end := time.Now().Add(7 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		for name, h := range map[string]*apptest.Harness{"a": a, "b": b} {
			if r := me(h); r.Status != 401 {
				t.Fatalf("/me on %s after a's Redis came back: %d %s", name, r.Status, r.Body)
			}
		}
	}
}
