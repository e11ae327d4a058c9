package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

// adjustAnswer is what one POST …/adjustments answered.
type adjustAnswer struct {
	key      string
	status   int
	code     string
	entryID  int64
	replayed bool
}

// adjustConcurrently posts the adjustments (member, key, delta) from 16
// goroutines at once and returns the answers in the order given.
func adjustConcurrently(t *testing.T, h *apptest.Harness, admin string, reqs []adjustReq) []adjustAnswer {
	t.Helper()
	out := make([]adjustAnswer, len(reqs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				q := reqs[i]
				r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", q.member),
					fmt.Sprintf(`{"delta":%d,"reason":"并发"}`, q.delta), append(apptest.Auth(admin), "Idempotency-Key", q.key)...)
				a := adjustAnswer{key: q.key, status: r.Status, code: r.ErrorCode(), replayed: r.Header.Get("Idempotent-Replayed") == "true"}
				if e, ok := r.JSON()["entry"].(map[string]any); ok {
					a.entryID = int64(e["id"].(float64))
				}
				out[i] = a
			}
		}()
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

type adjustReq struct {
	member int64
	key    string
	delta  int64
}

// Console adjustments go through group commit: many on ONE member, from 16
// clients at once, with replays of their keys and more debits than points,
// come out exactly as one by one: the balance, one entry and one audit row
// per key, the same entry for a replay, 422 beyond the points, 409 for a
// key reused with another body.
func TestConcurrentAdjustmentsOnOneMemberAreGroupedExactly(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) {
		c.RateLimit.PerIPPerMinute, c.RateLimit.PerMemberPerMinute = 1_000_000, 1_000_000
	})
	if h.Config.Ledger.GroupCommits == 0 {
		t.Fatal("ledger.group_commits is 0 by default: nothing would be grouped")
	}
	_, _, hot := h.Login(apptest.UniqueUser("hot"))
	_, _, other := h.Login(apptest.UniqueUser("other"))
	admin := h.ConsoleLogin("admin")
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", hot), `{"delta":250,"reason":"seed"}`,
		append(apptest.Auth(admin), "Idempotency-Key", "seed")...); r.Status != 201 {
		t.Fatalf("seed: %d %s", r.Status, r.Body)
	}

	// 1. 200 debits of 1 on the hot member and 100 credits of 1 on another,
	// all at once: every one is applied.
	var reqs []adjustReq
	for i := range 200 {
		reqs = append(reqs, adjustReq{hot, fmt.Sprint("d-", i), -1})
	}
	for i := range 100 {
		reqs = append(reqs, adjustReq{other, fmt.Sprint("c-", i), 1})
	}
	rand.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	first := map[string]int64{}
	for _, a := range adjustConcurrently(t, h, admin, reqs) {
		if a.status != 201 || a.replayed {
			t.Fatalf("%s: %d %s replayed=%v", a.key, a.status, a.code, a.replayed)
		}
		first[a.key] = a.entryID
	}
	if groups, grouped := h.App.Adjust.GroupStats(); groups == 0 || grouped == 0 {
		t.Fatalf("group stats %d groups, %d adjustments: nothing was grouped", groups, grouped)
	} else {
		t.Logf("step 1: %d groups answered %d of the seed and 300 adjustments", groups, grouped)
	}
	if b := consoleBalance(t, h, admin, hot); b != 50 {
		t.Fatalf("hot member's balance %d, want 250 − 200 = 50", b)
	}

	// 2. Every key of step 1 again, with 100 new debits on the 50 points
	// left: the replays answer the same entry, 50 debits pass, 50 are 422.
	reqs = reqs[:0]
	for i := range 200 {
		reqs = append(reqs, adjustReq{hot, fmt.Sprint("d-", i), -1})
	}
	for i := range 100 {
		reqs = append(reqs, adjustReq{hot, fmt.Sprint("late-", i), -1}, adjustReq{other, fmt.Sprint("c-", i), 1})
	}
	rand.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	passed, refused := 0, 0
	for _, a := range adjustConcurrently(t, h, admin, reqs) {
		if id, seen := first[a.key]; seen {
			if a.status != 201 || !a.replayed || a.entryID != id {
				t.Errorf("replay of %s: %d %s replayed=%v entry %d, want 201, the same entry %d", a.key, a.status, a.code, a.replayed, a.entryID, id)
			}
			continue
		}
		switch {
		case a.status == 201 && !a.replayed:
			passed++
		case a.status == 422 && a.code == "POINTS_INSUFFICIENT":
			refused++
		default:
			t.Errorf("%s: %d %s replayed=%v", a.key, a.status, a.code, a.replayed)
		}
	}
	if passed != 50 || refused != 50 {
		t.Fatalf("new debits on 50 points: %d passed, %d refused, want 50 and 50", passed, refused)
	}

	// 3. A key reused with another body is 409, alone or in a group.
	reqs = reqs[:0]
	for i := range 20 {
		reqs = append(reqs, adjustReq{hot, fmt.Sprint("d-", i), -2}, adjustReq{other, fmt.Sprint("c2-", i), 1})
	}
	for _, a := range adjustConcurrently(t, h, admin, reqs) {
		if id, seen := first[a.key]; seen && (a.status != 409 || a.code != "IDEMPOTENCY_CONFLICT") {
			t.Errorf("%s with another delta: %d %s (entry %d, first %d)", a.key, a.status, a.code, a.entryID, id)
		} else if !seen && a.status != 201 {
			t.Errorf("%s: %d %s", a.key, a.status, a.code)
		}
	}

	if b := consoleBalance(t, h, admin, hot); b != 0 {
		t.Fatalf("hot member's balance %d, want 0", b)
	}
	if b := consoleBalance(t, h, admin, other); b != 120 {
		t.Fatalf("other member's balance %d, want 120", b)
	}
	// One entry and one audit row per key that passed; nothing for a refusal.
	ctx := context.Background()
	db := h.Env.DB.Conn(ctx)
	for member, want := range map[int64]int64{hot: 1 + 200 + 50, other: 120} {
		var entries, keys, audits int64
		if err := db.Table("ledger_entries").Where("member_id = ? AND kind = 'adjust'", member).Count(&entries).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Table("ledger_entries").Where("member_id = ? AND kind = 'adjust'", member).Distinct("idem_key").Count(&keys).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Table("audit_log").Where("target = ? AND action = 'points.adjust'", fmt.Sprint("member:", member)).Count(&audits).Error; err != nil {
			t.Fatal(err)
		}
		if entries != want || keys != want || audits != want {
			t.Errorf("member %d: %d entries, %d keys, %d audit rows, want %d each", member, entries, keys, audits, want)
		}
	}
	// Every audit row names its own entry, with the balance after it.
	var rows []struct {
		Target, Detail string
	}
	if err := db.Table("audit_log").Select("target, detail").Where("action = 'points.adjust' AND target IN ?",
		[]string{fmt.Sprint("member:", hot), fmt.Sprint("member:", other)}).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		ID, MemberID, BalanceAfter int64
	}
	if err := db.Table("ledger_entries").Select("id, member_id, balance_after").Where("kind = 'adjust' AND member_id IN ?", []int64{hot, other}).
		Find(&entries).Error; err != nil {
		t.Fatal(err)
	}
	named := map[int64]bool{}
	for _, r := range rows {
		var d struct {
			EntryID      int64 `json:"entry_id"`
			BalanceAfter int64 `json:"balance_after"`
		}
		if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
			t.Fatalf("audit detail %q: %v", r.Detail, err)
		}
		ok := false
		for _, e := range entries {
			if e.ID == d.EntryID && e.BalanceAfter == d.BalanceAfter && r.Target == fmt.Sprint("member:", e.MemberID) {
				ok = true
			}
		}
		if !ok || named[d.EntryID] {
			t.Errorf("audit row %s %s names no entry of its own", r.Target, r.Detail)
		}
		named[d.EntryID] = true
	}
	for _, m := range []int64{hot, other} {
		if v, err := h.App.Ledger.Check(ctx, m); err != nil || len(v) > 0 {
			t.Errorf("member %d invariants: %v %v", m, v, err)
		}
	}
}

// consoleBalance is the member's available points as the console shows them.
func consoleBalance(t *testing.T, h *apptest.Harness, tok string, member int64) int64 {
	t.Helper()
	r := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/ledger", member), nil, apptest.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("ledger of %d: %d %s", member, r.Status, r.Body)
	}
	return int64(r.JSON()["account"].(map[string]any)["available"].(float64))
}
