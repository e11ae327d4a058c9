package ledgerstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
)

func TestConcurrentSpendsNeverOversell(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, f *fixture) {
		for i := 1; i <= 5; i++ { // 5 lots, different expiries
			f.earn(1, 100, fmt.Sprint("e", i), time.Duration(i)*day)
		}
		const n = 1000
		var wg sync.WaitGroup
		codes := make([]domain.Code, n)
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: 1, Points: 1, Key: fmt.Sprint("s", i), Ref: ledger.Ref{Type: "draw", ID: fmt.Sprint(i)}})
				codes[i], errs[i] = domain.ErrorCode(err), err
			}()
		}
		wg.Wait()
		count := map[domain.Code]int{}
		for i, c := range codes {
			count[c]++
			if c == domain.Internal {
				t.Errorf("spend %d: %v", i, errs[i])
			}
		}
		if count[""] != 500 || count[domain.PointsInsufficient] != 500 {
			t.Fatalf("outcomes %v, want 500 ok and 500 %s", count, domain.PointsInsufficient)
		}
		f.want(1, 0, 0, 0, 0)
	})
}

func TestConcurrentRequestsWithOneKey(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, f *fixture) {
		f.earn(1, 1000, "e", 30*day)
		const n = 100
		var wg sync.WaitGroup
		got := make([]ledger.Entry, n)
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: 1, Points: 7, Key: "draw-1", Ref: ledger.Ref{Type: "draw", ID: "1"}, Title: "抽奖消耗"})
			}()
		}
		wg.Wait()
		fresh := 0
		for i := range got {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			if !got[i].Replayed {
				fresh++
			}
			e := got[i]
			e.Replayed = false
			first := got[0]
			first.Replayed = false
			if e != first {
				t.Fatalf("answer %d differs:\n%+v\n%+v", i, e, first)
			}
		}
		if fresh != 1 {
			t.Fatalf("%d answers not marked as replays, want 1", fresh)
		}
		es, _, _ := f.svc.Entries(f.ctx, 1, 100, 0)
		if len(es) != 2 {
			t.Fatalf("%d entries, want earn + one spend", len(es))
		}
		f.want(1, 993, 0, 0, 0)
	})
}

// Earnings, spends, holds and the expiry job race on one account while
// the clock moves; afterwards every invariant holds.
func TestConcurrentEarnSpendExpire(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, f *fixture) {
		f.earn(1, 200, "seed", 2*time.Hour)
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
		for w := 0; w < 4; w++ {
			run(40, func(i int) {
				_, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 1, Points: 10, Key: fmt.Sprintf("e%d-%d", w, i),
					Ref: ledger.Ref{Type: "order", ID: fmt.Sprintf("e%d-%d", w, i)}, ExpiresAt: f.clock.Now().Add(time.Duration(1+i%5) * time.Hour)})
				if err != nil {
					t.Error(err)
				}
			})
			run(40, func(i int) {
				_, err := f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: 1, Points: 7, Key: fmt.Sprintf("s%d-%d", w, i), Ref: ledger.Ref{Type: "draw", ID: fmt.Sprintf("s%d-%d", w, i)}})
				if err != nil && domain.ErrorCode(err) != domain.PointsInsufficient {
					t.Error(err)
				}
			})
		}
		run(20, func(i int) {
			ref := ledger.Ref{Type: "order", ID: fmt.Sprint("h", i)}
			if _, err := f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: 1, Points: 5, Key: fmt.Sprint("h", i), Ref: ref, Deadline: f.clock.Now().Add(day)}); err != nil {
				if domain.ErrorCode(err) != domain.PointsInsufficient {
					t.Error(err)
				}
				return
			}
			var err error
			switch i % 3 {
			case 0:
				return // left to time out
			case 1:
				_, err = f.svc.Capture(f.ctx, ledger.CloseHoldInput{MemberID: 1, Hold: ref, Key: fmt.Sprint("c", i)})
			default:
				_, err = f.svc.Release(f.ctx, ledger.CloseHoldInput{MemberID: 1, Hold: ref, Key: fmt.Sprint("c", i)})
			}
			if err != nil {
				t.Error(err)
			}
		})
		run(20, func(i int) {
			f.clock.Advance(15 * time.Minute)
			if _, err := f.svc.Expire(f.ctx, f.clock.Now(), 50); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		f.clean(1)
		f.clock.Advance(2 * day)
		if _, err := f.svc.ReleaseExpiredHolds(f.ctx, f.clock.Now(), 3); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Expire(f.ctx, f.clock.Now(), 50); err != nil {
			t.Fatal(err)
		}
		f.want(1, 0, 0, 0, 0)
	})
}

// Brand-new members earning at the same moment (a sign-in rush, an order
// burst) each create their account inside the earn. On MySQL a locking read
// of a missing row would gap-lock its neighbours and the inserts deadlock;
// every one of these earns must still succeed.
func TestConcurrentFirstEarnsOfNewMembers(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, f *fixture) {
		const n = 200
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Interleaved ids so neighbouring keys are created concurrently.
				member := int64(1000 + (i%2)*n + i)
				_, errs[i] = f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: member, Points: 10, Key: fmt.Sprint("first-", i),
					Ref: ledger.Ref{Type: "signin", ID: fmt.Sprint(i)}})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("earn %d failed: %v", i, err)
			}
		}
		for i := 0; i < n; i += 37 {
			f.want(int64(1000+(i%2)*n+i), 10, 0, 0, 0)
		}
	})
}

// forEachMode runs a concurrency test with group commit on and off: the
// grouped path and the ordinary one must give the same guarantees.
func forEachMode(t *testing.T, test func(t *testing.T, f *fixture)) {
	for _, grouped := range []bool{true, false} {
		name := "alone"
		if grouped {
			name = "grouped"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureAlone(t)
			if grouped {
				f.svc.GroupCommit = batch.Settings{Committers: 2}
			}
			test(t, f)
		})
	}
}
