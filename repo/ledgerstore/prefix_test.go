package ledgerstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/ledgerstore"
)

// Group-committed spends read a member's active lots only up to a hint
// learnt from an earlier full read (on MySQL; elsewhere they read all).
// Whatever is read, every spend must take the lots that expire first, a
// lot earned later that expires earlier than the hint included, and a
// spend the prefix cannot pay must read the rest.
func TestGroupSpendsTakeLotsFirstToExpireFirst(t *testing.T) {
	f := newFixture(t)
	const m = 42
	lots := f.sixLots(m)
	wantAlloc := f.wantAlloc
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
	f.wantBounded()
}

// wantBounded asserts that on MySQL some group read of lots stopped at a
// bound (the path the tests above are about; SQLite and a portable store
// read every lot).
func (f *fixture) wantBounded() {
	f.t.Helper()
	st := f.svc.Store.(*ledgerstore.Store)
	if n := st.BoundedLotReads(); f.env.DB.Dialect() == repo.MySQL && !f.env.DB.IsPortable() && n == 0 {
		f.t.Fatal("no group read of lots was bounded on MySQL")
	}
}

// Two spends of one member in one Apply: the first paid from the bounded
// read, the second reading the rest in the same transaction; both FIFO.
func TestApplySpendsPastTheBound(t *testing.T) {
	f := newFixture(t)
	const m = 43
	lots := f.sixLots(m)
	spend := func(n int64, ref string) ledger.Op {
		return ledger.Op{Spend: &ledger.SpendInput{MemberID: m, Points: n, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: ref}}}
	}
	apply := func(ops ...ledger.Op) []ledger.Entry {
		t.Helper()
		es, errs, err := f.svc.Apply(f.ctx, ops)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range errs {
			if e != nil {
				t.Fatalf("op %d: %v", i, e)
			}
		}
		return es
	}
	apply(spend(1, "a")) // reads every lot: the bound is the 4th
	es := apply(spend(25, "b"), spend(20, "c"))
	f.wantAlloc(es[0].ID, map[int64]int64{lots[0]: 9, lots[1]: 10, lots[2]: 6})
	f.wantAlloc(es[1].ID, map[int64]int64{lots[2]: 4, lots[3]: 10, lots[4]: 6})
	f.want(m, 14, 0, 0, 0)
	f.wantBounded()
}

// wantAlloc asserts the points entry e took from each lot.
func (f *fixture) wantAlloc(e int64, want map[int64]int64) {
	f.t.Helper()
	var rs []struct{ LotID, Amount int64 }
	if err := f.env.DB.Conn(f.ctx).Raw("SELECT lot_id, amount FROM ledger_allocations WHERE entry_id = ?", e).Scan(&rs).Error; err != nil {
		f.t.Fatal(err)
	}
	got := map[int64]int64{}
	for _, r := range rs {
		got[r.LotID] = r.Amount
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		f.t.Fatalf("entry %d took %v, want %v", e, got, want)
	}
}

