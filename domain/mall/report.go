package mall

import (
	"context"
	"time"

	"github.com/jifen/jifen/domain"
)

// DayLine is one item's live redemptions on one Shanghai day.
type DayLine struct {
	ItemID      int64
	ItemName    string
	Day         int // yyyymmdd
	Redemptions int64
	Points      int64
	CashFen     int64
}

// PoolLine is what is left of one coupon item's code pool.
type PoolLine struct {
	ItemID   int64
	ItemName string
	Left     int64
}

// Report is the console's view of the mall over a range of days.
type Report struct {
	Days        []DayLine
	PointsSpent int64
	CashFen     int64
	Pools       []PoolLine
	LowStock    []Item
}

// Reporter reads what Report needs.
type Reporter interface {
	// DayLines sums live redemptions per item and day in [from, to]
	// (yyyymmdd), by day then item.
	DayLines(ctx context.Context, from, to int) ([]DayLine, error)
	// CouponPools returns up to limit coupon items' free codes, fewest first.
	CouponPools(ctx context.Context, limit int) ([]PoolLine, error)
	// LowStock returns up to limit enabled items with stock − sold <= left,
	// fewest left first.
	LowStock(ctx context.Context, left int64, limit int) ([]Item, error)
}

// MaxReportDays bounds a report's range.
const MaxReportDays = 92

// BuildReport reads the report for [from, to] with items at or below
// lowStock left counted as low.
func BuildReport(ctx context.Context, r Reporter, from, to domain.Day, lowStock int64) (Report, error) {
	if to.Before(from) {
		return Report{}, domain.FieldError("to", "must not be before from")
	}
	if from.AddDays(MaxReportDays).Before(to) {
		return Report{}, domain.FieldError("to", "at most 92 days after from")
	}
	if lowStock < 0 || lowStock > MaxStock {
		return Report{}, domain.FieldError("low_stock", "must be 0 to 10000000")
	}
	var out Report
	var err error
	if out.Days, err = r.DayLines(ctx, from.Int(), to.Int()); err != nil {
		return Report{}, err
	}
	for _, d := range out.Days {
		out.PointsSpent += d.Points
		out.CashFen += d.CashFen
	}
	if out.Pools, err = r.CouponPools(ctx, 200); err != nil {
		return Report{}, err
	}
	if out.LowStock, err = r.LowStock(ctx, lowStock, 200); err != nil {
		return Report{}, err
	}
	return out, nil
}

// DayOf turns a stored yyyymmdd back into a Day.
func DayOf(yyyymmdd int) domain.Day {
	return domain.Day{Year: yyyymmdd / 10000, Month: time.Month(yyyymmdd / 100 % 100), Day: yyyymmdd % 100}
}

// Report is BuildReport over the service's Reports.
func (s *Service) Report(ctx context.Context, from, to domain.Day, lowStock int64) (Report, error) {
	return BuildReport(ctx, s.Reports, from, to, lowStock)
}
