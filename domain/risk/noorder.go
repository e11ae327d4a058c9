package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
)

// Referral rewards to members who never order (issue #24): a farm's
// collecting account brings "friends" (its own accounts) by the dozen and
// turns the rewards into mall items, but buys nothing itself; a customer
// who recommends the brand is a customer.
//
// The pattern, precisely: a member paid at least MinRewards referral
// rewards (every level and event, as referral_rewards records them paid)
// who has no order matched to them that was not wholly refunded. It is
// evaluated when a reward is paid for a bound phone (the phone route, after
// the bind committed): for the invitee's inviter and the inviter's inviter.
// A member is flagged at most once a Shanghai month per rule.

// Referrals is what the referral_no_order rule reads.
type Referrals interface {
	// Inviters are the members a bind of the invitee's phone rewards: its
	// inviter and the inviter's inviter, those that exist.
	Inviters(ctx context.Context, inviteeID int64) ([]int64, error)
	// Rewarded is how many referral rewards were paid to the member, and
	// their points.
	Rewarded(ctx context.Context, memberID int64) (count, points int64, err error)
	// Ordered reports whether the member has an order not wholly refunded.
	Ordered(ctx context.Context, memberID int64) (bool, error)
}

// noOrderEvidence is a referral_no_order flag's Evidence.
type noOrderEvidence struct {
	MemberID  int64 `json:"member_id"`
	Rewards   int64 `json:"rewards"` // referral rewards paid to the member
	Points    int64 `json:"points"`  // their points
	Orders    int64 `json:"orders"`  // always 0: the member never ordered
	InviteeID int64 `json:"last_invitee_id"`
}

// validateNoOrder checks a referral_no_order rule.
func (r Rule) validateNoOrder(f string) error {
	switch {
	case r.Action != ReferralReward:
		return domain.FieldError(f+".action", "referral_reward for a referral_no_order rule")
	case r.Dimension != MemberDim:
		return domain.FieldError(f+".dimension", "member for a referral_no_order rule")
	case r.MinRewards < 1 || r.MinRewards > 1_000_000:
		return domain.FieldError(f+".min_rewards", "between 1 and 1000000")
	case r.MaxPerHour != 0 || r.Distinct || r.MaxLength != 0 || r.WindowHours != 0 || r.MaxMinutes != 0 || r.MinPoints != 0 ||
		r.MaxSharePct != 0 || r.MinTimes != 0 || r.Span != 0 || r.MaxMembers != 0:
		return domain.FieldError(f+".max_per_hour", "not used by a referral_no_order rule: leave it 0")
	}
	return nil
}

// ObserveRewarded evaluates the referral_no_order rules for the members
// the phone bind of inviteeID rewarded. A member nobody invited costs one
// read by primary key; an inviter, one indexed count of its rewards and,
// from MinRewards on, one indexed look for an order.
func (s *Service) ObserveRewarded(ctx context.Context, inviteeID int64) ([]Flag, error) {
	if s.Referrals == nil {
		return nil, nil
	}
	rules, err := s.rulesOf(ctx, NoOrderKind)
	if err != nil || len(rules) == 0 {
		return nil, err
	}
	least := 0
	for _, r := range rules {
		if least == 0 || r.MinRewards < least {
			least = r.MinRewards
		}
	}
	inviters, err := s.Referrals.Inviters(ctx, inviteeID)
	if err != nil {
		return nil, fmt.Errorf("risk: inviters of member %d: %w", inviteeID, err)
	}
	now := s.Clock.Now()
	var raised []Flag
	for _, m := range inviters {
		count, points, err := s.Referrals.Rewarded(ctx, m)
		if err != nil {
			return raised, fmt.Errorf("risk: rewards of member %d: %w", m, err)
		}
		if count < int64(least) {
			continue
		}
		ordered, err := s.Referrals.Ordered(ctx, m)
		if err != nil {
			return raised, fmt.Errorf("risk: orders of member %d: %w", m, err)
		}
		if ordered {
			continue
		}
		ev, _ := json.Marshal(noOrderEvidence{MemberID: m, Rewards: count, Points: points, InviteeID: inviteeID})
		for _, r := range rules {
			if count < int64(r.MinRewards) {
				continue
			}
			f := Flag{MemberID: m, Rule: r.Name, Action: ReferralReward, Dimension: MemberDim, Key: memberKey(m),
				Count: count, Limit: int64(r.MinRewards), Window: monthStart(now), Held: r.Hold, Status: Open,
				Evidence: string(ev), CreatedAt: now.UTC().Truncate(time.Millisecond)}
			var err error
			if raised, err = s.raiseInto(ctx, raised, f); err != nil {
				return raised, err
			}
		}
	}
	return raised, nil
}
