package ledgerstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// perMemberStore finds no account to expire in bulk, so ExpireMembers
// settles every member one by one as it did before the bulk path.
type perMemberStore struct{ ledger.Store }

func (perMemberStore) LockDueLots(context.Context, time.Time, []int64) ([]ledger.DueAccount, error) {
	return nil, nil
}

func (perMemberStore) SaveExpiries(_ context.Context, es []*ledger.MemberExpiry) error {
	if len(es) > 0 {
		return errors.New("the per-member twin expired members in bulk")
	}
	return nil
}

// expiryTwin builds the same ledger history in f with the given
// operations, on two fresh databases that then expire the same members: a
// runs the bulk path, b the per-member one.
type expiryTwin struct{ a, b *fixture }

func newExpiryTwin(t *testing.T) *expiryTwin {
	tw := &expiryTwin{a: newFixture(t), b: newFixture(t)}
	tw.b.svc.Store = perMemberStore{tw.b.svc.Store}
	return tw
}

func (tw *expiryTwin) both(op func(f *fixture)) { op(tw.a); op(tw.b) }

// expiryHistory gives members 1..9 the cases the bulk path must handle.
func expiryHistory(f *fixture, at time.Time) {
	t := f.t
	// 1: three due lots, partly spent, and one that is not due.
	f.earn(1, 100, "1a", 3*day)
	f.earn(1, 50, "1b", 5*day)
	f.earn(1, 30, "1c", 4*day)
	f.earn(1, 40, "1d", 30*day)
	f.mustSpend(1, 120, "1s")
	// 2: a lot expiring exactly at the expiry instant, one a second later.
	if _, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 2, Points: 70, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: "2a"}, ExpiresAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 2, Points: 9, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: "2b"}, ExpiresAt: at.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	// 3: a due lot and a pending lot that is not available yet.
	f.earn(3, 60, "3a", 2*day)
	if _, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 3, Points: 25, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: "3p"},
		AvailableAt: at.Add(5 * day), ExpiresAt: at.Add(60 * day)}); err != nil {
		t.Fatal(err)
	}
	// 4: debt, then an earning that pays part of it and is due.
	f.earn(4, 100, "4a", 100*day)
	f.mustSpend(4, 100, "4s")
	if _, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 4, Of: ledger.Ref{Type: "order", ID: "4a"}, Key: f.key()}); err != nil {
		t.Fatal(err)
	}
	f.earn(4, 130, "4b", 2*day)
	// 5: held points beside a due lot.
	f.earn(5, 200, "5a", 2*day)
	if _, err := f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: 5, Points: 80, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: "5h"},
		Deadline: at.Add(30 * day)}); err != nil {
		t.Fatal(err)
	}
	// 6: a pending lot that becomes available before the expiry, and a due
	// lot: the unlock goes first (settle, not the bulk statements).
	f.earn(6, 15, "6a", 2*day)
	if _, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 6, Points: 35, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: "6p"},
		AvailableAt: f.clock.Now().Add(day), ExpiresAt: at.Add(60 * day)}); err != nil {
		t.Fatal(err)
	}
	// 7: nothing due.
	f.earn(7, 10, "7a", 30*day)
	// 8: a due lot spent to zero, and a due one with points.
	f.earn(8, 20, "8a", 2*day)
	f.mustSpend(8, 20, "8s")
	f.earn(8, 5, "8b", 3*day)
	// 9: many due lots of one member.
	for i := range 12 {
		f.earn(9, int64(i+1), fmt.Sprintf("9-%d", i), time.Duration(i+1)*time.Hour)
	}
}

// ledgerRows is everything expiry may write, comparable across databases:
// entries are named by their key, not their id (the bulk path writes the
// members that need settle after the others, so ids may come in another
// order; within a member they still ascend).
type ledgerRows struct {
	Accounts    []string
	Entries     []string
	Lots        []string
	Allocations []string
}

