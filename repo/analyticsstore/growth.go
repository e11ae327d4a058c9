package analyticsstore

import (
	"context"
	"fmt"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
)

var _ analytics.GrowthStore = (*Store)(nil)

// Funnel implements analytics.GrowthStore.
func (s *Store) Funnel(ctx context.Context, from, to domain.Day) (analytics.Funnel, error) {
	db := s.DB.Conn(ctx)
	lo, hi := from.Start().UTC(), to.AddDays(1).Start().UTC()
	var f analytics.Funnel
	if err := db.Table("invite_codes").Where("created_at >= ? AND created_at < ?", lo, hi).Count(&f.CodesShared).Error; err != nil {
		return f, fmt.Errorf("analytics funnel: codes: %w", err)
	}
	var binds struct{ N, Flagged int64 }
	if err := db.Table("referrals").Select("COUNT(*) AS n, COALESCE(SUM(CASE WHEN flagged THEN 1 ELSE 0 END), 0) AS flagged").
		Where("created_at >= ? AND created_at < ?", lo, hi).Scan(&binds).Error; err != nil {
		return f, fmt.Errorf("analytics funnel: binds: %w", err)
	}
	f.Binds, f.Flagged = binds.N, binds.Flagged
	if err := db.Table("referral_rewards").Select("COUNT(DISTINCT invitee_id)").
		Where("event = ? AND day >= ? AND day <= ?", "order", from.Int(), to.Int()).Scan(&f.FirstOrders).Error; err != nil {
		return f, fmt.Errorf("analytics funnel: first orders: %w", err)
	}
	var paid struct{ N, Points int64 }
	if err := db.Table("referral_rewards").Select("COUNT(*) AS n, COALESCE(SUM(points), 0) AS points").
		Where("status = ? AND day >= ? AND day <= ?", "paid", from.Int(), to.Int()).Scan(&paid).Error; err != nil {
		return f, fmt.Errorf("analytics funnel: rewards: %w", err)
	}
	f.RewardsPaid, f.RewardPoints = paid.N, paid.Points
	return f, nil
}

// Lottery implements analytics.GrowthStore.
func (s *Store) Lottery(ctx context.Context, from, to domain.Day) ([]analytics.LotteryDay, error) {
	var rows []struct {
		Day       int
		PrizeKind string
		Draws     int64
		Cost      int64
		Prize     int64
	}
	if err := s.DB.Conn(ctx).Table("lottery_draws").
		Select("day, prize_kind, COUNT(*) AS draws, COALESCE(SUM(cost_points), 0) AS cost, COALESCE(SUM(points), 0) AS prize").
		Where("day >= ? AND day <= ?", from.Int(), to.Int()).Group("day, prize_kind").Order("day").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("analytics lottery: %w", err)
	}
	var out []analytics.LotteryDay
	for _, r := range rows {
		d := dayOfInt(r.Day)
		if len(out) == 0 || out[len(out)-1].Day != d {
			out = append(out, analytics.LotteryDay{Day: d, Wins: map[string]int64{}})
		}
		ld := &out[len(out)-1]
		ld.Draws += r.Draws
		ld.CostPoints += r.Cost
		ld.PrizePoints += r.Prize
		ld.Wins[r.PrizeKind] += r.Draws
	}
	return out, nil
}
