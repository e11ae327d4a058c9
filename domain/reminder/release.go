package reminder

import (
	"context"
	"time"

	"github.com/jifen/jifen/domain"
)

// ReleaseLedger is the part of the ledger the release job uses.
type ReleaseLedger interface {
	DuePendingMembers(ctx context.Context, now time.Time, after, before int64, limit int) ([]int64, error)
	ReleaseMembers(ctx context.Context, now time.Time, memberIDs []int64) (int, error)
	MaxAccountID(ctx context.Context) (int64, error)
}

// ReleaseJob makes pending points available once their time has come
// (order points after the return window), for every member, range by
// range: serve runs it every minute (reminder.release_cron), every
// instance may, and they share each run through leased member ranges as
// the expiry job does. A member who reads their points is settled at once
// by the read itself (ledger.Service.Balance); the job is for everyone
// else: the console's lists, guides' views and the reminder audiences.
type ReleaseJob struct {
	Ledger ReleaseLedger
	// Ranges keeps the member ranges. The release runs every minute, so
	// its store keeps one row per range and reuses it run after run
	// (reminderstore.ReleaseRanges) instead of a row per range and run.
	Ranges RangeStore
	Tx     domain.UnitOfWork
	Clock  domain.Clock
	// Owner names this instance in leases (host:pid, say).
	Owner string
	// RangeSize is how many member ids one lease covers (10,000 when 0).
	RangeSize int64
	// BatchSize is how many members one transaction settles (1000 when 0).
	BatchSize int
	// Lease is how long a claimed range stays ours without progress (5
	// minutes when 0); every batch renews it.
	Lease time.Duration
}

// ReleaseReport sums what one Run of this instance did.
type ReleaseReport struct {
	Run      time.Time // the minute of the run
	Ranges   int       // ranges this instance finished
	Released int64     // lots this instance released
	Members  int64     // members this instance settled
}

// Run releases every pending lot due at now. Instances running it in the
// same minute share one run: each claims ranges until none is left to
// claim. A later run reuses the ranges. It is safe to run concurrently and
// again after a crash; a rerun in the same minute does nothing.
func (j *ReleaseJob) Run(ctx context.Context, now time.Time) (ReleaseReport, error) {
	minute := now.Truncate(time.Minute)
	size := j.RangeSize
	if size <= 0 {
		size = 10_000
	}
	w := rangeWork{Name: "release", Run: int(minute.Unix() / 60), RangeSize: size, BatchSize: j.BatchSize,
		MaxID: j.Ledger.MaxAccountID, Due: j.Ledger.DuePendingMembers, Settle: j.Ledger.ReleaseMembers}
	l := leases{Ranges: j.Ranges, Tx: j.Tx, Clock: j.Clock, Owner: j.Owner, Lease: j.Lease}
	rep, err := l.run(ctx, now, w)
	return ReleaseReport{Run: minute, Ranges: rep.Ranges, Released: rep.Settled, Members: rep.Members}, err
}