func (f *fixture) rows() ledgerRows {
	f.t.Helper()
	db := f.env.DB.Conn(f.ctx)
	var r ledgerRows
	for _, q := range []struct {
		dst *[]string
		sql string
	}{
		{&r.Accounts, `SELECT member_id, available, pending, held, debt, lifetime_earned, version FROM ledger_accounts ORDER BY member_id`},
		{&r.Entries, `SELECT idem_key, member_id, kind, amount, delta, balance_after, ref_type, ref_id, related_id, title, operator, request_hash, reason
			FROM ledger_entries ORDER BY idem_key`},
		{&r.Lots, `SELECT id, member_id, entry_id, amount, remaining, expired, state FROM ledger_lots ORDER BY id`},
		{&r.Allocations, `SELECT e.idem_key, a.lot_id, a.amount FROM ledger_allocations a JOIN ledger_entries e ON e.id = a.entry_id ORDER BY e.idem_key, a.lot_id`},
	} {
		rows, err := db.Raw(q.sql).Rows()
		if err != nil {
			f.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				f.t.Fatal(err)
			}
			s := ""
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				s += fmt.Sprintf("%v|", v)
			}
			*q.dst = append(*q.dst, s)
		}
		rows.Close()
	}
	return r
}

// TestBulkExpiryWritesWhatSettleWrites expires a batch mixing every case
// (several due lots, partial remaining, pending lots due or not, debt,
// held points, a lot expiring exactly now, a fully spent due lot) with the
// bulk path and, on a twin database, member by member: the rows written
// are the same, the invariants hold, and a rerun expires nothing.
func TestBulkExpiryWritesWhatSettleWrites(t *testing.T) {
	t.Parallel()
	tw := newExpiryTwin(t)
	at := t0.Add(10 * day)
	tw.both(func(f *fixture) { expiryHistory(f, at) })
	tw.both(func(f *fixture) { f.clock.Set(at) })

	members := []int64{9, 1, 2, 3, 4, 5, 6, 7, 8, 42} // unsorted, and one without an account
	na, err := tw.a.svc.ExpireMembers(tw.a.ctx, at, members)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := tw.b.svc.ExpireMembers(tw.b.ctx, at, members)
	if err != nil {
		t.Fatal(err)
	}
	// 1: 1a, 1b, 1c (1a emptied by the spend) → 2 lots with points;
	// 2: 2a; 3: 3a; 4: 4b; 5: 5a; 6: 6a; 8: 8b; 9: 12.
	if na != nb || na != 2+1+1+1+1+1+1+12 {
		t.Fatalf("bulk expired %d lots, per-member %d, want 20", na, nb)
	}
	ra, rb := tw.a.rows(), tw.b.rows()
	if !reflect.DeepEqual(ra, rb) {
		for _, d := range []struct {
			name string
			a, b []string
		}{{"accounts", ra.Accounts, rb.Accounts}, {"entries", ra.Entries, rb.Entries}, {"lots", ra.Lots, rb.Lots}, {"allocations", ra.Allocations, rb.Allocations}} {
			if !reflect.DeepEqual(d.a, d.b) {
				t.Errorf("%s differ:\nbulk       %v\nper-member %v", d.name, d.a, d.b)
			}
		}
		t.FailNow()
	}

	f := tw.a
	f.want(1, 40, 0, 0, 0)
	f.want(2, 9, 0, 0, 0)
	f.want(3, 0, 25, 0, 0)
	f.want(5, 0, 0, 80, 0)
	f.want(6, 35, 0, 0, 0)
	f.want(7, 10, 0, 0, 0)
	f.want(8, 0, 0, 0, 0)
	f.want(9, 0, 0, 0, 0)
	bad := 0
	n, err := f.svc.CheckAll(f.ctx, 3, func(m int64, v []ledger.Violation) {
		if len(v) > 0 {
			bad++
			t.Errorf("member %d: %+v", m, v)
		}
	})
	// 10: settle gave member 42 an empty account, as it always has.
	if err != nil || n != 10 || bad != 0 {
		t.Fatalf("checked %d accounts (%v), %d broken", n, err, bad)
	}

	again, err := f.svc.ExpireMembers(f.ctx, at, members)
	if err != nil || again != 0 {
		t.Fatalf("rerun expired %d (%v), want 0", again, err)
	}
	if after := f.rows(); !reflect.DeepEqual(after, ra) {
		t.Fatal("a rerun changed the ledger")
	}
}

