package reminder

import (
	"context"
	"time"

	"github.com/jifen/jifen/domain"
)

// ExpiryLedger is the part of the ledger the expiry job uses.
type ExpiryLedger interface {
	DueMembers(ctx context.Context, now time.Time, after, before int64, limit int) ([]int64, error)
	ExpireMembers(ctx context.Context, now time.Time, memberIDs []int64) (int, error)
	MaxAccountID(ctx context.Context) (int64, error)
}

// Range is one member range [Lo, Hi) of one run of a job that settles
// members range by range (see leases).
type Range struct {
	ID      int64
	Run     int   // the run: yyyymmdd (expiry), the Unix minute (release)
	Lo, Hi  int64 // member ids, Hi exclusive
	Cursor  int64 // last member settled; members <= Cursor are done
	Done    bool
	Settled int64 // lots settled in the run (expired, released)
}

// RangeStore keeps the runs' ranges and their leases.
type RangeStore interface {
	// EnsureRanges creates the ranges of the run that do not exist yet.
	EnsureRanges(ctx context.Context, run int, ranges []Range) error
	// ClaimRange leases a range of the run that is not done and whose lease
	// ended before now (lowest Lo first) to owner until until.
	ClaimRange(ctx context.Context, run int, owner string, now, until time.Time) (Range, bool, error)
	// Advance moves the cursor of a range owner still leases, adds settled
	// to its count and renews the lease; false when the lease was lost.
	Advance(ctx context.Context, id int64, owner string, cursor, settled int64, until time.Time) (bool, error)
	// Finish marks a range owner still leases done.
	Finish(ctx context.Context, id int64, owner string) (bool, error)
	// Ranges lists the run's ranges.
	Ranges(ctx context.Context, run int) ([]Range, error)
}

// ExpiryJob expires due lots of every member, range by range.
type ExpiryJob struct {
	Ledger ExpiryLedger
	Ranges RangeStore
	Tx     domain.UnitOfWork
	Clock  domain.Clock
	// Owner names this instance in leases (host:pid, say).
	Owner string
	// RangeSize is how many member ids one lease covers (10,000 when 0).
	RangeSize int64
	// BatchSize is how many members one transaction settles (1000 when 0,
	// as reminder.expiry_batch defaults).
	BatchSize int
	// Lease is how long a claimed range stays ours without progress (5
	// minutes when 0); every batch renews it.
	Lease time.Duration
	// Progress, when set, hears each range this instance finishes
	// (`jifen expire` draws it).
	Progress func(finished, ranges int)
}

// ExpiryReport sums what one Run did.
type ExpiryReport struct {
	Day     domain.Day
	Ranges  int   // ranges this run finished
	Expired int64 // lots this run expired
	Members int64 // members this run settled
}

// Run expires, for the Shanghai day of now, every lot due at now, claiming
// ranges until none is left to claim (done, or leased by another
// instance). It is safe to run concurrently and again after a crash.
func (j *ExpiryJob) Run(ctx context.Context, now time.Time) (ExpiryReport, error) {
	day := domain.DayOf(now)
	size := j.RangeSize
	if size <= 0 {
		size = 10_000
	}
	w := rangeWork{Name: "expiry", Run: day.Int(), RangeSize: size, BatchSize: j.BatchSize,
		MaxID: j.Ledger.MaxAccountID, Due: j.Ledger.DueMembers, Settle: j.Ledger.ExpireMembers}
	rep, err := j.leases().run(ctx, now, w)
	return ExpiryReport{Day: day, Ranges: rep.Ranges, Expired: rep.Settled, Members: rep.Members}, err
}

func (j *ExpiryJob) leases() leases {
	return leases{Ranges: j.Ranges, Tx: j.Tx, Clock: j.Clock, Owner: j.Owner, Lease: j.Lease, Progress: j.Progress}
}
