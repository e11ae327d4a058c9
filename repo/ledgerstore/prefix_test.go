package ledgerstore_test

import (
	"fmt"
	"testing"
	"time"
)

// Group-committed spends read a member's active lots only up to a hint
// learnt from an earlier full read (on MySQL; elsewhere they read all).
// Whatever is read, every spend must take the lots that expire first, a
// lot earned later that expires earlier than the hint included, and a
// spend the prefix cannot pay must read the rest.
func TestGroupSpendsTakeLotsFirstToExpireFirst(t *testing.T) {
	f := newFixture(t)
	const m = 42
	// Six lots of 10, L1 expiring first.
	var lots [6]int64
	for i := range lots {
		lots[i] = f.lotOf(f.earn(m, 10, fmt.Sprint("L", i+1), day*time.Duration(30+i)).ID)
	}
	alloc := func(e int64) map[int64]int64 {
		t.Helper()
		var rs []struct{ LotID, Amount int64 }
		if err := f.env.DB.Conn(f.ctx).Raw("SELECT lot_id, amount FROM ledger_allocations WHERE entry_id = ?", e).Scan(&rs).Error; err != nil {
			t.Fatal(err)
		}
		out := map[int64]int64{}
		for _, r := range rs {
			out[r.LotID] = r.Amount
		}
		return out
	}
	wantAlloc := func(e int64, want map[int64]int64) {
		t.Helper()
		got := alloc(e)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("entry %d took %v, want %v", e, got, want)
		}
	}
	// A full read (no hint yet), then spends inside and beyond the prefix.
	wantAlloc(f.mustSpend(m, 5, "s1").ID, map[int64]int64{lots[0]: 5})
	wantAlloc(f.mustSpend(m, 35, "s2").ID, map[int64]int64{lots[0]: 5, lots[1]: 10, lots[2]: 10, lots[3]: 10})
	wantAlloc(f.mustSpend(m, 15, "s3").ID, map[int64]int64{lots[4]: 10, lots[5]: 5})
	// A lot earned now that expires before every other is taken first.
	early := f.lotOf(f.earn(m, 7, "E", 2*day).ID)
	wantAlloc(f.mustSpend(m, 9, "s4").ID, map[int64]int64{early: 7, lots[5]: 2})
	f.want(m, 3, 0, 0, 0)
	if _, err := f.spend(m, 4, "s5"); err == nil {
		t.Fatal("spent 4 of 3 points")
	}
	wantAlloc(f.mustSpend(m, 3, "s6").ID, map[int64]int64{lots[5]: 3})
	f.want(m, 0, 0, 0, 0)
	if groups, _ := f.svc.GroupStats(); groups == 0 {
		t.Fatal("the spends were not group-committed")
	}
}

// lotOf returns the id of the lot an earn entry made.
func (f *fixture) lotOf(entryID int64) int64 {
	f.t.Helper()
	var id int64
	if err := f.env.DB.Conn(f.ctx).Raw("SELECT id FROM ledger_lots WHERE entry_id = ?", entryID).Scan(&id).Error; err != nil || id == 0 {
		f.t.Fatalf("lot of entry %d: %d %v", entryID, id, err)
	}
	return id
}