// sixLots earns the member six lots of 10 points, the first expiring
// first, and returns their ids.
func (f *fixture) sixLots(m int64) [6]int64 {
	var lots [6]int64
	for i := range lots {
		lots[i] = f.lotOf(f.earn(m, 10, fmt.Sprint("L", i+1), day*time.Duration(30+i)).ID)
	}
	return lots
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

// Writes made one by one (console adjustments, holds, reversals, spends
// inside a caller's transaction) read a member's active lots only as far
// as they use them: the first page, or up to the member's hint, then page
// after page while the lots read do not pay. Whatever they read, they take
// the lots that expire first.
func TestOneByOneWritesTakeLotsFirstToExpireFirst(t *testing.T) {
	f := newFixtureAlone(t)
	const m = 44
	var lots [40]int64 // 40 lots of 10 points, the first expiring first
	for i := range lots {
		lots[i] = f.lotOf(f.earn(m, 10, fmt.Sprint("L", i+1), day*time.Duration(30+i)).ID)
	}
	adjust := func(n int64) int64 {
		t.Helper()
		e, err := f.svc.Adjust(f.ctx, ledger.AdjustInput{MemberID: m, Points: -n, Key: f.key(), Operator: "op", Reason: "test"})
		if err != nil {
			t.Fatalf("adjust −%d: %v", n, err)
		}
		return e.ID
	}
	f.wantAlloc(adjust(5), map[int64]int64{lots[0]: 5})
	// Past the first page (16 lots) and the hint it taught.
	want := map[int64]int64{lots[0]: 5}
	for i := 1; i <= 19; i++ {
		want[lots[i]] = 10
	}
	f.wantAlloc(adjust(195), want)
	f.wantAlloc(adjust(12), map[int64]int64{lots[20]: 10, lots[21]: 2})
	// A lot earned now that expires before every other is taken first.
	early := f.lotOf(f.earn(m, 7, "E", 2*day).ID)
	f.wantAlloc(adjust(9), map[int64]int64{early: 7, lots[21]: 2})
	// A hold takes lots too, and a reversal of an earn takes the rest of
	// what it needs from the lots that expire first.
	h, err := f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: m, Points: 16, Key: f.key(), Ref: ledger.Ref{Type: "checkout", ID: "c1"}})
	if err != nil {
		t.Fatal(err)
	}
	f.wantAlloc(h.ID, map[int64]int64{lots[21]: 6, lots[22]: 10})
	if _, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: m, Of: ledger.Ref{Type: "order", ID: "E"}, Key: f.key()}); err != nil {
		t.Fatal(err)
	}
	// Not enough points: refused, however many lots there are.
	if _, err := f.svc.Adjust(f.ctx, ledger.AdjustInput{MemberID: m, Points: -1000, Key: f.key(), Operator: "op", Reason: "test"}); domain.ErrorCode(err) != domain.PointsInsufficient {
		t.Fatalf("adjust −1000: %v", err)
	}
	// Some lots expire: the next debit settles them first, then pays from
	// the lots after them.
	// (407 earned, 221 debited, 16 held, 7 reversed from lots[23]; lots
	// up to lots[25] are due: 3 + 10 + 10 expire.)
	f.clock.Advance(55 * day)
	f.wantAlloc(adjust(3), map[int64]int64{lots[26]: 3})
	f.want(m, 407-221-16-7-23-3, 0, 16, 0)
}

// A member's thousand lots cost a one-by-one spend no more reads than a
// few: after the first page, each spend of a point reads the lots up to
// the member's hint (a few), not every live lot.
func TestOneByOneSpendsReadFewLots(t *testing.T) {
	f := newFixtureAlone(t)
	const m = 45
	ops := make([]ledger.Op, 0, 1000)
	for i := 0; i < 1000; i++ {
		ops = append(ops, ledger.Op{Earn: &ledger.EarnInput{MemberID: m, Points: 3, Key: f.key(),
			Ref: ledger.Ref{Type: "order", ID: fmt.Sprint("L", i)}, ExpiresAt: f.clock.Now().Add(day * time.Duration(30+i))}})
	}
	if _, errs, err := f.svc.Apply(f.ctx, ops); err != nil || errs[0] != nil {
		t.Fatal(err, errs[0])
	}
	st := f.svc.Store.(*ledgerstore.Store)
	before := st.LotsRead()
	const spends = 60 // 20 lots' worth
	for i := 0; i < spends; i++ {
		f.mustSpend(m, 1, fmt.Sprint("s", i))
	}
	if n := st.LotsRead() - before; n > 10*spends {
		t.Fatalf("%d spends of 1 point read %d lots, want at most %d", spends, n, 10*spends)
	}
	f.want(m, 3000-spends, 0, 0, 0)
}