// TestBulkExpiryOfManyMembersSpansStatementChunks expires more members and
// lots than one multi-row statement holds and checks every account.
func TestBulkExpiryOfManyMembersSpansStatementChunks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const members = 620 // more than one 500-row chunk of accounts
	var want int
	for m := int64(1); m <= members; m++ {
		f.earn(m, 10, fmt.Sprintf("a%d", m), day)
		want++
		if m%2 == 0 {
			f.earn(m, 3, fmt.Sprintf("b%d", m), 2*day) // a second due lot: allocations span chunks too
			want++
		}
		if m%5 == 0 {
			f.earn(m, 4, fmt.Sprintf("c%d", m), 90*day)
		}
	}
	f.clock.Advance(3 * day)
	ids := make([]int64, 0, members)
	for m := int64(members); m >= 1; m-- {
		ids = append(ids, m)
	}
	n, err := f.svc.ExpireMembers(f.ctx, f.clock.Now(), ids)
	if err != nil || n != want {
		t.Fatalf("expired %d lots (%v), want %d", n, err, want)
	}
	for m := int64(1); m <= members; m++ {
		wantAvail := int64(0)
		if m%5 == 0 {
			wantAvail = 4
		}
		f.want(m, wantAvail, 0, 0, 0)
		es, err := f.svc.Store.Entries(f.ctx, m, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		amount := int64(10)
		if m%2 == 0 {
			amount = 13
		}
		if es[0].Kind != ledger.KindExpire || es[0].Amount != amount || es[0].Delta != -amount || es[0].BalanceAfter != wantAvail {
			t.Fatalf("member %d latest entry %+v, want an expire of %d leaving %d", m, es[0], amount, wantAvail)
		}
	}
}

// TestConcurrentBulkExpiryWithEarnsAndSpends races two bulk expiries of the
// same members (more overlap than the job's leased ranges ever give) with
// earnings, spends and holds on those members while the clock moves;
// afterwards every invariant holds for every account.
func TestConcurrentBulkExpiryWithEarnsAndSpends(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const members = 30
	ids := make([]int64, members)
	for m := int64(1); m <= members; m++ {
		ids[m-1] = m
		f.earn(m, 50, fmt.Sprint("seed", m), time.Duration(m)*10*time.Minute)
	}
	var wg sync.WaitGroup
	run := func(n int, fn func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				fn(i)
			}
		}()
	}
	for w := 0; w < 3; w++ {
		run(40, func(i int) {
			m := int64(1 + (w*41+i*7)%members)
			k := fmt.Sprintf("e%d-%d", w, i)
			if _, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: m, Points: 10, Key: k, Ref: ledger.Ref{Type: "order", ID: k},
				ExpiresAt: f.clock.Now().Add(time.Duration(1+i%4) * 20 * time.Minute)}); err != nil {
				t.Error(err)
			}
			k = fmt.Sprintf("s%d-%d", w, i)
			if _, err := f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: int64(1 + (w*13+i*11)%members), Points: 6, Key: k,
				Ref: ledger.Ref{Type: "draw", ID: k}}); err != nil && domain.ErrorCode(err) != domain.PointsInsufficient {
				t.Error(err)
			}
			k = fmt.Sprintf("h%d-%d", w, i)
			if _, err := f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: int64(1 + (w*17+i*5)%members), Points: 3, Key: k,
				Ref: ledger.Ref{Type: "order", ID: k}, Deadline: f.clock.Now().Add(day)}); err != nil && domain.ErrorCode(err) != domain.PointsInsufficient {
				t.Error(err)
			}
		})
	}
	for range 2 {
		run(15, func(i int) {
			f.clock.Advance(5 * time.Minute)
			if _, err := f.svc.ExpireMembers(f.ctx, f.clock.Now(), ids); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, m := range ids {
		f.clean(m)
	}
	f.clock.Advance(2 * day)
	if _, err := f.svc.ReleaseExpiredHolds(f.ctx, f.clock.Now(), 50); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ExpireMembers(f.ctx, f.clock.Now(), ids); err != nil {
		t.Fatal(err)
	}
	for _, m := range ids {
		f.want(m, 0, 0, 0, 0)
	}
}
