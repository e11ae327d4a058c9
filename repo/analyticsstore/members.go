package analyticsstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/repo"
)

var _ analytics.MemberStore = (*Store)(nil)

const membersCursor = "members"

type joinedRow struct {
	Day    int
	Joined int64
}

func (joinedRow) TableName() string { return "analytics_members_daily" }

// addActive adds a batch's active member-days with their orders and
// redemptions, in multi-row upserts of 500 that add the counts to a day a
// member was already active on.
func (s *Store) addActive(ctx context.Context, active []analytics.Active) error {
	for len(active) > 0 {
		n := min(len(active), 500)
		args := make([]any, 0, 4*n)
		for _, a := range active[:n] {
			args = append(args, a.Day.Int(), a.MemberID, a.Orders, a.Redeems)
		}
		q := `INSERT INTO analytics_active_daily (day, member_id, orders, redeems) VALUES ` + repo.RowsOf(n, 4)
		if s.DB.Dialect() == repo.MySQL {
			q += ` ON DUPLICATE KEY UPDATE orders = orders + VALUES(orders), redeems = redeems + VALUES(redeems)`
		} else {
			q += ` ON CONFLICT (day, member_id) DO UPDATE SET orders = analytics_active_daily.orders + excluded.orders,
				redeems = analytics_active_daily.redeems + excluded.redeems`
		}
		if err := s.DB.Conn(ctx).Exec(q, args...).Error; err != nil {
			return fmt.Errorf("analytics: active members: %w", err)
		}
		active = active[n:]
	}
	return nil
}

// MemberStep implements analytics.MemberStore.
func (s *Store) MemberStep(ctx context.Context, limit int, horizon time.Time) (int, bool, error) {
	var n int
	var done bool
	err := s.DB.InTx(ctx, func(ctx context.Context) error {
		db := s.DB.Conn(ctx)
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&cursorRow{Name: membersCursor}).Error; err != nil {
			return fmt.Errorf("analytics members cursor: %w", err)
		}
		var cur cursorRow
		if err := s.DB.ForUpdate(db.Where("name = ?", membersCursor)).Take(&cur).Error; err != nil {
			return fmt.Errorf("analytics members cursor: %w", err)
		}
		var members []struct {
			ID        int64
			CreatedAt time.Time
		}
		if err := db.Table("members").Select("id, created_at").Where("id > ?", cur.LastID).
			Order("id").Limit(limit).Scan(&members).Error; err != nil {
			return fmt.Errorf("analytics: read members: %w", err)
		}
		n = len(members)
		last := cur.LastID
		joined := map[int]int64{}
		var days []int
		for _, m := range members {
			if !m.CreatedAt.Before(horizon) {
				done = true
				break
			}
			last = m.ID
			d := domain.DayOf(m.CreatedAt).Int()
			if joined[d] == 0 {
				days = append(days, d)
			}
			joined[d]++
		}
		for _, d := range days {
			err := db.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "day"}},
				DoUpdates: clause.Assignments(map[string]any{"joined": gorm.Expr("joined + ?", joined[d])}),
			}).Create(&joinedRow{Day: d, Joined: joined[d]}).Error
			if err != nil {
				return fmt.Errorf("analytics: new members: %w", err)
			}
		}
		if last > cur.LastID {
			if err := db.Model(&cursorRow{}).Where("name = ?", membersCursor).Update("last_id", last).Error; err != nil {
				return fmt.Errorf("analytics members cursor: %w", err)
			}
		}
		return nil
	})
	return n, done, err
}

// Members implements analytics.MemberStore.
func (s *Store) Members(ctx context.Context, from, to domain.Day) (map[domain.Day]int64, map[domain.Day]map[string]int64, error) {
	db := s.DB.Conn(ctx)
	var joined []struct {
		Day    int
		Joined int64
	}
	if err := db.Table("analytics_members_daily").Select("day, joined").
		Where("day >= ? AND day <= ?", from.Int(), to.Int()).Scan(&joined).Error; err != nil {
		return nil, nil, fmt.Errorf("analytics new members: %w", err)
	}
	newByDay := map[domain.Day]int64{}
	for _, j := range joined {
		newByDay[dayOfInt(j.Day)] = j.Joined
	}
	var active []struct {
		Day   int
		Level string
		N     int64
	}
	if err := db.Table("analytics_active_daily a").
		Select("a.day AS day, COALESCE(t.level, '') AS level, COUNT(*) AS n").
		Joins("LEFT JOIN member_tiers t ON t.member_id = a.member_id").
		Where("a.day >= ? AND a.day <= ?", from.Int(), to.Int()).
		Group("a.day, COALESCE(t.level, '')").Scan(&active).Error; err != nil {
		return nil, nil, fmt.Errorf("analytics active by tier: %w", err)
	}
	byTier := map[domain.Day]map[string]int64{}
	for _, a := range active {
		d := dayOfInt(a.Day)
		if byTier[d] == nil {
			byTier[d] = map[string]int64{}
		}
		byTier[d][a.Level] = a.N
	}
	return newByDay, byTier, nil
}

// Buyers implements analytics.MemberStore: one pass over the window's
// active member-days (the primary key's day range).
func (s *Store) Buyers(ctx context.Context, from, to domain.Day) (analytics.Cohort, analytics.Cohort, error) {
	var rows []struct {
		Redeemed  int
		Buyers    int64
		Repeaters int64
	}
	err := s.DB.Conn(ctx).Raw(`SELECT CASE WHEN r > 0 THEN 1 ELSE 0 END AS redeemed, COUNT(*) AS buyers,
			SUM(CASE WHEN o >= 2 THEN 1 ELSE 0 END) AS repeaters
		FROM (SELECT member_id, SUM(orders) AS o, SUM(redeems) AS r FROM analytics_active_daily
			WHERE day >= ? AND day <= ? GROUP BY member_id HAVING SUM(orders) > 0) m
		GROUP BY CASE WHEN r > 0 THEN 1 ELSE 0 END`, from.Int(), to.Int()).Scan(&rows).Error
	if err != nil {
		return analytics.Cohort{}, analytics.Cohort{}, fmt.Errorf("analytics repurchase: %w", err)
	}
	var red, not analytics.Cohort
	for _, r := range rows {
		c := analytics.Cohort{Buyers: r.Buyers, Repeat: r.Repeaters}
		if r.Redeemed == 1 {
			red = c
		} else {
			not = c
		}
	}
	return red, not, nil
}