// The balance's expiring summary adds up the lots of each of the next
// three Shanghai days, however many lots expire on each (it reads sums per
// expiry instant a page at a time), and leaves out points that never
// expire.
func TestBalanceSumsTheNextThreeExpiryDays(t *testing.T) {
	f := newFixture(t)
	const m = 46
	ops := []ledger.Op{{Earn: &ledger.EarnInput{MemberID: m, Points: 1000, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: "never"}, ExpiresAt: ledger.Never}}}
	// 4 days × 10 hourly instants × 2 lots of 1 point (80 lots, 40 instants),
	// the days starting at 00:00 Shanghai.
	start := time.Date(2026, 12, 10, 0, 0, 0, 0, domain.Shanghai)
	for d := 0; d < 4; d++ {
		for h := 0; h < 10; h++ {
			for k := 0; k < 2; k++ {
				ops = append(ops, ledger.Op{Earn: &ledger.EarnInput{MemberID: m, Points: int64(1 + d), Key: f.key(),
					Ref: ledger.Ref{Type: "order", ID: fmt.Sprint(d, h, k)}, ExpiresAt: start.Add(time.Duration(d)*day + time.Duration(2*h)*time.Hour)}})
			}
		}
	}
	if _, errs, err := f.svc.Apply(f.ctx, ops); err != nil || errs[0] != nil {
		t.Fatal(err, errs[0])
	}
	b := f.want(m, 1000+20*(1+2+3+4), 0, 0, 0)
	if len(b.Expiring) != 3 {
		t.Fatalf("expiring %+v, want 3 days", b.Expiring)
	}
	for d, e := range b.Expiring {
		if e.Amount != int64(20*(1+d)) || !e.ExpiresAt.Equal(start.Add(time.Duration(d)*day)) {
			t.Fatalf("day %d: %d at %s, want %d at %s", d, e.Amount, e.ExpiresAt, 20*(1+d), start.Add(time.Duration(d)*day))
		}
	}
	// Only the lot that never expires is left: nothing is expiring.
	f.mustSpend(m, 200, "all")
	if b := f.want(m, 1000, 0, 0, 0); len(b.Expiring) != 0 {
		t.Fatalf("expiring %+v, want none", b.Expiring)
	}
}

// A lot spent to nothing leaves the member's active lots (state spent),
// so spends do not walk past it again; a reversal of the spend makes it
// active again, with its expiry.
func TestSpentLotsLeaveTheActiveRangeAndReversalsReviveThem(t *testing.T) {
	f := newFixtureAlone(t)
	const m = 47
	a := f.lotOf(f.earn(m, 10, "A", 30*day).ID)
	b := f.lotOf(f.earn(m, 10, "B", 40*day).ID)
	state := func(lot int64) string {
		t.Helper()
		var s string
		if err := f.env.DB.Conn(f.ctx).Raw("SELECT state FROM ledger_lots WHERE id = ?", lot).Scan(&s).Error; err != nil {
			t.Fatal(err)
		}
		return s
	}
	f.mustSpend(m, 14, "S")
	if state(a) != "spent" || state(b) != "active" {
		t.Fatalf("after spending 14: lots %s, %s; want spent, active", state(a), state(b))
	}
	if _, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: m, Of: ledger.Ref{Type: "order", ID: "S"}, Points: 12, Key: f.key()}); err != nil {
		t.Fatal(err)
	}
	// Longest expiry first: B gets its 4 back, A 8 of its 10.
	if state(a) != "active" {
		t.Fatalf("lot A is %s after the reversal", state(a))
	}
	f.wantAlloc(f.mustSpend(m, 9, "T").ID, map[int64]int64{a: 8, b: 1})
	f.want(m, 9, 0, 0, 0)
}

