package analyticsstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
)

var _ analytics.ReachStore = (*Store)(nil)

// reachCursor is the time (Unix milliseconds) up to which the outbox's
// deliveries and holdouts have been recorded as reaches.
const reachCursor = "reminder_reach"

// reachStepSpan is how much outbox time one ReachStep records.
const reachStepSpan = 24 * time.Hour

type reachRow struct {
	ID          int64 `gorm:"primaryKey"`
	Run         string
	MemberID    int64
	Reminder    string
	Holdout     bool
	Day         int
	ReachedAt   time.Time
	ConvertedAt *time.Time
	Settled     bool
}

func (reachRow) TableName() string { return "analytics_reminder_reach" }

// ReachStep implements analytics.ReachStore: the outbox rows sent
// (status sent, by sent_at) and held out (status holdout, by next_at: when
// they would have gone out) in the cursor's next span.
func (s *Store) ReachStep(ctx context.Context, until time.Time) (bool, error) {
	var done bool
	err := s.DB.InTx(ctx, func(ctx context.Context) error {
		db := s.DB.Conn(ctx)
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&cursorRow{Name: reachCursor}).Error; err != nil {
			return fmt.Errorf("reach cursor: %w", err)
		}
		var cur cursorRow
		if err := s.DB.ForUpdate(db.Where("name = ?", reachCursor)).Take(&cur).Error; err != nil {
			return fmt.Errorf("reach cursor: %w", err)
		}
		from := time.UnixMilli(cur.LastID)
		if cur.LastID == 0 {
			// The first run starts at the first reach: the earliest
			// delivery or holdout in the outbox (both indexed).
			found := false
			for _, q := range [][2]string{{"sent", "sent_at"}, {"holdout", "next_at"}} {
				var first []struct{ At time.Time }
				if err := db.Table("reminder_outbox").Select(q[1]+" AS at").Where("status = ? AND "+q[1]+" IS NOT NULL", q[0]).
					Order(q[1]).Limit(1).Scan(&first).Error; err != nil {
					return fmt.Errorf("reach: first outbox row: %w", err)
				}
				if len(first) > 0 && (!found || first[0].At.Before(from)) {
					from, found = first[0].At.Truncate(time.Millisecond), true
				}
			}
			if !found {
				done = true
				return nil
			}
		}
		if !from.Before(until) {
			done = true
			return nil
		}
		to := from.Add(reachStepSpan)
		if !to.Before(until) {
			to, done = until, true
		}
		var rows []struct {
			Campaign string
			MemberID int64
			At       time.Time
		}
		var reaches []reachRow
		for _, q := range []struct {
			status, col string
			holdout     bool
		}{{"sent", "sent_at", false}, {"holdout", "next_at", true}} {
			rows = rows[:0]
			if err := db.Table("reminder_outbox").Select("campaign, member_id, "+q.col+" AS at").
				Where("status = ? AND "+q.col+" >= ? AND "+q.col+" < ?", q.status, from.UTC(), to.UTC()).
				Scan(&rows).Error; err != nil {
				return fmt.Errorf("reach: read outbox: %w", err)
			}
			for _, r := range rows {
				reaches = append(reaches, reachRow{Run: r.Campaign, MemberID: r.MemberID, Reminder: analytics.ReminderOf(r.Campaign),
					Holdout: q.holdout, Day: domain.DayOf(r.At).Int(), ReachedAt: r.At.UTC()})
			}
		}
		if len(reaches) > 0 {
			// A run records a member once; a rerun of a span adds nothing.
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(reaches, 500).Error; err != nil {
				return fmt.Errorf("reach: record: %w", err)
			}
		}
		return db.Model(&cursorRow{}).Where("name = ?", reachCursor).Update("last_id", to.UnixMilli()).Error
	})
	return done, err
}

