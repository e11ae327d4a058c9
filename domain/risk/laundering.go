package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// Points laundering (issue #24): points earned and spent within minutes,
// again and again. A farm's points are moved out through the mall or the
// lottery as soon as they land; a customer earns at the till and spends
// another day.
//
// The pattern, precisely: a **cycle** is a spend (a ledger spend, or a
// hold not released since: points at checkout, the points of a points +
// cash item) that comes at most MaxMinutes after the member's latest
// earning of at least MinPoints (a ledger earn, or a manual credit), with
// no other spend between them: the earning was spent at once. A hold
// released (the till's order cancelled, the cash never paid) spent
// nothing and is no spend at all. Smaller earnings (a daily sign-in)
// neither start nor end a cycle. A member with at least MinTimes
// cycles whose spends fall within one window of WindowHours (windows start
// at Shanghai midnight; WindowHours divides 24) is flagged once in that
// window.

// Journal is what the laundering rule reads of the points ledger.
type Journal interface {
	// Recent is the member's entries made at or after since, newest
	// first, at most limit.
	Recent(ctx context.Context, memberID int64, since time.Time, limit int) ([]ledger.Entry, error)
}

// JournalLimit bounds the entries a spend reads: a member with more than
// this many entries in one window is counted over the newest.
const JournalLimit = 200

// Cycle is one earning spent at once, the evidence of points_laundering.
type Cycle struct {
	EarnedAt time.Time `json:"earned_at"`
	Earned   int64     `json:"earned"`
	EarnRef  string    `json:"earn_ref"` // the ledger reference, "order:A-1"
	SpentAt  time.Time `json:"spent_at"`
	Spent    int64     `json:"spent"`
	SpendRef string    `json:"spend_ref"`
}

// launderingEvidence is a points_laundering flag's Evidence.
type launderingEvidence struct {
	MemberID   int64   `json:"member_id"`
	MaxMinutes int     `json:"max_minutes"`
	MinPoints  int64   `json:"min_points"`
	Cycles     []Cycle `json:"cycles"`
}

// validateLaundering checks a points_laundering rule.
func (r Rule) validateLaundering(f string) error {
	switch {
	case r.Action != Spend:
		return domain.FieldError(f+".action", "spend for a points_laundering rule")
	case r.Dimension != MemberDim:
		return domain.FieldError(f+".dimension", "member for a points_laundering rule")
	case r.MaxMinutes < 1 || r.MaxMinutes > 1440:
		return domain.FieldError(f+".max_minutes", "between 1 and 1440")
	case r.MinTimes < 2 || r.MinTimes > 1000:
		return domain.FieldError(f+".min_times", "between 2 and 1000")
	case r.MinPoints < 1 || r.MinPoints > 1_000_000_000:
		return domain.FieldError(f+".min_points", "between 1 and 1000000000")
	case r.WindowHours < 1 || 24%r.WindowHours != 0:
		return domain.FieldError(f+".window_hours", "one of 1, 2, 3, 4, 6, 8, 12, 24 (windows start at Shanghai midnight)")
	case r.MaxPerHour != 0 || r.Distinct || r.MaxLength != 0 || r.MaxSharePct != 0 || r.Span != 0 || r.MaxMembers != 0 || r.MinRewards != 0:
		return domain.FieldError(f+".max_per_hour", "not used by a points_laundering rule: leave it 0")
	}
	return nil
}

// launderWindow is the start of the window of WindowHours that t falls in,
// windows starting at Shanghai midnight.
func (r Rule) launderWindow(t time.Time) time.Time {
	d := domain.DayOf(t)
	midnight := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, domain.Shanghai)
	n := t.Sub(midnight) / (time.Duration(r.WindowHours) * time.Hour)
	return midnight.Add(n * time.Duration(r.WindowHours) * time.Hour).UTC()
}

