package reminder

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
)

// leases walks one run of a job that settles members range by range (the
// expiry job, the pending release job): the run's member ranges are
// created by whichever instance comes first, every instance claims ranges
// with a lease until none is left, and a range whose owner stopped renewing
// is taken over from its cursor. The work itself is idempotent by state, so
// a batch redone after a lost lease changes nothing twice.
type leases struct {
	Ranges RangeStore
	Tx     domain.UnitOfWork
	Clock  domain.Clock
	Owner  string
	Lease  time.Duration // 5 minutes when 0
	// Progress, when set, hears each range this instance finishes: how
	// many it has finished and how many ranges the run has in all.
	Progress func(finished, ranges int)
}

// rangeWork is what one job does in its ranges.
type rangeWork struct {
	Name      string // for errors: "expiry", "release"
	Run       int    // the run's key in the RangeStore
	RangeSize int64
	BatchSize int // members per transaction (1000 when 0)
	MaxID     func(ctx context.Context) (int64, error)
	Due       func(ctx context.Context, now time.Time, after, before int64, limit int) ([]int64, error)
	Settle    func(ctx context.Context, now time.Time, memberIDs []int64) (int, error)
}

// rangeReport sums what one instance did in a run.
type rangeReport struct {
	Ranges  int   // ranges this instance finished
	Settled int64 // lots this instance settled (expired, released)
	Members int64 // members this instance settled
	of      int   // ranges in the run, for Progress
}

var errLeaseLost = errors.New("range lease lost")

func (l leases) run(ctx context.Context, now time.Time, w rangeWork) (rangeReport, error) {
	var rep rangeReport
	max, err := w.MaxID(ctx)
	if err != nil {
		return rep, err
	}
	var ranges []Range
	for lo := int64(1); lo <= max; lo += w.RangeSize {
		ranges = append(ranges, Range{Run: w.Run, Lo: lo, Hi: lo + w.RangeSize})
	}
	if err := l.Ranges.EnsureRanges(ctx, w.Run, ranges); err != nil {
		return rep, fmt.Errorf("%s ranges: %w", w.Name, err)
	}
	rep.of = len(ranges)
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		t := l.now()
		r, ok, err := l.Ranges.ClaimRange(ctx, w.Run, l.Owner, t, t.Add(l.lease()))
		if err != nil {
			return rep, fmt.Errorf("claim %s range: %w", w.Name, err)
		}
		if !ok {
			return rep, nil
		}
		err = l.runRange(ctx, now, w, r, &rep)
		if errors.Is(err, errLeaseLost) {
			continue // another instance took it over; find other work
		}
		if err != nil {
			return rep, err
		}
	}
}

func (l leases) runRange(ctx context.Context, now time.Time, w rangeWork, r Range, rep *rangeReport) error {
	batch := w.BatchSize
	if batch <= 0 {
		batch = 1000
	}
	after := max(r.Cursor, r.Lo-1)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ids, err := w.Due(ctx, now, after, r.Hi, batch)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			ok, err := l.Ranges.Finish(ctx, r.ID, l.Owner)
			if err != nil {
				return err
			}
			if !ok {
				return errLeaseLost
			}
			rep.Ranges++
			if l.Progress != nil {
				l.Progress(rep.Ranges, rep.of)
			}
			return nil
		}
		last := ids[len(ids)-1]
		var n int
		err = l.Tx.InTx(ctx, func(ctx context.Context) error {
			var err error
			if n, err = w.Settle(ctx, now, ids); err != nil {
				return err
			}
			ok, err := l.Ranges.Advance(ctx, r.ID, l.Owner, last, int64(n), l.now().Add(l.lease()))
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
		rep.Settled += int64(n)
		rep.Members += int64(len(ids))
		after = last
	}
}

func (l leases) lease() time.Duration {
	if l.Lease <= 0 {
		return 5 * time.Minute
	}
	return l.Lease
}

func (l leases) now() time.Time {
	if l.Clock == nil {
		return time.Now()
	}
	return l.Clock.Now()
}