// SettleStep implements analytics.ReachStore.
func (s *Store) SettleStep(ctx context.Context, afterID int64, limit int, horizon time.Time,
	settle func([]analytics.OpenReach, []analytics.Entry) []analytics.ReachOutcome) (int64, int, error) {
	var last int64
	var n int
	err := s.DB.InTx(ctx, func(ctx context.Context) error {
		db := s.DB.Conn(ctx)
		var open []analytics.OpenReach
		if err := db.Table("analytics_reminder_reach").Select("id, member_id, reached_at").
			Where("settled = ? AND id > ? AND reached_at < ?", false, afterID, horizon.UTC()).
			Order("id").Limit(limit).Scan(&open).Error; err != nil {
			return fmt.Errorf("reach: open: %w", err)
		}
		n = len(open)
		if n == 0 {
			return nil
		}
		last = open[n-1].ID
		earliest := open[0].ReachedAt
		seen := map[int64]bool{}
		var members []int64
		for _, r := range open {
			if r.ReachedAt.Before(earliest) {
				earliest = r.ReachedAt
			}
			if !seen[r.MemberID] {
				seen[r.MemberID] = true
				members = append(members, r.MemberID)
			}
		}
		var entries []analytics.Entry
		if err := db.Table("ledger_entries").Select("id, member_id, kind, delta, ref_type, operator, created_at").
			Where("member_id IN ? AND kind IN ? AND created_at >= ? AND created_at < ?",
				members, []string{"earn", "spend", "capture"}, earliest.UTC(), horizon.UTC()).
			Order("id").Scan(&entries).Error; err != nil {
			return fmt.Errorf("reach: journal: %w", err)
		}
		var closed []int64
		for _, o := range settle(open, entries) {
			switch {
			case o.ConvertedAt != nil:
				if err := db.Model(&reachRow{}).Where("id = ?", o.ID).
					Updates(map[string]any{"converted_at": o.ConvertedAt.UTC(), "settled": true}).Error; err != nil {
					return fmt.Errorf("reach: converted: %w", err)
				}
			case o.Closed:
				closed = append(closed, o.ID)
			}
		}
		if len(closed) > 0 {
			if err := db.Model(&reachRow{}).Where("id IN ?", closed).Update("settled", true).Error; err != nil {
				return fmt.Errorf("reach: settle: %w", err)
			}
		}
		return nil
	})
	return last, n, err
}

// ReachCounts implements analytics.ReachStore, in the order of the
// reminders' keys.
func (s *Store) ReachCounts(ctx context.Context, from, to domain.Day) ([]analytics.ReachCount, error) {
	db := s.DB.Conn(ctx)
	var rows []struct {
		Reminder  string
		Holdout   bool
		Settled   int64
		Converted int64
		Open      int64
	}
	if err := db.Table("analytics_reminder_reach").
		Select(`reminder, holdout, SUM(CASE WHEN settled THEN 1 ELSE 0 END) AS settled,
			SUM(CASE WHEN converted_at IS NOT NULL THEN 1 ELSE 0 END) AS converted,
			SUM(CASE WHEN settled THEN 0 ELSE 1 END) AS open`).
		Where("day >= ? AND day <= ?", from.Int(), to.Int()).Group("reminder, holdout").
		Order("reminder").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("reminder effect: %w", err)
	}
	var out []analytics.ReachCount
	at := map[string]int{}
	var ids []int64
	for _, r := range rows {
		i, ok := at[r.Reminder]
		if !ok {
			i = len(out)
			at[r.Reminder] = i
			out = append(out, analytics.ReachCount{Reminder: r.Reminder})
			if id, found := strings.CutPrefix(r.Reminder, "campaign:"); found {
				if n, err := strconv.ParseInt(id, 10, 64); err == nil {
					ids = append(ids, n)
				}
			}
		}
		c := &out[i]
		if r.Holdout {
			c.Holdout, c.HoldoutConv = r.Settled, r.Converted
		} else {
			c.Reached, c.ReachedConv = r.Settled, r.Converted
		}
		c.Open += r.Open
	}
	if len(ids) > 0 {
		var names []struct {
			ID   int64
			Name string
		}
		if err := db.Table("reminder_campaigns").Select("id, name").Where("id IN ?", ids).Scan(&names).Error; err != nil {
			return nil, fmt.Errorf("reminder effect: campaign names: %w", err)
		}
		for _, nm := range names {
			if i, ok := at["campaign:"+strconv.FormatInt(nm.ID, 10)]; ok {
				out[i].Name = nm.Name
			}
		}
	}
	return out, nil
}