// Spends queued behind one member's account lock read their bound before
// they queue. When the lots up to it run out, the spend holding the lock
// reads on and moves the bound; the spends behind it, still holding the
// old bound, must not each read the same next page again (they did: 16
// pages for every bound used up, with 16 clients).
func TestQueuedSpendsDoNotEachReadOn(t *testing.T) {
	f := newFixtureAlone(t)
	const m = 47
	ops := make([]ledger.Op, 0, 1000)
	for i := 0; i < 1000; i++ {
		ops = append(ops, ledger.Op{Earn: &ledger.EarnInput{MemberID: m, Points: 10, Key: f.key(),
			Ref: ledger.Ref{Type: "order", ID: fmt.Sprint("L", i)}, ExpiresAt: f.clock.Now().Add(day * time.Duration(30+i))}})
	}
	if _, errs, err := f.svc.Apply(f.ctx, ops); err != nil || errs[0] != nil {
		t.Fatal(err, errs[0])
	}
	f.mustSpend(m, 1, "first") // learns the member's bound
	st := f.svc.Store.(*ledgerstore.Store)
	before := st.LotPagesReadOn()
	const clients, each = 16, 10 // 160 points: 16 lots
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := f.spend(m, 1, fmt.Sprint("q", c, "-", i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	pages := st.LotPagesReadOn() - before
	t.Logf("%d spends read on %d times", clients*each, pages)
	if pages > 16 {
		t.Fatalf("%d spends of 1 point read on %d times; want at most one per lot used up (16)", clients*each, pages)
	}
	f.want(m, 10_000-1-clients*each, 0, 0, 0)
	// First to expire first: the first 16 lots are used up, and the 17th holds 9.
	var used []int64
	if err := f.env.DB.Conn(f.ctx).Raw("SELECT remaining FROM ledger_lots WHERE member_id = ? ORDER BY expires_at, id LIMIT 17", m).Scan(&used).Error; err != nil {
		t.Fatal(err)
	}
	for i, r := range used {
		if want := map[bool]int64{true: 0, false: 9}[i < 16]; r != want {
			t.Fatalf("lot %d holds %d, want %d: %v", i, r, want, used)
		}
	}
}

// A member's points earned over a year all expire at the end of one day:
// hundreds of lots with one expiry. A read bounded by a hint examines the
// lots up to the hint, not every lot of that expiry, on both paths (on
// MySQL, counted by the server's index condition attempts in the
// transaction's own session; elsewhere the reads are checked for what
// they return).
func TestBoundedLotReadsExamineFewLotsOfOneExpiry(t *testing.T) {
	f := newFixture(t)
	const m = 47
	exp := f.clock.Now().Add(300 * day)
	ops := make([]ledger.Op, 0, 300)
	for i := range 300 {
		ops = append(ops, ledger.Op{Earn: &ledger.EarnInput{MemberID: m, Points: 1, Key: f.key(),
			Ref: ledger.Ref{Type: "order", ID: fmt.Sprint("Y", i)}, ExpiresAt: exp}})
	}
	if _, errs, err := f.svc.Apply(f.ctx, ops); err != nil || errs[0] != nil {
		t.Fatal(err, errs[0])
	}
	st := f.svc.Store.(*ledgerstore.Store)
	mysql := f.env.DB.Dialect() == repo.MySQL && !f.env.DB.IsPortable() // a portable store reads every lot
	attempts := func(ctx context.Context) int64 {
		var name string
		var n int64
		if err := f.env.DB.Conn(ctx).Raw("SHOW SESSION STATUS LIKE 'Handler_icp_attempts'").Row().Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// examined runs read in a transaction and returns the index entries it
	// examined (0 off MySQL) and the lots it returned.
	examined := func(read func(ctx context.Context) (ledger.LiveRead, error)) (int64, int) {
		var n int64
		var lots int
		err := f.env.DB.InTx(f.ctx, func(ctx context.Context) error {
			var before int64
			if mysql {
				before = attempts(ctx)
			}
			got, err := read(ctx)
			if mysql {
				n = attempts(ctx) - before
			}
			lots = len(got.Lots)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, lots
	}
	group := func(ctx context.Context) (ledger.LiveRead, error) {
		_, lots, err := st.LockAccounts(ctx, []int64{m}, map[int64]bool{m: true})
		return lots[m], err
	}
	one := func(ctx context.Context) (ledger.LiveRead, error) {
		var got ledger.LiveRead
		err := st.UpdateAccount(ctx, m, true, func(_ context.Context, _ *ledger.Account, lots ledger.LiveRead) error {
			got = lots
			return nil
		})
		return got, err
	}
	for name, read := range map[string]func(context.Context) (ledger.LiveRead, error){"group": group, "one by one": one} {
		for range 2 { // the first read may teach the hint
			examined(read)
		}
		n, lots := examined(read)
		if lots == 0 || n > 40 {
			t.Errorf("%s: a bounded read of a member with 300 lots of one expiry examined %d index entries and returned %d lots", name, n, lots)
		}
	}
	f.wantBounded()
}
