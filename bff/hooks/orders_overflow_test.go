package hooks_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// Amounts at the edges of int64 and of the ledger, and an order whose
// amount is in range but whose points under the highest allowed rate are
// not: each answers 400 INVALID naming the field and writes nothing.
func TestOrderAmountsOutOfRangeAreInvalidAndWriteNothing(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("admin"), `{"name":"高倍","trigger":"order_paid","effect":{"kind":"rate","brackets":[{"from_fen":0,"per_mille":1000000}]}}`)
	_, _, id := h.Login(apptest.UniqueUser("ovf"))
	now := h.Clock.Now()
	cases := []struct {
		name, field string
		event       map[string]any
		specValid   bool // false: docs/openapi.yaml forbids it already (a negative line)
	}{
		{"points of a huge order under the top rate", "total_fen", paid("o1", "O-1", byID(id), now, 1_000_000_000_000), true},
		{"total past the range", "total_fen", paid("o2", "O-2", byID(id), now, 1_000_000_000_001), true},
		{"MinInt64 total", "total_fen", paid("o3", "O-3", byID(id), now, math.MinInt64), false},
		{"line past the range", "lines[0].amount_fen", withTotal(paid("o4", "O-4", byID(id), now, 1_000_000_000_001)), true},
		{"lines summing past the range", "lines", withTotal(paid("o5", "O-5", byID(id), now, 600_000_000_000, 600_000_000_000)), true},
		{"lines summing past int64", "lines[1].amount_fen", withTotal(paid("o6", "O-6", byID(id), now, 1, math.MaxInt64)), true},
		{"MinInt64 line", "lines[0].amount_fen", withTotal(paid("o7", "O-7", byID(id), now, math.MinInt64, 1000)), false},
	}
	for _, tc := range cases {
		r := postSpec(h, tc.specValid, tc.event)
		e, _ := r.JSON()["error"].(map[string]any)
		fields, _ := e["fields"].(map[string]any)
		if r.Status != 400 || r.ErrorCode() != "INVALID" || fields[tc.field] == nil {
			t.Errorf("%s: %d %s, want 400 INVALID naming %s", tc.name, r.Status, r.Body, tc.field)
		}
	}
	for _, table := range []string{"order_events", "orders", "ledger_entries", "ledger_lots", "member_tiers", "rule_usage"} {
		if n := count(t, h, table); n != 0 {
			t.Errorf("%s has %d rows after refused requests", table, n)
		}
	}
	if r := post(h, paid("o8", "O-8", byID(id), now, 1000)); r.Status != 200 {
		t.Fatalf("an order in range: %d %s", r.Status, r.Body)
	}
	if b := balance(h, id); b.Pending != 10_000 {
		t.Fatalf("pending %v, want 10 yuan × 1000 points", fmt.Sprint(b))
	}
}

// withTotal sets a total in range, so the lines are what is wrong.
func withTotal(event map[string]any) map[string]any {
	event["total_fen"] = 1000
	return event
}
