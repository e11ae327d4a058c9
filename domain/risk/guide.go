package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/guide"
)

// Grants is what the guide rules read of guides' grants.
type Grants interface {
	// FirstGrantAt is when the guide's first grant of month (yyyymm,
	// Shanghai) was made.
	FirstGrantAt(ctx context.Context, guideID int64, month int) (time.Time, error)
	// MemberMonth is the points the guide granted the member in month.
	MemberMonth(ctx context.Context, guideID, memberID int64, month int) (int64, error)
}

// budgetEvidence is a guide_budget_burn flag's Evidence.
type budgetEvidence struct {
	GuideID    int64     `json:"guide_id"`
	GuideUser  string    `json:"guide_user_id"` // the WeCom userid
	GuideName  string    `json:"guide_name"`
	Budget     int64     `json:"budget"`
	Used       int64     `json:"used"`
	FirstGrant time.Time `json:"first_grant_at"`
	UsedUpAt   time.Time `json:"used_up_at"`
	LastMember int64     `json:"last_member_id"` // the customer of the grant that used it up
}

var _ guide.GrantWatcher = (*Service)(nil)

// GrantMade implements guide.GrantWatcher: the grant committed either way,
// so a flag that cannot be written is logged.
func (s *Service) GrantMade(ctx context.Context, g guide.Guide, gr guide.Grant, used int64) {
	if _, err := s.ObserveGrant(ctx, g, gr, used); err != nil {
		s.log().WarnContext(ctx, "risk: guide grant not evaluated", "guide_id", g.ID, "err", err.Error())
	}
	if _, err := s.ObserveConcentration(ctx, g, gr, used); err != nil {
		s.log().WarnContext(ctx, "risk: guide grant not evaluated", "guide_id", g.ID, "err", err.Error())
	}
	if _, err := s.ObserveSelfGrant(ctx, g, gr); err != nil {
		s.log().WarnContext(ctx, "risk: guide grant not evaluated", "guide_id", g.ID, "err", err.Error())
	}
}

// concentrationEvidence is a guide_concentration flag's Evidence.
type concentrationEvidence struct {
	GuideID   int64  `json:"guide_id"`
	GuideUser string `json:"guide_user_id"`
	GuideName string `json:"guide_name"`
	MemberID  int64  `json:"member_id"` // the customer given the share
	ToMember  int64  `json:"member_points"`
	Total     int64  `json:"guide_points"` // the guide's month total
	Month     int    `json:"month"`
}

// ObserveConcentration evaluates the guide_concentration rules on a grant
// that committed, used being the guide's month total with it. Below every
// rule's MinPoints it reads nothing; above, one indexed sum of the
// customer's month from this guide. A guide is flagged at most once a
// month per rule and customer.
func (s *Service) ObserveConcentration(ctx context.Context, g guide.Guide, gr guide.Grant, used int64) ([]Flag, error) {
	if s.Grants == nil {
		return nil, nil
	}
	p, err := s.policy(ctx)
	if err != nil {
		return nil, fmt.Errorf("risk policy: %w", err)
	}
	var rules []Rule
	for _, r := range p.Rules {
		if r.Enabled && r.Kind == ConcentrationKind && used >= r.MinPoints {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return nil, nil
	}
	to, err := s.Grants.MemberMonth(ctx, g.ID, gr.MemberID, gr.Month)
	if err != nil {
		return nil, fmt.Errorf("risk: grants of guide %d to member %d: %w", g.ID, gr.MemberID, err)
	}
	now := s.Clock.Now()
	ev, _ := json.Marshal(concentrationEvidence{GuideID: g.ID, GuideUser: g.UserID, GuideName: g.Name, MemberID: gr.MemberID,
		ToMember: to, Total: used, Month: gr.Month})
	var raised []Flag
	for _, r := range rules {
		if to*100 <= used*int64(r.MaxSharePct) {
			continue
		}
		f := Flag{Rule: r.Name, Action: GuideGrant, Dimension: GuideDim,
			Key:   "guide " + strconv.FormatInt(g.ID, 10) + " to " + strconv.FormatInt(gr.MemberID, 10),
			Count: to * 100 / used, Limit: int64(r.MaxSharePct), Window: monthStart(now), Status: Open, Evidence: string(ev),
			CreatedAt: now.UTC().Truncate(time.Millisecond)}
		var err error
		if raised, err = s.raiseInto(ctx, raised, f); err != nil {
			return raised, err
		}
	}
	return raised, nil
}

// monthStart is the start of t's Shanghai month.
func monthStart(t time.Time) time.Time {
	d := domain.DayOf(t)
	return time.Date(d.Year, d.Month, 1, 0, 0, 0, 0, domain.Shanghai).UTC()
}

// ObserveGrant evaluates the guide rules on a grant that committed, used
// being the guide's month total with it. Only the grant that uses the
// budget up reads anything: the time of the month's first grant. A guide
// is flagged at most once a month per rule.
func (s *Service) ObserveGrant(ctx context.Context, g guide.Guide, gr guide.Grant, used int64) ([]Flag, error) {
	if g.MonthlyBudget <= 0 || used < g.MonthlyBudget || s.Grants == nil {
		return nil, nil
	}
	rules, err := s.rulesOf(ctx, BudgetBurnKind)
	if err != nil || len(rules) == 0 {
		return nil, err
	}
	first, err := s.Grants.FirstGrantAt(ctx, g.ID, gr.Month)
	if err != nil {
		return nil, fmt.Errorf("risk: first grant of guide %d: %w", g.ID, err)
	}
	now := s.Clock.Now()
	took := now.Sub(first)
	minutes := int64((took + time.Minute - 1) / time.Minute) // started minutes
	ev, _ := json.Marshal(budgetEvidence{GuideID: g.ID, GuideUser: g.UserID, GuideName: g.Name, Budget: g.MonthlyBudget,
		Used: used, FirstGrant: first.UTC(), UsedUpAt: now.UTC(), LastMember: gr.MemberID})
	var raised []Flag
	for _, r := range rules {
		if took > time.Duration(r.MaxMinutes)*time.Minute {
			continue
		}
		f := Flag{Rule: r.Name, Action: GuideGrant, Dimension: GuideDim, Key: "guide " + strconv.FormatInt(g.ID, 10),
			Count: minutes, Limit: int64(r.MaxMinutes), Window: monthStart(first),
			Status: Open, Evidence: string(ev), CreatedAt: now.UTC().Truncate(time.Millisecond)}
		var err error
		if raised, err = s.raiseInto(ctx, raised, f); err != nil {
			return raised, err
		}
	}
	return raised, nil
}
