package ledgerstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo/ledgerstore"
)

// Many members earn and spend at once: group commit must put several
// requests in one transaction and still give every request its own entry,
// every member the right balance and a clean Check.
func TestGroupCommitBatchesAndKeepsInvariants(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const members, rounds = 20, 15
	for m := int64(1); m <= members; m++ {
		f.earn(m, 1000, fmt.Sprint("seed", m), 30*day)
	}
	var wg sync.WaitGroup
	errs := make(chan error, members*rounds*2)
	for m := int64(1); m <= members; m++ {
		for r := 0; r < rounds; r++ {
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: m, Points: int64(r + 1), Key: fmt.Sprintf("e-%d-%d", m, r),
					Ref: ledger.Ref{Type: "order", ID: fmt.Sprint(r)}, ExpiresAt: f.clock.Now().Add(time.Duration(r+1) * day)})
				errs <- err
			}()
			go func() {
				defer wg.Done()
				_, err := f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: m, Points: 3, Key: fmt.Sprintf("s-%d-%d", m, r),
					Ref: ledger.Ref{Type: "draw", ID: fmt.Sprint(r)}})
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	earned := int64(rounds * (rounds + 1) / 2)
	for m := int64(1); m <= members; m++ {
		f.want(m, 1000+earned-3*rounds, 0, 0, 0)
		es, _, err := f.svc.Entries(f.ctx, m, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1+2*rounds {
			t.Fatalf("member %d: %d entries, want %d", m, len(es), 1+2*rounds)
		}
		// Balances after each entry replay the history in id order.
		var bal int64
		for i := len(es) - 1; i >= 0; i-- {
			bal += es[i].Delta
			if es[i].BalanceAfter != bal {
				t.Fatalf("member %d entry %d (%s): balance after %d, want %d", m, es[i].ID, es[i].Kind, es[i].BalanceAfter, bal)
			}
		}
	}
	batches, batched := f.svc.GroupStats()
	if batched == 0 || batches >= batched {
		t.Fatalf("group commit made %d batches for %d requests: nothing was grouped", batches, batched)
	}
	t.Logf("%d batches answered %d of %d requests", batches, batched, members*rounds*2)
}

// A request whose key a batch already committed is answered by the first
// result (or a conflict), exactly as without group commit.
func TestGroupCommitReplays(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 50, "seed", 30*day)
	in := ledger.SpendInput{MemberID: 1, Points: 30, Key: "spend-1", Ref: ledger.Ref{Type: "draw", ID: "1"}}
	first, err := f.svc.Spend(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	// Only 20 points are left: a fresh spend of 30 would fail, the replay
	// must not.
	again, err := f.svc.Spend(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.ID != first.ID || again.BalanceAfter != 20 {
		t.Fatalf("replay %+v of %+v", again, first)
	}
	in.Points = 5
	_, err = f.svc.Spend(f.ctx, in)
	wantCode(t, err, domain.IdempotencyConflict)
	_, err = f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: 1, Points: 30, Key: "spend-2", Ref: ledger.Ref{Type: "draw", ID: "2"}})
	wantCode(t, err, domain.PointsInsufficient)
	f.want(1, 20, 0, 0, 0)
}

