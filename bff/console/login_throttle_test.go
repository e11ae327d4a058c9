package console_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
)

func auditCount(t *testing.T, h *apptest.Harness, action string) int64 {
	t.Helper()
	var n int64
	if err := h.Env.DB.Conn(context.Background()).Table("audit_log").Where("action = ?", action).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// Five wrong passwords lock the username for a minute: even the right
// password is then 429 with Retry-After, each attempt is audited, and the
// lock ends on the clock.
func TestConsoleLoginLocksAfterFiveFailures(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	login := func(pw string) *apptest.Response {
		return h.Do("POST", "/api/v1/console/login", map[string]string{"username": "marketer", "password": pw})
	}
	for i := 0; i < 5; i++ {
		if r := login("wrong"); r.Status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := login("marketer123")
	if r.Status != 429 || r.ErrorCode() != "RATE_LIMITED" || r.Header.Get("Retry-After") != "60" {
		t.Fatalf("right password while locked: %d %s Retry-After=%q; want 429 RATE_LIMITED 60", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if n := auditCount(t, h, "console.login_failed"); n != 5 {
		t.Errorf("%d failed-login audit rows, want 5", n)
	}
	if n := auditCount(t, h, "console.login_locked"); n != 1 {
		t.Errorf("%d locked-login audit rows, want 1", n)
	}
	h.Clock.Advance(61 * time.Second)
	if r := login("marketer123"); r.Status != 200 {
		t.Fatalf("after the lock: %d %s", r.Status, r.Body)
	}
}

// Failures against many usernames from one IP lock the IP.
func TestConsoleLoginLocksAnIP(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	for i := 0; i < 5; i++ {
		h.Do("POST", "/api/v1/console/login", map[string]string{"username": "nobody" + string(rune('a'+i)), "password": "x"})
	}
	r := h.Do("POST", "/api/v1/console/login", map[string]string{"username": "admin", "password": "admin123"})
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("admin from a locked IP: %d %s", r.Status, r.Body)
	}
}

// The lock grows: a minute, two, four … at most 15; with Redis down the
// instance still counts on its own.
func TestThrottleGrowsAndSurvivesRedisDown(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	defer down.Close()
	clock := domain.NewFakeClock(apptest.Start)
	th := &console.Throttle{Redis: down, Clock: clock}
	ctx := context.Background()
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for round, w := range want {
		for i := 0; i < console.ThrottleEvery; i++ {
			if err := th.Check(ctx, "u", "10.0.0.1"); err != nil {
				t.Fatalf("round %d failure %d: locked early: %v", round, i, err)
			}
			th.Failed(ctx, "u", "10.0.0.1")
		}
		err := th.Check(ctx, "u", "10.0.0.1")
		if got := console.RetryAfterSeconds(err); got != strconv.FormatInt(int64(w/time.Second), 10) {
			t.Fatalf("round %d: Retry-After %q, want %d s", round, got, int64(w/time.Second))
		}
		clock.Advance(w)
	}
}
