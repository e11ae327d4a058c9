// Package analyticsstore keeps domain/analytics' facts in MySQL or SQLite.
package analyticsstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/repo"
)

// Store implements analytics.Store.
type Store struct{ DB *repo.DB }

var _ analytics.Store = (*Store)(nil)

const cursorName = "points"

type cursorRow struct {
	Name   string
	LastID int64
}

func (cursorRow) TableName() string { return "analytics_cursors" }

type factRow struct {
	Day     int
	Kind    string
	Source  string
	Points  int64
	Entries int64
}

func (factRow) TableName() string { return "analytics_points_daily" }

type outstandingRow struct {
	Day    int
	Bucket string
	Points int64
}

func (outstandingRow) TableName() string { return "analytics_outstanding" }

// Step implements analytics.Store.
func (s *Store) Step(ctx context.Context, limit int, fold func([]analytics.Entry) (analytics.Batch, bool)) (int, bool, error) {
	var n int
	var done bool
	err := s.DB.InTx(ctx, func(ctx context.Context) error {
		db := s.DB.Conn(ctx)
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&cursorRow{Name: cursorName}).Error; err != nil {
			return fmt.Errorf("analytics cursor: %w", err)
		}
		var cur cursorRow
		if err := s.DB.ForUpdate(db.Where("name = ?", cursorName)).Take(&cur).Error; err != nil {
			return fmt.Errorf("analytics cursor: %w", err)
		}
		var entries []analytics.Entry
		if err := db.Table("ledger_entries").Select("id, member_id, kind, delta, ref_type, operator, created_at").
			Where("id > ?", cur.LastID).Order("id").Limit(limit).Scan(&entries).Error; err != nil {
			return fmt.Errorf("analytics: read journal: %w", err)
		}
		n = len(entries)
		var b analytics.Batch
		b, done = fold(entries)
		for _, f := range b.Facts {
			row := factRow{Day: f.Day.Int(), Kind: f.Kind, Source: f.Source, Points: f.Points, Entries: f.Entries}
			err := db.Clauses(clause.OnConflict{
				Columns: []clause.Column{{Name: "day"}, {Name: "kind"}, {Name: "source"}},
				DoUpdates: clause.Assignments(map[string]any{
					"points":  gorm.Expr("points + ?", f.Points),
					"entries": gorm.Expr("entries + ?", f.Entries),
				}),
			}).Create(&row).Error
			if err != nil {
				return fmt.Errorf("analytics: add facts: %w", err)
			}
		}
		if err := s.addActive(ctx, b.Active); err != nil {
			return err
		}
		if b.LastID > cur.LastID {
			if err := db.Model(&cursorRow{}).Where("name = ?", cursorName).Update("last_id", b.LastID).Error; err != nil {
				return fmt.Errorf("analytics cursor: %w", err)
			}
		}
		return nil
	})
	return n, done, err
}

// Snapshot implements analytics.Store.
func (s *Store) Snapshot(ctx context.Context, day domain.Day, now time.Time) error {
	return s.DB.InTx(ctx, func(ctx context.Context) error {
		db := s.DB.Conn(ctx)
		if err := db.Where("day = ?", day.Int()).Delete(&outstandingRow{}).Error; err != nil {
			return fmt.Errorf("analytics snapshot: %w", err)
		}
		var tiers []struct {
			Level  string
			Points int64
		}
		if err := db.Table("ledger_accounts a").
			Select("COALESCE(t.level, '') AS level, COALESCE(SUM(a.available + a.pending + a.held - a.debt), 0) AS points").
			Joins("LEFT JOIN member_tiers t ON t.member_id = a.member_id").
			Group("COALESCE(t.level, '')").Scan(&tiers).Error; err != nil {
			return fmt.Errorf("analytics snapshot: outstanding: %w", err)
		}
		var total int64
		rows := []outstandingRow{}
		for _, t := range tiers {
			total += t.Points
			rows = append(rows, outstandingRow{Day: day.Int(), Bucket: "tier:" + t.Level, Points: t.Points})
		}
		rows = append(rows, outstandingRow{Day: day.Int(), Bucket: "total", Points: total})
		m := monthStart(now)
		for i := 0; i < 12; i++ {
			next := m.AddDate(0, 1, 0)
			from := m
			if i == 0 {
				from = now // what has not expired yet
			}
			var pts int64
			if err := db.Table("ledger_lots").Select("COALESCE(SUM(remaining), 0)").
				Where("state = ? AND expires_at >= ? AND expires_at < ?", "active", from.UTC(), next.UTC()).Scan(&pts).Error; err != nil {
				return fmt.Errorf("analytics snapshot: expiring: %w", err)
			}
			rows = append(rows, outstandingRow{Day: day.Int(), Bucket: "expires:" + m.Format("2006-01"), Points: pts})
			m = next
		}
		// Upsert: two runs at once snapshot the same day with the same figures.
		return db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "day"}, {Name: "bucket"}},
			DoUpdates: clause.AssignmentColumns([]string{"points"}),
		}).CreateInBatches(rows, 100).Error
	})
}

