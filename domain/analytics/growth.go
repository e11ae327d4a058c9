package analytics

import (
	"context"

	"github.com/jifen/jifen/domain"
)

// GrowthStore reads the referral funnel and the lottery's cost from their
// own tables (invite_codes, referrals, referral_rewards, lottery_draws),
// by the indexed day or time of each row.
type GrowthStore interface {
	Funnel(ctx context.Context, from, to domain.Day) (Funnel, error)
	Lottery(ctx context.Context, from, to domain.Day) ([]LotteryDay, error)
}

// Funnel is the referral programme over a range of days.
type Funnel struct {
	CodesShared  int64 // invite codes created (a member opened sharing for the first time)
	Binds        int64 // invitees bound to an inviter
	FirstOrders  int64 // invitees whose first paid order earned a referral reward
	RewardsPaid  int64 // referral rewards paid (capped ones not)
	RewardPoints int64 // their points
	Flagged      int64 // binds flagged for review (risk control's flags, when it flags)
}

// LotteryDay is one day of draws: what they cost and what they gave.
type LotteryDay struct {
	Day         domain.Day
	Draws       int64
	CostPoints  int64            // points taken by paid draws
	PrizePoints int64            // points given as prizes (points prizes and consolation points)
	Wins        map[string]int64 // prize kind (points, coupon, gift, nothing) → draws
}

// Referrals reports the referral funnel of from…to.
func (s *Service) Referrals(ctx context.Context, from, to domain.Day) (Funnel, error) {
	if err := checkRange(from, to); err != nil {
		return Funnel{}, err
	}
	return s.Growth.Funnel(ctx, from, to)
}

// Lottery reports from…to, one entry per day (days without draws are
// zero).
func (s *Service) Lottery(ctx context.Context, from, to domain.Day) ([]LotteryDay, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	days, err := s.Growth.Lottery(ctx, from, to)
	if err != nil {
		return nil, err
	}
	by := map[domain.Day]LotteryDay{}
	for _, d := range days {
		by[d.Day] = d
	}
	var out []LotteryDay
	for d := from; !to.Before(d); d = d.AddDays(1) {
		r, ok := by[d]
		if !ok {
			r = LotteryDay{Day: d, Wins: map[string]int64{}}
		}
		out = append(out, r)
	}
	return out, nil
}
