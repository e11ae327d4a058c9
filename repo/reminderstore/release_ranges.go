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

// ReleaseRanges implements reminder.RangeStore for the pending release
// job, which runs every minute: one row per member range, reused by every
// run (run_key says which run last claimed it), so the table does not grow
// by a set of ranges a minute as the expiry job's day-keyed rows would.
// A range is claimable for run k when a run before k last claimed it, or
// run k did and has not finished it; claiming it for a new run starts its
// cursor over.
type ReleaseRanges struct{ DB *repo.DB }

var _ reminder.RangeStore = (*ReleaseRanges)(nil)

func (s *ReleaseRanges) db(ctx context.Context) *gorm.DB { return s.DB.Conn(ctx) }

type releaseRow struct {
	ID           int64 `gorm:"primaryKey"`
	Lo, Hi       int64
	RunKey       int64
	CursorMember int64
	Done         bool
	Owner        string
	LeaseUntil   time.Time
	Released     int64
	UpdatedAt    time.Time
}

func (releaseRow) TableName() string { return "release_ranges" }

func (r releaseRow) toDomain() reminder.Range {
	return reminder.Range{ID: r.ID, Run: int(r.RunKey), Lo: r.Lo, Hi: r.Hi, Cursor: r.CursorMember, Done: r.Done, Settled: r.Released}
}

// EnsureRanges implements reminder.RangeStore: it adds the ranges above the
// highest one there (members registered since); existing ranges keep
// their bounds.
func (s *ReleaseRanges) EnsureRanges(ctx context.Context, _ int, ranges []reminder.Range) error {
	var top *int64
	if err := s.db(ctx).Model(&releaseRow{}).Select("MAX(hi)").Scan(&top).Error; err != nil {
		return err
	}
	var rows []releaseRow
	for _, r := range ranges {
		if top == nil || r.Lo >= *top {
			rows = append(rows, releaseRow{Lo: r.Lo, Hi: r.Hi, LeaseUntil: never})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return s.db(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
}

// claimable is the condition of a range run may claim at now.
const claimable = "(run_key < ? OR (run_key = ? AND done = ?)) AND lease_until < ?"

// ClaimRange implements reminder.RangeStore.
func (s *ReleaseRanges) ClaimRange(ctx context.Context, run int, owner string, now, until time.Time) (reminder.Range, bool, error) {
	k := int64(run)
	for attempt := 0; attempt < 10; attempt++ {
		var r releaseRow
		err := s.db(ctx).Where(claimable, k, k, false, now.UTC()).Order("lo").Limit(1).Take(&r).Error
		if repo.IsNotFound(err) {
			return reminder.Range{}, false, nil
		}
		if err != nil {
			return reminder.Range{}, false, err
		}
		// A range last claimed by an earlier run starts over. MySQL assigns
		// left to right, so run_key is set last.
		res := s.db(ctx).Exec("UPDATE release_ranges SET cursor_member = CASE WHEN run_key = ? THEN cursor_member ELSE 0 END, "+
			"released = CASE WHEN run_key = ? THEN released ELSE 0 END, done = ?, owner = ?, lease_until = ?, updated_at = ?, run_key = ? "+
			"WHERE id = ? AND "+claimable, k, k, false, owner, until.UTC(), now.UTC(), k, r.ID, k, k, false, now.UTC())
		if res.Error != nil {
			return reminder.Range{}, false, res.Error
		}
		if res.RowsAffected == 1 {
			if r.RunKey != k {
				r.CursorMember, r.Released = 0, 0
			}
			r.RunKey, r.Done = k, false
			return r.toDomain(), true, nil
		}
		// Another instance claimed it between our read and write: look again.
	}
	return reminder.Range{}, false, fmt.Errorf("claim release range of run %d: too much contention", run)
}

// Advance implements reminder.RangeStore.
func (s *ReleaseRanges) Advance(ctx context.Context, id int64, owner string, cursor, released int64, until time.Time) (bool, error) {
	res := s.db(ctx).Model(&releaseRow{}).Where("id = ? AND owner = ? AND done = ?", id, owner, false).
		Updates(map[string]any{"cursor_member": cursor, "released": gorm.Expr("released + ?", released), "lease_until": until.UTC()})
	return res.RowsAffected == 1, res.Error
}

// Finish implements reminder.RangeStore.
func (s *ReleaseRanges) Finish(ctx context.Context, id int64, owner string) (bool, error) {
	res := s.db(ctx).Model(&releaseRow{}).Where("id = ? AND owner = ? AND done = ?", id, owner, false).
		Updates(map[string]any{"done": true, "lease_until": never})
	return res.RowsAffected == 1, res.Error
}

// Ranges implements reminder.RangeStore: the ranges run last claimed.
func (s *ReleaseRanges) Ranges(ctx context.Context, run int) ([]reminder.Range, error) {
	var rs []releaseRow
	if err := s.db(ctx).Where("run_key = ?", int64(run)).Order("lo").Find(&rs).Error; err != nil {
		return nil, err
	}
	out := make([]reminder.Range, len(rs))
	for i, r := range rs {
		out[i] = r.toDomain()
	}
	return out, nil
}
