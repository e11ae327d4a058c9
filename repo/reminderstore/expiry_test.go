package reminderstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/reminderstore"
	"github.com/jifen/jifen/repo/testenv"
)

// t0 is 10:00 on 1 November 2026 in Shanghai.
var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, domain.Shanghai)

type expiryFixture struct {
	ctx    context.Context
	env    *testenv.Env
	clock  *domain.FakeClock
	ledger *ledger.Service
	store  *reminderstore.Ranges
}

func newExpiryFixture(t testing.TB) *expiryFixture {
	env := testenv.New(t)
	clock := domain.NewFakeClock(t0)
	return &expiryFixture{ctx: context.Background(), env: env, clock: clock,
		ledger: &ledger.Service{Store: &ledgerstore.Store{DB: env.DB}, Tx: env.DB, Clock: clock},
		store:  &reminderstore.Ranges{DB: env.DB}}
}

// seed gives members 1..n a lot of 100 expiring tomorrow and, every third
// member, a lot of 7 expiring in a year; it returns the due lot count.
func (f *expiryFixture) seed(t testing.TB, n int64) int64 {
	t.Helper()
	for m := int64(1); m <= n; m++ {
		f.earn(t, m, 100, 24*time.Hour, fmt.Sprintf("due-%d", m))
		if m%3 == 0 {
			f.earn(t, m, 7, 365*24*time.Hour, fmt.Sprintf("later-%d", m))
		}
	}
	return n
}

func (f *expiryFixture) earn(t testing.TB, m, pts int64, exp time.Duration, key string) {
	t.Helper()
	if _, err := f.ledger.Earn(f.ctx, ledger.EarnInput{MemberID: m, Points: pts, Key: key,
		Ref: ledger.Ref{Type: "order", ID: key}, ExpiresAt: f.clock.Now().Add(exp)}); err != nil {
		t.Fatal(err)
	}
}

func (f *expiryFixture) job(owner string, l reminder.ExpiryLedger) *reminder.ExpiryJob {
	if l == nil {
		l = f.ledger
	}
	return &reminder.ExpiryJob{Ledger: l, Ranges: f.store, Tx: f.env.DB, Clock: f.clock, Owner: owner,
		RangeSize: 10, BatchSize: 3, Lease: time.Minute}
}

// check asserts every member's balance and ledger invariants after expiry.
func (f *expiryFixture) check(t testing.TB, n int64) {
	t.Helper()
	for m := int64(1); m <= n; m++ {
		b, err := f.ledger.Balance(f.ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(0)
		if m%3 == 0 {
			want = 7
		}
		if b.Available != want {
			t.Fatalf("member %d available %d, want %d", m, b.Available, want)
		}
		v, err := f.ledger.Check(f.ctx, m)
		if err != nil || len(v) > 0 {
			t.Fatalf("member %d invariants: %v %v", m, v, err)
		}
		es, _, err := f.ledger.Entries(f.ctx, m, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		expires := 0
		for _, e := range es {
			if e.Kind == ledger.KindExpire {
				expires++
			}
		}
		if expires != 1 {
			t.Fatalf("member %d has %d expire entries, want 1", m, expires)
		}
	}
}

func TestExpiryRunExpiresDueLotsOnceAndRerunIsANoOp(t *testing.T) {
	t.Parallel()
	f := newExpiryFixture(t)
	due := f.seed(t, 25)
	f.clock.Advance(2 * 24 * time.Hour)
	rep, err := f.job("a", nil).Run(f.ctx, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Expired != due || rep.Ranges != 3 {
		t.Fatalf("report %+v, want %d lots in 3 ranges", rep, due)
	}
	f.check(t, 25)
	again, err := f.job("b", nil).Run(f.ctx, f.clock.Now())
	if err != nil || again.Expired != 0 || again.Ranges != 0 {
		t.Fatalf("rerun: %+v %v, want nothing done", again, err)
	}
	rs, err := f.store.Ranges(f.ctx, domain.DayOf(f.clock.Now()).Int())
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, r := range rs {
		if !r.Done {
			t.Fatalf("range %+v not done", r)
		}
		sum += r.Settled
	}
	if sum != due {
		t.Fatalf("ranges count %d expired lots, want %d", sum, due)
	}
}

// crashingLedger fails every ExpireMembers call after the first `ok`, as a
// process dying mid-run would stop.
type crashingLedger struct {
	*ledger.Service
	mu sync.Mutex
	ok int
}

func (c *crashingLedger) ExpireMembers(ctx context.Context, now time.Time, ids []int64) (int, error) {
	c.mu.Lock()
	c.ok--
	dead := c.ok < 0
	c.mu.Unlock()
	if dead {
		return 0, errors.New("killed")
	}
	return c.Service.ExpireMembers(ctx, now, ids)
}

func TestExpiryResumesACrashedRangeAfterItsLease(t *testing.T) {
	t.Parallel()
	f := newExpiryFixture(t)
	due := f.seed(t, 25)
	f.clock.Advance(2 * 24 * time.Hour)
	now := f.clock.Now()

	crashed, err := f.job("a", &crashingLedger{Service: f.ledger, ok: 2}).Run(f.ctx, now)
	if err == nil || crashed.Expired != 6 {
		t.Fatalf("crashing run: %+v %v, want 6 lots then an error", crashed, err)
	}
	// While a's lease lasts, b leaves its range alone.
	b := f.job("b", nil)
	r1, err := b.Run(f.ctx, now)
	if err != nil || r1.Ranges != 2 {
		t.Fatalf("b first run %+v %v, want the 2 other ranges", r1, err)
	}
	f.clock.Advance(2 * time.Minute)
	r2, err := b.Run(f.ctx, now)
	if err != nil || r2.Ranges != 1 {
		t.Fatalf("b after the lease %+v %v, want the crashed range", r2, err)
	}
	if got := crashed.Expired + r1.Expired + r2.Expired; got != due {
		t.Fatalf("expired %d lots in all, want %d", got, due)
	}
	f.check(t, 25)
}

func TestExpiryTwoInstancesShareARun(t *testing.T) {
	t.Parallel()
	f := newExpiryFixture(t)
	due := f.seed(t, 60)
	f.clock.Advance(2 * 24 * time.Hour)
	now := f.clock.Now()
	var wg sync.WaitGroup
	reps := make([]reminder.ExpiryReport, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = f.job(fmt.Sprintf("inst-%d", i), nil).Run(f.ctx, now)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if reps[0].Expired+reps[1].Expired != due || reps[0].Ranges+reps[1].Ranges != 6 {
		t.Fatalf("reports %+v %+v, want %d lots in 6 ranges", reps[0], reps[1], due)
	}
	f.check(t, 60)
}
