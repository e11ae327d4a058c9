package reminder

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
)

// ExpiryLedger is the part of the ledger the expiry job uses.
type ExpiryLedger interface {
	DueMembers(ctx context.Context, now time.Time, after, before int64, limit int) ([]int64, error)
	ExpireMembers(ctx context.Context, now time.Time, memberIDs []int64) (int, error)
	MaxAccountID(ctx context.Context) (int64, error)
}

// Range is one member range [Lo, Hi) of one day's expiry run.
type Range struct {
	ID      int64
	RunDay  int // yyyymmdd
	Lo, Hi  int64
	Cursor  int64 // last member settled; members <= Cursor are done
	Done    bool
	Expired int64
}

// RangeStore keeps the runs' ranges and their leases.
type RangeStore interface {
	// EnsureRanges creates the ranges of the day that do not exist yet.
	EnsureRanges(ctx context.Context, day int, ranges []Range) error
	// ClaimRange leases a range of the day that is not done and whose lease
	// ended before now (lowest Lo first) to owner until until.
	ClaimRange(ctx context.Context, day int, owner string, now, until time.Time) (Range, bool, error)
	// Advance moves the cursor of a range owner still leases, adds expired
	// to its count and renews the lease; false when the lease was lost.
	Advance(ctx context.Context, id int64, owner string, cursor, expired int64, until time.Time) (bool, error)
	// Finish marks a range owner still leases done.
	Finish(ctx context.Context, id int64, owner string) (bool, error)
	// Ranges lists the day's ranges.
	Ranges(ctx context.Context, day int) ([]Range, error)
}

// ExpiryJob expires due lots of every member, range by range.
type ExpiryJob struct {
	Ledger ExpiryLedger
	Ranges RangeStore
	Tx     TxRunner
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
}

// ExpiryReport sums what one Run did.
type ExpiryReport struct {
	Day     domain.Day
	Ranges  int   // ranges this run finished
	Expired int64 // lots this run expired
	Members int64 // members this run settled
}

var errLeaseLost = errors.New("expiry range lease lost")

// Run expires, for the Shanghai day of now, every lot due at now, claiming
// ranges until none is left to claim (done, or leased by another
// instance). It is safe to run concurrently and again after a crash.
func (j *ExpiryJob) Run(ctx context.Context, now time.Time) (ExpiryReport, error) {
	day := domain.DayOf(now)
	rep := ExpiryReport{Day: day}
	size := j.RangeSize
	if size <= 0 {
		size = 10_000
	}
	max, err := j.Ledger.MaxAccountID(ctx)
	if err != nil {
		return rep, err
	}
	var ranges []Range
	for lo := int64(1); lo <= max; lo += size {
		ranges = append(ranges, Range{RunDay: day.Int(), Lo: lo, Hi: lo + size})
	}
	if err := j.Ranges.EnsureRanges(ctx, day.Int(), ranges); err != nil {
		return rep, fmt.Errorf("expiry ranges: %w", err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		t := j.clockNow()
		r, ok, err := j.Ranges.ClaimRange(ctx, day.Int(), j.Owner, t, t.Add(j.lease()))
		if err != nil {
			return rep, fmt.Errorf("claim expiry range: %w", err)
		}
		if !ok {
			return rep, nil
		}
		err = j.runRange(ctx, now, r, &rep)
		if errors.Is(err, errLeaseLost) {
			continue // another instance took it over; find other work
		}
		if err != nil {
			return rep, err
		}
	}
}

func (j *ExpiryJob) runRange(ctx context.Context, now time.Time, r Range, rep *ExpiryReport) error {
	batch := j.BatchSize
	if batch <= 0 {
		batch = 1000
	}
	after := max(r.Cursor, r.Lo-1)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ids, err := j.Ledger.DueMembers(ctx, now, after, r.Hi, batch)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			ok, err := j.Ranges.Finish(ctx, r.ID, j.Owner)
			if err != nil {
				return err
			}
			if !ok {
				return errLeaseLost
			}
			rep.Ranges++
			return nil
		}
		last := ids[len(ids)-1]
		var n int
		err = j.Tx.InTx(ctx, func(ctx context.Context) error {
			var err error
			if n, err = j.Ledger.ExpireMembers(ctx, now, ids); err != nil {
				return err
			}
			ok, err := j.Ranges.Advance(ctx, r.ID, j.Owner, last, int64(n), j.clockNow().Add(j.lease()))
			if err != nil {
				return err
			}
			if !ok {
				return errLeaseLost // roll the batch back: the new owner redoes it
			}
			return nil
		})
		if err != nil {
			return err
		}
		rep.Expired += int64(n)
		rep.Members += int64(len(ids))
		after = last
	}
}

func (j *ExpiryJob) lease() time.Duration {
	if j.Lease <= 0 {
		return 5 * time.Minute
	}
	return j.Lease
}

func (j *ExpiryJob) clockNow() time.Time {
	if j.Clock == nil {
		return time.Now()
	}
	return j.Clock.Now()
}
