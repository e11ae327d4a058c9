package reminderstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo/reminderstore"
)

// The release job makes pending order points available once their return
// window has passed, for members nobody looks at (whoever reads a balance
// settles their own).

const window = 7 * 24 * time.Hour

// seedPending gives members 1..n a pending lot of 100 that unlocks after
// the window and, every other member, one of 30 that unlocks an hour later;
// every third member also has 5 points available already. It returns the
// number of lots of each wave.
func (f *expiryFixture) seedPending(t testing.TB, n int64) (first, second int64) {
	t.Helper()
	now := f.clock.Now()
	for m := int64(1); m <= n; m++ {
		f.earnAt(t, m, 100, now.Add(window), fmt.Sprintf("o1-%d", m))
		first++
		if m%2 == 0 {
			f.earnAt(t, m, 30, now.Add(window+time.Hour), fmt.Sprintf("o2-%d", m))
			second++
		}
		if m%3 == 0 {
			f.earnAt(t, m, 5, time.Time{}, fmt.Sprintf("now-%d", m))
		}
	}
	return first, second
}

func (f *expiryFixture) earnAt(t testing.TB, m, pts int64, availableAt time.Time, key string) {
	t.Helper()
	if _, err := f.ledger.Earn(f.ctx, ledger.EarnInput{MemberID: m, Points: pts, Key: key,
		Ref: ledger.Ref{Type: "order", ID: key}, AvailableAt: availableAt}); err != nil {
		t.Fatal(err)
	}
}

func (f *expiryFixture) releaseJob(owner string) *reminder.ReleaseJob {
	return &reminder.ReleaseJob{Ledger: f.ledger, Ranges: &reminderstore.ReleaseRanges{DB: f.env.DB}, Tx: f.env.DB,
		Clock: f.clock, Owner: owner, RangeSize: 7, BatchSize: 3, Lease: time.Minute}
}

// runReleases runs the job on k instances at once and sums their reports.
func (f *expiryFixture) runReleases(t testing.TB, k int) reminder.ReleaseReport {
	t.Helper()
	now := f.clock.Now()
	var wg sync.WaitGroup
	reps := make([]reminder.ReleaseReport, k)
	errs := make([]error, k)
	for i := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = f.releaseJob(fmt.Sprintf("inst-%d", i)).Run(f.ctx, now)
		}()
	}
	wg.Wait()
	var sum reminder.ReleaseReport
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		sum.Released += reps[i].Released
		sum.Ranges += reps[i].Ranges
	}
	return sum
}

// checkReleased asserts, straight from the accounts (no settling read),
// every member's pending and available points and that each unlocked lot
// was unlocked by exactly one entry; then the ledger invariants.
func (f *expiryFixture) checkReleased(t testing.TB, n int64, secondWave bool) {
	t.Helper()
	st := f.ledger.Store
	for m := int64(1); m <= n; m++ {
		a, found, err := st.Account(f.ctx, m)
		if err != nil || !found {
			t.Fatalf("member %d account: %v %v", m, found, err)
		}
		unlocks, pending := int64(100), int64(0) // points that went through pending
		if m%2 == 0 {
			if secondWave {
				unlocks += 30
			} else {
				pending = 30
			}
		}
		want := unlocks
		if m%3 == 0 {
			want += 5 // available at once: never pending
		}
		if a.Available != want || a.Pending != pending {
			t.Fatalf("member %d: available %d pending %d, want %d and %d", m, a.Available, a.Pending, want, pending)
		}
		es, _, err := f.ledger.Entries(f.ctx, m, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		var unlocked int64
		for _, e := range es {
			if e.Kind == ledger.KindUnlock {
				unlocked += e.Amount
			}
		}
		if unlocked != unlocks {
			t.Fatalf("member %d: unlock entries carry %d points, want %d", m, unlocked, unlocks)
		}
		if v, err := f.ledger.Check(f.ctx, m); err != nil || len(v) > 0 {
			t.Fatalf("member %d invariants: %v %v", m, v, err)
		}
	}
}

func TestReleaseJobOnConcurrentInstancesReleasesEachLotOnce(t *testing.T) {
	t.Parallel()
	f := newExpiryFixture(t)
	const n = 40
	first, second := f.seedPending(t, n)

	// Before the window ends nothing is due.
	if rep := f.runReleases(t, 3); rep.Released != 0 {
		t.Fatalf("released %d lots before the window ended", rep.Released)
	}
	f.clock.Advance(window + time.Minute)
	if rep := f.runReleases(t, 6); rep.Released != first {
		t.Fatalf("6 instances released %d lots, want %d (each once)", rep.Released, first)
	}
	f.checkReleased(t, n, false)

	// Members reading their balance settle themselves while the job runs:
	// still every lot once.
	f.clock.Advance(time.Hour)
	var readers sync.WaitGroup
	for r := range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for m := int64(1 + r); m <= n; m += 3 {
				if _, err := f.ledger.Balance(f.ctx, m); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	rep := f.runReleases(t, 4)
	readers.Wait()
	if rep.Released > second {
		t.Fatalf("the job released %d lots beside the readers, more than the %d due", rep.Released, second)
	}
	f.checkReleased(t, n, true)

	if rep := f.runReleases(t, 2); rep.Released != 0 || rep.Ranges != 0 {
		t.Fatalf("a rerun of the same minute did %+v, want nothing", rep)
	}
	// Every account reconciles.
	if _, err := f.ledger.CheckAll(f.ctx, 0, func(m int64, v []ledger.Violation) {
		if len(v) > 0 {
			t.Errorf("member %d: %v", m, v)
		}
	}); err != nil {
		t.Fatal(err)
	}
}
