package hooks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/adjustment"
	"github.com/jifen/jifen/domain/ledger"
)

func dayEnd(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 23, 59, 59, 0, domain.Shanghai)
}

// expiresAt is the expiry of the member's only lot, read back from the
// store (the zero time when the member has no expiring points).
func expiresAt(t *testing.T, h *apptest.Harness, memberID int64) (time.Time, int64) {
	t.Helper()
	b, err := h.App.Ledger.Balance(context.Background(), memberID)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Expiring) == 0 {
		return time.Time{}, b.Available
	}
	return b.Expiring[0].ExpiresAt, b.Available
}

// Each earning source gets the expiry policy configured for it, through
// the real paths and stores; a source that says never keeps its points
// through the expiry job, out of the reminders' audiences, with reconcile
// clean.
func TestEachEarningSourceGetsItsConfiguredExpiry(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret, func(c *configs.Config) {
		c.Orders.ExpiryPolicy = "end_of_year"
		c.Orders.ReturnWindow = 0
		c.Console.ExpiryPolicy = "end_of_month"
		c.Engage.Signin.ExpiryPolicy = "never"
		c.Lottery.ExpiryPolicy = "days:10"
		c.Tasks.ExpiryPolicy = "months:3"
		c.Guides.ExpiryPolicy = "end_of_next_year"
	})
	admin := h.ConsoleLogin("admin")
	createRule(h, admin, baseRule)
	// apptest.Start is Monday 2026-11-23 10:00 in Shanghai.

	_, _, buyer := h.Login(apptest.UniqueUser("exp-order"))
	if r := post(h, paid("exp-1", "O-EXP", byID(buyer), h.Clock.Now(), 5000)); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}

	_, _, adjusted := h.Login(apptest.UniqueUser("exp-adj"))
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", adjusted), `{"delta":70,"reason":"补偿"}`,
		append(apptest.Auth(admin), "Idempotency-Key", "exp-adj")...); r.Status != 201 {
		t.Fatalf("adjust: %d %s", r.Status, r.Body)
	}

	_, _, granted := h.Login(apptest.UniqueUser("exp-guide"))
	if _, err := h.App.Adjust.Adjust(t.Context(), adjustment.Actor{Name: "g1", Role: "guide"},
		adjustment.Request{MemberID: granted, Delta: 30, Reason: "到店", Key: "guide:exp"}); err != nil {
		t.Fatal(err)
	}

	signTok, _, signer := h.Login(apptest.UniqueUser("exp-sign"))
	if r := h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(signTok)...); r.Status != 200 && r.Status != 201 {
		t.Fatalf("signin: %d %s", r.Status, r.Body)
	}

	r := h.Do("POST", "/api/v1/console/lottery/campaigns", `{"name":"必中","starts_at":"2026-11-23T00:00:00+08:00","ends_at":"2026-12-23T00:00:00+08:00",
		"free_per_day":1,"prizes":[{"name":"8积分","kind":"points","points":8,"weight":1}]}`, apptest.Auth(admin)...)
	if r.Status != 201 {
		t.Fatalf("campaign: %d %s", r.Status, r.Body)
	}
	campaign := int64(r.JSON()["campaign"].(map[string]any)["id"].(float64))
	drawTok, _, drawer := h.Login(apptest.UniqueUser("exp-draw"))
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", campaign), nil,
		append(apptest.Auth(drawTok), "Idempotency-Key", "exp-draw")...); r.Status != 201 && r.Status != 200 {
		t.Fatalf("draw: %d %s", r.Status, r.Body)
	}

	if r := h.Do("POST", "/api/v1/console/tasks", `{"type":"share","title":"分享","period":"once","target":1,"reward_points":15}`, apptest.Auth(admin)...); r.Status != 201 {
		t.Fatalf("task: %d %s", r.Status, r.Body)
	}
	taskID := int64(h.Do("GET", "/api/v1/console/tasks", nil, apptest.Auth(admin)...).JSON()["tasks"].([]any)[0].(map[string]any)["id"].(float64))
	taskTok, _, tasker := h.Login(apptest.UniqueUser("exp-task"))
	if r := h.Do("POST", "/api/v1/shopper/events/share", `{"page":"/pages/home"}`, apptest.Auth(taskTok)...); r.Status != 200 {
		t.Fatalf("share: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/claim", taskID), nil, append(apptest.Auth(taskTok), "Idempotency-Key", "exp-task")...); r.Status != 201 {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}

	cases := []struct {
		source string
		member int64
		want   time.Time
		points int64
	}{
		{"orders: end_of_year", buyer, dayEnd(2026, 12, 31), 50},
		{"console: end_of_month", adjusted, dayEnd(2026, 11, 30), 70},
		{"guide grants: end_of_next_year", granted, dayEnd(2027, 12, 31), 30},
		{"lottery: days:10", drawer, dayEnd(2026, 12, 3), 8},
		{"tasks: months:3", tasker, dayEnd(2027, 2, 23), 15},
		{"signin: never", signer, time.Time{}, 10},
	}
	for _, c := range cases {
		got, avail := expiresAt(t, h, c.member)
		if !got.Equal(c.want) || avail != c.points {
			t.Errorf("%s: %d points expiring %v, want %d expiring %v", c.source, avail, got.In(domain.Shanghai), c.points, c.want)
		}
	}

	// Twenty years on: the expiry job expires everything but the sign-in
	// points, no reminder audience counts them, and reconcile is clean.
	later := h.Clock.Now().AddDate(20, 0, 0)
	h.Clock.Set(later)
	if _, err := h.App.Reminder.Expiry.Run(t.Context(), later); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		b, err := h.App.Ledger.Balance(t.Context(), c.member)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(0)
		if c.member == signer {
			want = c.points
		}
		if b.Available != want {
			t.Errorf("%s after 20 years: %d available, want %d", c.source, b.Available, want)
		}
		if vs, err := h.App.Ledger.Check(t.Context(), c.member); err != nil || len(vs) != 0 {
			t.Errorf("%s: reconcile %v %v", c.source, vs, err)
		}
	}
	soon, err := h.App.Ledger.ExpiringBetween(t.Context(), later, ledger.Never.AddDate(0, 0, -1), 0, 100)
	if err != nil || len(soon) != 0 {
		t.Errorf("expiring until the day before never: %v %v", soon, err)
	}
}
