package ledgerstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
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