// Cycles lists the rule's cycles in entries (oldest first) whose spends
// are at or after from: the one decision of what a cycle is.
func (r Rule) Cycles(entries []ledger.Entry, from time.Time) []Cycle {
	released := map[ledger.Ref]bool{} // a release carries its hold's reference
	for _, e := range entries {
		if e.Kind == ledger.KindRelease {
			released[e.Ref] = true
		}
	}
	var out []Cycle
	var earn *ledger.Entry
	for i := range entries {
		e := &entries[i]
		switch {
		case (e.Kind == ledger.KindEarn || e.Kind == ledger.KindAdjust && e.Delta > 0) && e.Amount >= r.MinPoints:
			earn = e
		case e.Kind == ledger.KindSpend || e.Kind == ledger.KindHold && !released[e.Ref]:
			if earn != nil && !e.CreatedAt.Before(from) && e.CreatedAt.Sub(earn.CreatedAt) <= time.Duration(r.MaxMinutes)*time.Minute {
				out = append(out, Cycle{EarnedAt: earn.CreatedAt.UTC(), Earned: earn.Amount, EarnRef: refString(earn.Ref),
					SpentAt: e.CreatedAt.UTC(), Spent: e.Amount, SpendRef: refString(e.Ref)})
			}
			earn = nil // this spend ends any cycle: the next needs a new earning
		}
	}
	return out
}

func refString(r ledger.Ref) string {
	if r.Type == "" {
		return r.ID
	}
	return r.Type + ":" + r.ID
}

// Spent is what a spend route calls once a spend of points (a mall
// redemption, a paid draw, a make-up sign-in, a checkout's points
// captured) committed: it evaluates the laundering rules
// and logs what it cannot (the spend happened either way).
func (s *Service) Spent(ctx context.Context, memberID int64) {
	if _, err := s.ObserveSpend(ctx, memberID); err != nil {
		s.log().WarnContext(ctx, "risk: spend not evaluated", "member_id", memberID, "err", err.Error())
	}
}

// ObserveSpend evaluates the points_laundering rules after a spend of the
// member committed: the member's entries of the window (by the journal's
// (member_id, id) index, newest first: a page of 16, then the rest when
// all 16 are in the window), nothing when no such rule is on.
func (s *Service) ObserveSpend(ctx context.Context, memberID int64) ([]Flag, error) {
	if s.Journal == nil {
		return nil, nil
	}
	rules, err := s.rulesOf(ctx, LaunderingKind)
	if err != nil || len(rules) == 0 {
		return nil, err
	}
	// What any rule reads: from the earliest window's start, less its
	// minutes (an earning just before the window starts a cycle in it).
	now := s.Clock.Now()
	since := now
	for _, r := range rules {
		if t := r.launderWindow(now).Add(-time.Duration(r.MaxMinutes) * time.Minute); t.Before(since) {
			since = t
		}
	}
	newest, err := s.Journal.Recent(ctx, memberID, since, JournalLimit)
	if err != nil {
		return nil, fmt.Errorf("risk: entries of member %d: %w", memberID, err)
	}
	entries := make([]ledger.Entry, len(newest))
	for i, e := range newest {
		entries[len(newest)-1-i] = e
	}
	var raised []Flag
	for _, r := range rules {
		win := r.launderWindow(now)
		cycles := r.Cycles(entries, win)
		if len(cycles) < r.MinTimes {
			continue
		}
		ev, _ := json.Marshal(launderingEvidence{MemberID: memberID, MaxMinutes: r.MaxMinutes, MinPoints: r.MinPoints, Cycles: cycles})
		f := Flag{MemberID: memberID, Rule: r.Name, Action: Spend, Dimension: MemberDim, Key: memberKey(memberID),
			Count: int64(len(cycles)), Limit: int64(r.MinTimes), Window: win, Held: r.Hold, Status: Open,
			Evidence: string(ev), CreatedAt: now.UTC().Truncate(time.Millisecond)}
		var err error
		if raised, err = s.raiseInto(ctx, raised, f); err != nil {
			return raised, err
		}
	}
	return raised, nil
}

// memberKey is the key of a flag on a member's own pattern.
func memberKey(id int64) string { return "member " + strconv.FormatInt(id, 10) }
