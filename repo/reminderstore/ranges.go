// Package reminderstore is the gorm implementation of domain/reminder's
// stores: the expiry job's leased ranges, the outbox, subscription quotas
// and campaigns, on MySQL/MariaDB and SQLite alike. Claims are conditional
// UPDATEs whose affected-row count says who won, so they need no
// SELECT … FOR UPDATE SKIP LOCKED (which SQLite lacks).
package reminderstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo"
)

// Ranges implements reminder.RangeStore.
type Ranges struct{ DB *repo.DB }

var _ reminder.RangeStore = (*Ranges)(nil)

func (s *Ranges) db(ctx context.Context) *gorm.DB { return s.DB.Conn(ctx) }

// never is the lease end of a row nobody has leased (a zero time does not
// fit every backend's DATETIME).
var never = time.Unix(0, 0).UTC()

type rangeRow struct {
	ID         int64 `gorm:"primaryKey"`
	RunDay     int
	Lo, Hi     int64
	Cursor     int64
	Done       bool
	Owner      string
	LeaseUntil time.Time
	Expired    int64
	UpdatedAt  time.Time
}

func (rangeRow) TableName() string { return "expiry_ranges" }

func (r rangeRow) toDomain() reminder.Range {
	return reminder.Range{ID: r.ID, Run: r.RunDay, Lo: r.Lo, Hi: r.Hi, Cursor: r.Cursor, Done: r.Done, Settled: r.Expired}
}

// EnsureRanges implements reminder.RangeStore.
func (s *Ranges) EnsureRanges(ctx context.Context, day int, ranges []reminder.Range) error {
	if len(ranges) == 0 {
		return nil
	}
	rows := make([]rangeRow, len(ranges))
	for i, r := range ranges {
		rows[i] = rangeRow{RunDay: day, Lo: r.Lo, Hi: r.Hi, LeaseUntil: never}
	}
	return s.db(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
}

// ClaimRange implements reminder.RangeStore.
func (s *Ranges) ClaimRange(ctx context.Context, day int, owner string, now, until time.Time) (reminder.Range, bool, error) {
	for attempt := 0; attempt < 10; attempt++ {
		var r rangeRow
		err := s.db(ctx).Where("run_day = ? AND done = ? AND lease_until < ?", day, false, now.UTC()).
			Order("lo").Limit(1).Take(&r).Error
		if repo.IsNotFound(err) {
			return reminder.Range{}, false, nil
		}
		if err != nil {
			return reminder.Range{}, false, err
		}
		res := s.db(ctx).Model(&rangeRow{}).
			Where("id = ? AND done = ? AND lease_until < ?", r.ID, false, now.UTC()).
			Updates(map[string]any{"owner": owner, "lease_until": until.UTC(), "updated_at": now.UTC()})
		if res.Error != nil {
			return reminder.Range{}, false, res.Error
		}
		if res.RowsAffected == 1 {
			return r.toDomain(), true, nil
		}
		// Another instance claimed it between our read and write: look again.
	}
	return reminder.Range{}, false, fmt.Errorf("claim expiry range of %d: too much contention", day)
}

// Advance implements reminder.RangeStore.
func (s *Ranges) Advance(ctx context.Context, id int64, owner string, cursor, expired int64, until time.Time) (bool, error) {
	res := s.db(ctx).Model(&rangeRow{}).Where("id = ? AND owner = ? AND done = ?", id, owner, false).
		Updates(map[string]any{"cursor": cursor, "expired": gorm.Expr("expired + ?", expired), "lease_until": until.UTC()})
	return res.RowsAffected == 1, res.Error
}

// Finish implements reminder.RangeStore.
func (s *Ranges) Finish(ctx context.Context, id int64, owner string) (bool, error) {
	res := s.db(ctx).Model(&rangeRow{}).Where("id = ? AND owner = ? AND done = ?", id, owner, false).
		Updates(map[string]any{"done": true, "lease_until": never})
	return res.RowsAffected == 1, res.Error
}

// Ranges implements reminder.RangeStore.
func (s *Ranges) Ranges(ctx context.Context, day int) ([]reminder.Range, error) {
	var rs []rangeRow
	if err := s.db(ctx).Where("run_day = ?", day).Order("lo").Find(&rs).Error; err != nil {
		return nil, err
	}
	out := make([]reminder.Range, len(rs))
	for i, r := range rs {
		out[i] = r.toDomain()
	}
	return out, nil
}