func monthStart(t time.Time) time.Time {
	t = t.In(domain.Shanghai)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, domain.Shanghai)
}

// Days implements analytics.Store.
func (s *Store) Days(ctx context.Context, from, to domain.Day) ([]analytics.Fact, map[domain.Day]int64, error) {
	db := s.DB.Conn(ctx)
	var rows []factRow
	if err := db.Where("day >= ? AND day <= ?", from.Int(), to.Int()).Order("day, kind, source").Find(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("analytics facts: %w", err)
	}
	facts := make([]analytics.Fact, 0, len(rows))
	for _, r := range rows {
		facts = append(facts, analytics.Fact{Day: dayOfInt(r.Day), Kind: r.Kind, Source: r.Source, Points: r.Points, Entries: r.Entries})
	}
	var counts []struct {
		Day int
		N   int64
	}
	if err := db.Table("analytics_active_daily").Select("day, COUNT(*) AS n").
		Where("day >= ? AND day <= ?", from.Int(), to.Int()).Group("day").Scan(&counts).Error; err != nil {
		return nil, nil, fmt.Errorf("analytics active members: %w", err)
	}
	active := map[domain.Day]int64{}
	for _, c := range counts {
		active[dayOfInt(c.Day)] = c.N
	}
	return facts, active, nil
}

// Outstanding implements analytics.Store.
func (s *Store) Outstanding(ctx context.Context) (analytics.Outstanding, bool, error) {
	db := s.DB.Conn(ctx)
	var latest struct{ Day int }
	if err := db.Table("analytics_outstanding").Select("COALESCE(MAX(day), 0) AS day").Scan(&latest).Error; err != nil {
		return analytics.Outstanding{}, false, fmt.Errorf("analytics outstanding: %w", err)
	}
	if latest.Day == 0 {
		return analytics.Outstanding{}, false, nil
	}
	var rows []outstandingRow
	if err := db.Where("day = ?", latest.Day).Order("bucket").Find(&rows).Error; err != nil {
		return analytics.Outstanding{}, false, fmt.Errorf("analytics outstanding: %w", err)
	}
	o := analytics.Outstanding{Day: dayOfInt(latest.Day), ByTier: map[string]int64{}}
	for _, r := range rows {
		switch {
		case r.Bucket == "total":
			o.Total = r.Points
		case strings.HasPrefix(r.Bucket, "tier:"):
			o.ByTier[strings.TrimPrefix(r.Bucket, "tier:")] = r.Points
		case strings.HasPrefix(r.Bucket, "expires:"):
			o.Expiring = append(o.Expiring, analytics.MonthAmount{Month: strings.TrimPrefix(r.Bucket, "expires:"), Points: r.Points})
		}
	}
	return o, true, nil
}

func dayOfInt(n int) domain.Day {
	return domain.DayOf(time.Date(n/10000, time.Month(n/100%100), n%100, 12, 0, 0, 0, domain.Shanghai))
}

// Totals sums the daily points facts over every day, by kind and source:
// the points issued, spent, expired, clawed back and returned since the
// facts began, for the metrics.
func (s *Store) Totals(ctx context.Context) (map[[2]string]int64, error) {
	var rows []struct {
		Kind, Source string
		Points       int64
	}
	err := s.DB.Conn(ctx).Table("analytics_points_daily").Select("kind, source, SUM(points) AS points").
		Group("kind, source").Scan(&rows).Error
	out := make(map[[2]string]int64, len(rows))
	for _, r := range rows {
		out[[2]string{r.Kind, r.Source}] = r.Points
	}
	return out, err
}
