package guide_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// guide_budget_burn: guide A uses up the month's budget of 1,000 points in
// two grants ten minutes apart and is flagged once, on the review queue,
// with the guide as evidence and no member held; guide B grants the same
// 1,000 points in ten grants over a working day and is not flagged. A
// grant replayed with its key flags nothing more.
func TestGuideBudgetBurnFlag(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000)
	h := w.h
	a1 := w.shopper(apptest.UniqueUser("m"), w.a.Scene)
	a2 := w.shopper(apptest.UniqueUser("m"), w.a.Scene)
	var bs []int64
	for range 5 {
		bs = append(bs, w.shopper(apptest.UniqueUser("m"), w.b.Scene))
	}
	for i := range 10 { // B: 100 points at a time, one an hour
		w.bTok = w.login(w.b.UserID) // the clock moves past the token's life
		if r := grant(w, w.bTok, fmt.Sprint("b", i), fmt.Sprintf(`{"member_id":%d,"points":100,"reason":"到店体验"}`, bs[i%5])); r.Status != 201 {
			t.Fatalf("B grant %d: %d %s", i, r.Status, r.Body)
		}
		h.Clock.Advance(time.Hour)
	}
	w.aTok, w.admin = w.login(w.a.UserID), h.ConsoleLogin("admin")
	if r := grant(w, w.aTok, "a1", fmt.Sprintf(`{"member_id":%d,"points":500,"reason":"到店体验"}`, a1)); r.Status != 201 {
		t.Fatalf("A grant: %d %s", r.Status, r.Body)
	}
	h.Clock.Advance(10 * time.Minute)
	for range 2 { // the second time a replay
		if r := grant(w, w.aTok, "a2", fmt.Sprintf(`{"member_id":%d,"points":500,"reason":"到店体验"}`, a2)); r.Status != 201 && r.Status != 200 {
			t.Fatalf("A grant: %d %s", r.Status, r.Body)
		}
	}
	r := h.Do("GET", "/api/v1/console/risk/flags?status=open", nil, apptest.Auth(w.admin)...)
	if r.Status != 200 {
		t.Fatalf("flags: %d %s", r.Status, r.Body)
	}
	flags := r.JSON()["flags"].([]any)
	if len(flags) != 1 {
		t.Fatalf("%d flags, want 1 (guide A): %s", len(flags), r.Body)
	}
	f := flags[0].(map[string]any)
	ev, _ := f["evidence"].(map[string]any)
	if f["rule"] != "guide_budget_burn" || f["dimension"] != "guide" || f["key"] != fmt.Sprintf("guide %d", w.a.ID) ||
		f["member_id"].(float64) != 0 || f["count"].(float64) != 10 || f["max_per_hour"].(float64) != 60 || f["held"] != false ||
		ev == nil || ev["guide_id"].(float64) != float64(w.a.ID) || ev["used"].(float64) != 1000 || ev["last_member_id"].(float64) != float64(a2) {
		t.Fatalf("flag %s", r.Body)
	}
	for _, m := range []int64{a1, a2} {
		if r := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/risk", m), nil, apptest.Auth(w.admin)...); r.Status != 200 || r.JSON()["hold"] != nil {
			t.Fatalf("customer %d: %d %s", m, r.Status, r.Body)
		}
	}
	// Confirming it is audited on the guide.
	id := int64(f["id"].(float64))
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/risk/flags/%d/decision", id), `{"decision":"confirm","note":"budget gone in 10 minutes"}`, apptest.Auth(w.admin)...); r.Status != 200 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/console/audit?target=guide:%d", w.a.ID), nil, apptest.Auth(w.admin)...); r.Status != 200 || !contains(r.Body, "risk.flag.confirm") {
		t.Fatalf("audit of guide: %d %s", r.Status, r.Body)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// guide_concentration (at least 2,000 points in the month, more than 50%
// to one customer): guide A grants 200 to each of ten customers, then 500
// a day to one of them; the day that customer passes half (2,200 of
// 4,000) raises one flag naming the guide and the customer, the next day
// nothing more. Guide B grants the same 4,500 points spread over ten
// customers: none.
func TestGuideConcentrationFlag(t *testing.T) {
	t.Parallel()
	w := setup(t, 10000)
	h := w.h
	var as, bs []int64
	for range 10 {
		as = append(as, w.shopper(apptest.UniqueUser("m"), w.a.Scene))
		bs = append(bs, w.shopper(apptest.UniqueUser("m"), w.b.Scene))
	}
	give := func(tok string, key string, m, points int64) {
		t.Helper()
		if r := grant(w, tok, key, fmt.Sprintf(`{"member_id":%d,"points":%d,"reason":"到店体验"}`, m, points)); r.Status != 201 {
			t.Fatalf("grant %s: %d %s", key, r.Status, r.Body)
		}
	}
	for i := range 10 {
		give(w.aTok, fmt.Sprint("a", i), as[i], 200)
		give(w.bTok, fmt.Sprint("b", i), bs[i], 200)
	}
	flagsAfter := []int{0, 0, 0, 1, 1} // after each day's 500 to as[0]: 28%, 40%, 48%, 55%, 60%
	for day, want := range flagsAfter {
		h.Clock.Advance(24 * time.Hour)
		w.aTok, w.bTok, w.admin = w.login(w.a.UserID), w.login(w.b.UserID), h.ConsoleLogin("admin")
		give(w.aTok, fmt.Sprint("a-day", day), as[0], 500)
		give(w.bTok, fmt.Sprint("b-day", day), bs[day*2%10], 250)
		give(w.bTok, fmt.Sprint("b-day2", day), bs[(day*2+1)%10], 250)
		r := h.Do("GET", "/api/v1/console/risk/flags?status=open", nil, apptest.Auth(w.admin)...)
		if r.Status != 200 {
			t.Fatalf("flags: %d %s", r.Status, r.Body)
		}
		flags := r.JSON()["flags"].([]any)
		if len(flags) != want {
			t.Fatalf("day %d: %d flags, want %d: %s", day, len(flags), want, r.Body)
		}
		if want == 0 {
			continue
		}
		f := flags[0].(map[string]any)
		ev, _ := f["evidence"].(map[string]any)
		if f["rule"] != "guide_concentration" || f["key"] != fmt.Sprintf("guide %d to %d", w.a.ID, as[0]) || f["member_id"].(float64) != 0 ||
			f["count"].(float64) != 55 || f["max_per_hour"].(float64) != 50 || ev == nil || ev["member_points"].(float64) != 2200 ||
			ev["guide_points"].(float64) != 4000 || ev["guide_id"].(float64) != float64(w.a.ID) {
			t.Fatalf("flag %s", r.Body)
		}
	}
}
