package console_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// Numbers at and past the edges of int64 and of the ledger's range. Each
// must answer 400 INVALID naming its field and write nothing; before the
// value types, a delta of math.MinInt64 was negated into itself and an
// adjustment left a balance of about −9.2×10^18.
var extremes = []int64{math.MinInt64, math.MinInt64 + 1, -1_000_000_000_001, 1_000_000_000_001, math.MaxInt64}

// tables every console write of this test may touch.
var consoleTables = []string{"ledger_entries", "ledger_lots", "ledger_accounts", "audit_log", "guides", "tasks",
	"lottery_campaigns", "lottery_prizes", "rules", "reminder_campaigns"}

func snapshot(t *testing.T, h *apptest.Harness) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, tb := range consoleTables {
		m[tb] = count(t, h, tb)
	}
	return m
}

func TestOutOfRangeNumbersAreInvalidAndWriteNothing(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, _, member := h.Login(apptest.UniqueUser("ovf"))
	admin := h.ConsoleLogin("admin")
	store := h.Do("POST", "/api/v1/console/stores", `{"name":"溢出店","robot_key":"robot-ovf"}`, apptest.Auth(admin)...)
	if store.Status != 201 {
		t.Fatalf("store: %d %s", store.Status, store.Body)
	}
	storeID := int64(store.JSON()["store"].(map[string]any)["id"].(float64))
	lottery := func(campaign, prize string) string {
		return `{"name":"x","starts_at":"2026-11-23T00:00:00Z","ends_at":"2026-12-23T00:00:00Z",` + campaign +
			`"prizes":[{"name":"p","kind":"points","weight":1,` + prize + `}]}`
	}
	rate := func(from, to, pm string) string {
		return `{"name":"x","trigger":"order_paid","effect":{"kind":"rate","brackets":[{"from_fen":` + from + `,"to_fen":` + to + `,"per_mille":` + pm + `}]}}`
	}
	// specMin / specMax: docs/openapi.yaml already forbids the negative /
	// the positive extremes of the field, so those requests are sent as
	// meant to be invalid (apptest checks the spec agrees).
	cases := []struct {
		name, path, field string
		body              func(v string) string
		specMin, specMax  bool
	}{
		{"adjustment delta", fmt.Sprintf("/api/v1/console/members/%d/adjustments", member), "delta",
			func(v string) string { return `{"delta":` + v + `,"reason":"x"}` }, false, false},
		{"guide monthly budget", "/api/v1/console/guides", "monthly_budget",
			func(v string) string {
				return fmt.Sprintf(`{"userid":"g-ovf","name":"导购","store_id":%d,"monthly_budget":%s}`, storeID, v)
			}, true, true},
		{"task reward", "/api/v1/console/tasks", "reward_points",
			func(v string) string {
				return `{"type":"share","title":"x","period":"once","target":1,"reward_points":` + v + `}`
			}, true, false},
		{"lottery cost", "/api/v1/console/lottery/campaigns", "cost_points",
			func(v string) string { return lottery(`"cost_points":`+v+`,`, `"points":1`) }, true, false},
		{"lottery consolation", "/api/v1/console/lottery/campaigns", "consolation_points",
			func(v string) string {
				return lottery(`"consolation_name":"c","consolation_points":`+v+`,`, `"points":1`)
			}, true, false},
		{"lottery prize points", "/api/v1/console/lottery/campaigns", "prizes[0].points",
			func(v string) string { return lottery(``, `"points":`+v) }, false, false},
		{"rule fixed points", "/api/v1/console/rules", "effect.points",
			func(v string) string {
				return `{"name":"x","trigger":"signin","effect":{"kind":"fixed","points":` + v + `}}`
			}, false, false},
		{"rule bracket from", "/api/v1/console/rules", "effect.brackets[0].from_fen",
			func(v string) string { return rate(v, "0", "1000") }, false, false},
		{"rule bracket rate", "/api/v1/console/rules", "effect.brackets[0].per_mille",
			func(v string) string { return rate("0", "0", v) }, false, false},
		{"rule budget", "/api/v1/console/rules", "budget",
			func(v string) string {
				return `{"name":"x","trigger":"signin","effect":{"kind":"fixed","points":1},"budget":` + v + `}`
			}, false, false},
		{"rule min amount", "/api/v1/console/rules", "conditions.min_amount_fen",
			func(v string) string {
				return `{"name":"x","trigger":"order_paid","effect":{"kind":"fixed","points":1},"conditions":{"min_amount_fen":` + v + `}}`
			}, false, false},
		{"campaign threshold", "/api/v1/console/campaigns", "audience.min_points",
			func(v string) string {
				return `{"name":"x","audience":{"expiring_within_days":7,"min_points":` + v + `}}`
			}, true, false},
		{"simulate amount", "/api/v1/console/rules/simulate", "order.total_fen",
			func(v string) string {
				return `{"trigger":"order_paid","order":{"total_fen":` + v + `,"lines":[{"sku":"a","amount_fen":1}]}}`
			}, false, false},
	}
	before := snapshot(t, h)
	for _, tc := range cases {
		for _, v := range extremes {
			val := fmt.Sprint(v)
			specValid := !(tc.specMin && v < 0) && !(tc.specMax && v > 0)
			r := h.Send(specValid, "POST", tc.path, tc.body(val), append(apptest.Auth(admin), "Idempotency-Key", "ovf-"+val)...)
			e, _ := r.JSON()["error"].(map[string]any)
			fields, _ := e["fields"].(map[string]any)
			if r.Status != 400 || r.ErrorCode() != "INVALID" || fields[tc.field] == nil {
				t.Errorf("%s = %s: %d %s, want 400 INVALID naming %s", tc.name, val, r.Status, r.Body, tc.field)
			}
		}
	}
	if after := snapshot(t, h); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("rows changed: before %v, after %v", before, after)
	}
	// The member's balance is untouched.
	r := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/ledger", member), nil, apptest.Auth(admin)...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"available":0`) {
		t.Errorf("ledger: %d %s", r.Status, r.Body)
	}
}

// An account whose totals are near the end of int64 (written there by hand:
// no request can get it there) refuses a credit that would wrap them,
// instead of storing a negative balance.
func TestCreditThatWouldWrapTheAccountIsRefused(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, _, member := h.Login(apptest.UniqueUser("wrap"))
	admin := h.ConsoleLogin("admin")
	path := fmt.Sprintf("/api/v1/console/members/%d/adjustments", member)
	if r := h.Do("POST", path, `{"delta":1,"reason":"开户"}`, append(apptest.Auth(admin), "Idempotency-Key", "w1")...); r.Status != 201 {
		t.Fatalf("first adjustment: %d %s", r.Status, r.Body)
	}
	db := h.Env.DB.Conn(context.Background())
	if err := db.Exec("UPDATE ledger_accounts SET pending = ? WHERE member_id = ?", int64(math.MaxInt64-10), member).Error; err != nil {
		t.Fatal(err)
	}
	entries := count(t, h, "ledger_entries")
	r := h.Do("POST", path, `{"delta":1000000000000,"reason":"x"}`, append(apptest.Auth(admin), "Idempotency-Key", "w2")...)
	if r.Status != 400 || r.ErrorCode() != "INVALID" {
		t.Fatalf("credit past int64: %d %s", r.Status, r.Body)
	}
	if n := count(t, h, "ledger_entries"); n != entries {
		t.Fatalf("entries %d → %d", entries, n)
	}
}