// Apply commits many operations in the caller's transaction and answers
// each as Earn or Spend would have.
func TestApplyAnswersEachOperation(t *testing.T) {
	t.Parallel()
	f := newFixtureAlone(t)
	f.earn(1, 100, "seed1", 30*day)
	f.earn(2, 10, "seed2", 30*day)
	done, err := f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: 1, Points: 60, Key: "done", Ref: ledger.Ref{Type: "draw", ID: "done"}})
	if err != nil {
		t.Fatal(err)
	}
	exp := f.clock.Now().Add(10 * day)
	earn := func(m, n int64, key string) ledger.Op {
		return ledger.Op{Earn: &ledger.EarnInput{MemberID: m, Points: n, Key: key, Ref: ledger.Ref{Type: "signin", ID: key}, ExpiresAt: exp}}
	}
	spend := func(m, n int64, key string) ledger.Op {
		return ledger.Op{Spend: &ledger.SpendInput{MemberID: m, Points: n, Key: key, Ref: ledger.Ref{Type: "draw", ID: key}}}
	}
	ops := []ledger.Op{
		earn(1, 5, "a"),
		spend(2, 4, "b"),
		spend(2, 50, "c"),    // not enough points
		spend(1, 60, "done"), // a replay: answered though only 45 are left
		spend(1, 7, "done"),  // same key, other request
		earn(3, 9, "d"),      // a member with no account yet
		earn(1, 0, "e"),      // invalid
		{},                   // neither earn nor spend
	}
	var res []ledger.Entry
	var errs []error
	err = f.env.DB.InTx(f.ctx, func(ctx context.Context) error {
		var err error
		res, errs, err = f.svc.Apply(ctx, ops)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, res[0], ledger.KindEarn, 5, 5, 45)
	wantEntry(t, res[1], ledger.KindSpend, 4, -4, 6)
	wantCode(t, errs[2], domain.PointsInsufficient)
	if !res[3].Replayed || res[3].ID != done.ID || errs[3] != nil {
		t.Fatalf("replay: %+v %v", res[3], errs[3])
	}
	wantCode(t, errs[4], domain.IdempotencyConflict)
	wantEntry(t, res[5], ledger.KindEarn, 9, 9, 9)
	wantCode(t, errs[6], domain.Invalid)
	if errs[7] == nil {
		t.Fatal("an empty op was accepted")
	}
	for _, i := range []int{0, 1, 5} {
		if errs[i] != nil || res[i].ID == 0 {
			t.Fatalf("op %d: %+v %v", i, res[i], errs[i])
		}
	}
	f.want(1, 45, 0, 0, 0)
	f.want(2, 6, 0, 0, 0)
	f.want(3, 9, 0, 0, 0)

	// A caller that rolls back takes Apply's writes with it.
	_ = f.env.DB.InTx(f.ctx, func(ctx context.Context) error {
		if _, _, err := f.svc.Apply(ctx, []ledger.Op{earn(1, 1000, "rolled-back"), spend(2, 6, "rolled-back-2")}); err != nil {
			t.Fatal(err)
		}
		return errors.New("caller gives up")
	})
	f.want(1, 45, 0, 0, 0)
	f.want(2, 6, 0, 0, 0)

	// Operations with fresh keys are written as one batch, in order: the
	// spend sees the earn of the same member before it.
	err = f.env.DB.InTx(f.ctx, func(ctx context.Context) error {
		var err error
		res, errs, err = f.svc.Apply(ctx, []ledger.Op{earn(2, 20, "f"), spend(1, 40, "g"), spend(2, 3, "h"), earn(3, 1, "i")})
		return err
	})
	if err != nil || errs[0] != nil || errs[1] != nil || errs[2] != nil || errs[3] != nil {
		t.Fatal(err, errs)
	}
	wantEntry(t, res[0], ledger.KindEarn, 20, 20, 26)
	wantEntry(t, res[1], ledger.KindSpend, 40, -40, 5)
	wantEntry(t, res[2], ledger.KindSpend, 3, -3, 23)
	wantEntry(t, res[3], ledger.KindEarn, 1, 1, 10)
	f.want(1, 5, 0, 0, 0)
	f.want(2, 23, 0, 0, 0)
	f.want(3, 10, 0, 0, 0)
}

// oneByOne counts the writes that leave a group to run alone.
type oneByOne struct {
	*ledgerstore.Store
	alone atomic.Int64
}

func (o *oneByOne) UpdateAccount(ctx context.Context, memberID int64, withLots bool, fn func(ctx context.Context, a *ledger.Account, lots ledger.LiveRead) error) error {
	o.alone.Add(1)
	return o.Store.UpdateAccount(ctx, memberID, withLots, fn)
}

// A member's first earn (a new member signing in, a first order) is
// written with its group: the group opens the accounts the members do
// not have yet, instead of sending each of them alone to open its own.
func TestApplyOpensNewMembersAccountsInItsGroup(t *testing.T) {
	t.Parallel()
	f := newFixtureAlone(t)
	f.earn(1, 100, "seed1", 30*day) // member 1 has an account
	store := &oneByOne{Store: f.svc.Store.(*ledgerstore.Store)}
	f.svc.Store = store
	exp := f.clock.Now().Add(10 * day)
	var ops []ledger.Op
	for m := int64(1); m <= 12; m++ {
		key := fmt.Sprint("first-", m)
		ops = append(ops, ledger.Op{Earn: &ledger.EarnInput{MemberID: m, Points: 10 * m, Key: key, Ref: ledger.Ref{Type: "signin", ID: key}, ExpiresAt: exp}})
	}
	res, errs, err := f.svc.Apply(f.ctx, ops)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("op %d: %v", i, e)
		}
	}
	if n := store.alone.Load(); n != 0 {
		t.Fatalf("%d of 12 earns ran alone; want all in the group", n)
	}
	for m := int64(1); m <= 12; m++ {
		want := 10 * m
		if m == 1 {
			want += 100
		}
		if res[m-1].BalanceAfter != want {
			t.Fatalf("member %d: balance after %d, want %d", m, res[m-1].BalanceAfter, want)
		}
		f.want(m, want, 0, 0, 0)
	}
	// Replayed, the same operations answer the same entries and open nothing twice.
	again, _, err := f.svc.Apply(f.ctx, ops)
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if again[i].ID != res[i].ID {
			t.Fatalf("replay of op %d: entry %d, want %d", i, again[i].ID, res[i].ID)
		}
	}
	f.want(12, 120, 0, 0, 0)
}
