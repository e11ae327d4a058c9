package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/member"
)

// Guides granting to themselves or their family (issue #24): the budget is
// for the shop's customers, and a customer whose bound phone is the
// guide's own number is the guide, or someone sharing the guide's phone.
//
// The pattern, precisely: a grant to a member whose bound phone equals the
// guide's phone (set in the console; both read as members' phones are, so
// "+86 138 0013 8000" is 13800138000). "The same phone" is the whole
// definition of a relative: nothing else is guessed. A guide without a
// phone is not evaluated. The flag is on the grant's customer (MemberID),
// for that account is the guide's own: with Hold, its spends are held.
// The guide is flagged at most once a Shanghai month per customer.

// selfGrantEvidence is a guide_self_grant flag's Evidence.
type selfGrantEvidence struct {
	GuideID   int64  `json:"guide_id"`
	GuideUser string `json:"guide_user_id"`
	GuideName string `json:"guide_name"`
	MemberID  int64  `json:"member_id"`
	Phone     string `json:"phone"` // the number both have
	GrantID   int64  `json:"grant_id"`
	Points    int64  `json:"points"`
	Month     int    `json:"month"`
}

// validateSelfGrant checks a guide_self_grant rule: it has no parameters.
func (r Rule) validateSelfGrant(f string) error {
	switch {
	case r.Action != GuideGrant:
		return domain.FieldError(f+".action", "guide_grant for a guide_self_grant rule")
	case r.Dimension != GuideDim:
		return domain.FieldError(f+".dimension", "guide for a guide_self_grant rule")
	case r.MaxPerHour != 0 || r.Distinct || r.MaxLength != 0 || r.WindowHours != 0 || r.MaxMinutes != 0 || r.MinPoints != 0 ||
		r.MaxSharePct != 0 || r.unusedPattern():
		return domain.FieldError(f+".max_per_hour", "not used by a guide_self_grant rule: leave it 0")
	}
	return nil
}

// SamePhone reports whether a customer's bound phone is the guide's: the
// one decision of guide_self_grant. Either empty or unreadable is not.
func SamePhone(guidePhone, memberPhone string) bool {
	g, ok := member.NormalPhone(guidePhone)
	if !ok {
		return false
	}
	m, ok := member.NormalPhone(memberPhone)
	return ok && g == m
}

// ObserveSelfGrant evaluates the guide_self_grant rules on a grant that
// committed: nothing when the guide has no phone or no such rule is on,
// else one read of the customer's phone by primary key.
func (s *Service) ObserveSelfGrant(ctx context.Context, g guide.Guide, gr guide.Grant) ([]Flag, error) {
	if g.Phone == "" || s.Members == nil {
		return nil, nil
	}
	rules, err := s.rulesOf(ctx, SelfGrantKind)
	if err != nil || len(rules) == 0 {
		return nil, err
	}
	phone, err := s.Members.Phone(ctx, gr.MemberID)
	if err != nil {
		return nil, fmt.Errorf("risk: phone of member %d: %w", gr.MemberID, err)
	}
	if !SamePhone(g.Phone, phone) {
		return nil, nil
	}
	now := s.Clock.Now()
	ev, _ := json.Marshal(selfGrantEvidence{GuideID: g.ID, GuideUser: g.UserID, GuideName: g.Name, MemberID: gr.MemberID,
		Phone: phone, GrantID: gr.ID, Points: gr.Points, Month: gr.Month})
	var raised []Flag
	for _, r := range rules {
		f := Flag{MemberID: gr.MemberID, Rule: r.Name, Action: GuideGrant, Dimension: GuideDim,
			Key:   "guide " + strconv.FormatInt(g.ID, 10) + " to " + strconv.FormatInt(gr.MemberID, 10),
			Count: gr.Points, Limit: 0, Window: monthStart(now), Held: r.Hold, Status: Open, Evidence: string(ev),
			CreatedAt: now.UTC().Truncate(time.Millisecond)}
		if raised, err = s.raiseInto(ctx, raised, f); err != nil {
			return raised, err
		}
	}
	return raised, nil
}
