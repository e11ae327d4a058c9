package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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
	// Recent is the member's entries made at or after since whose ids
	// are at least fromID (0: any), newest first, at most limit. A journal
	// whose ids need not follow commit order reads from the newest on
	// whatever fromID says.
	Recent(ctx context.Context, memberID int64, since time.Time, fromID int64, limit int) ([]ledger.Entry, error)
	// Boundary is the member's newest entry before the entry beforeID that
	// can start or end a cycle: a spend, a hold, or an earning (an earn or
	// a positive adjustment) of at least minPoints; nil when there is none.
	Boundary(ctx context.Context, memberID, beforeID, minPoints int64) (*ledger.Entry, error)
}

// launderPage is how many of a member's newest entries a spend reads
// first: when they hold no cycle of the window and their oldest spend
// cannot end one either, the spend made no new cycle and the rest of the
// window is not read.
const launderPage = 16

// launderSincePage is how many entries a spend reads from the member's
// newest decided spend on: enough that under a member's concurrent spends
// the page still reaches that spend, and no boundary is read before it.
const launderSincePage = 64

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

	spendID int64 // the spend's ledger entry: cycles through a decided one were counted
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
		case r.earning(*e):
			earn = e
		case e.Kind == ledger.KindSpend || e.Kind == ledger.KindHold && !released[e.Ref]:
			if earn != nil && !e.CreatedAt.Before(from) && e.CreatedAt.Sub(earn.CreatedAt) <= time.Duration(r.MaxMinutes)*time.Minute {
				out = append(out, Cycle{EarnedAt: earn.CreatedAt.UTC(), Earned: earn.Amount, EarnRef: refString(earn.Ref),
					SpentAt: e.CreatedAt.UTC(), Spent: e.Amount, SpendRef: refString(e.Ref), spendID: e.ID})
			}
			earn = nil // this spend ends any cycle: the next needs a new earning
		}
	}
	return out
}

// earning reports whether e can start a cycle of r.
func (r Rule) earning(e ledger.Entry) bool {
	return (e.Kind == ledger.KindEarn || e.Kind == ledger.KindAdjust && e.Delta > 0) && e.Amount >= r.MinPoints
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
	// A rule that flagged the member in this window already has nothing
	// to add until the next.
	now := s.Clock.Now()
	key := memberKey(memberID)
	rules = slices.DeleteFunc(slices.Clone(rules), func(r Rule) bool { return s.flagStored(r.launderWindow(now), r.Name+"|"+key) })
	if len(rules) == 0 {
		return nil, nil
	}
	// What any rule reads: from the earliest window's start, less its
	// minutes (an earning just before the window starts a cycle in it).
	since := now
	for _, r := range rules {
		if t := r.launderWindow(now).Add(-time.Duration(r.MaxMinutes) * time.Minute); t.Before(since) {
			since = t
		}
	}
	// The page starts at the newest spend decided for every rule, when
	// this instance knows one: a member drawing again and again reads its
	// last draw and what came after, not a page of 16.
	floor := int64(0)
	for i, r := range rules {
		if c := s.clearedThrough(r.clearedKey(memberID, now)); i == 0 || c < floor {
			floor = c
		}
	}
	page := launderPage
	if floor > 0 {
		page = launderSincePage
	}
	newest, err := s.Journal.Recent(ctx, memberID, since, floor, page)
	if err != nil {
		return nil, fmt.Errorf("risk: entries of member %d: %w", memberID, err)
	}
	if len(newest) == page || floor > 0 {
		// More of the window may be older. A flag needs a new cycle: one
		// in these entries, or one their oldest spend ends.
		more, err := s.mayHaveNewCycle(ctx, memberID, rules, now, oldestFirst(newest))
		if err != nil || !more {
			return nil, err
		}
		if newest, err = s.Journal.Recent(ctx, memberID, since, 0, JournalLimit); err != nil {
			return nil, fmt.Errorf("risk: entries of member %d: %w", memberID, err)
		}
	}
	entries := oldestFirst(newest)
	var raised []Flag
	for _, r := range rules {
		win := r.launderWindow(now)
		cycles := r.Cycles(entries, win)
		if len(cycles) < r.MinTimes {
			// Every cycle through the newest spend read is counted: a
			// later spend reads the window again only for a new one.
			s.decided(r.clearedKey(memberID, now), newestSpend(entries))
			continue
		}
		ev, _ := json.Marshal(launderingEvidence{MemberID: memberID, MaxMinutes: r.MaxMinutes, MinPoints: r.MinPoints, Cycles: cycles})
		f := Flag{MemberID: memberID, Rule: r.Name, Action: Spend, Dimension: MemberDim, Key: key,
			Count: int64(len(cycles)), Limit: int64(r.MinTimes), Window: win, Held: r.Hold, Status: Open,
			Evidence: string(ev), CreatedAt: now.UTC().Truncate(time.Millisecond)}
		var err error
		if raised, err = s.raiseInto(ctx, raised, f); err != nil {
			return raised, err
		}
		s.noteStored(win, r.Name+"|"+key)
	}
	return raised, nil
}

func oldestFirst(newest []ledger.Entry) []ledger.Entry {
	out := make([]ledger.Entry, len(newest))
	for i, e := range newest {
		out[len(newest)-1-i] = e
	}
	return out
}

// mayHaveNewCycle reports whether the member's latest spend may have made
// a cycle of one of rules, page being the member's newest entries (oldest
// first) and older ones existing. Every earlier cycle was counted by the
// spend that ended it, so without a new one nothing new can be flagged:
// true when page holds a cycle of the rule's window, or when the page's
// first boundary is a spend that an earning before the page may start
// (read by Journal.Boundary, a walk of the member's index back to the
// nearest boundary). Unsure (a hold there, whose release may be older than
// the page) is true.
func (s *Service) mayHaveNewCycle(ctx context.Context, memberID int64, rules []Rule, now time.Time, page []ledger.Entry) (bool, error) {
	for _, r := range rules {
		for _, c := range r.Cycles(page, r.launderWindow(now)) {
			if c.spendID > s.clearedThrough(r.clearedKey(memberID, now)) {
				return true, nil
			}
		}
	}
	released := map[ledger.Ref]bool{}
	for _, e := range page {
		if e.Kind == ledger.KindRelease {
			released[e.Ref] = true
		}
	}
	var lastSpend int64 // the newest spend of the page, for s.cleared
	for _, e := range page {
		if e.Kind == ledger.KindSpend || e.Kind == ledger.KindHold && !released[e.Ref] {
			lastSpend = e.ID
		}
	}
	for _, r := range rules {
		// The page's first boundary: an earning there starts whatever
		// follows in the page (its cycles were looked for above).
		var first *ledger.Entry
		for i := range page {
			if e := &page[i]; r.earning(*e) || e.Kind == ledger.KindSpend || e.Kind == ledger.KindHold && !released[e.Ref] {
				first = e
				break
			}
		}
		if first == nil || r.earning(*first) || first.CreatedAt.Before(r.launderWindow(now)) ||
			first.ID <= s.clearedThrough(r.clearedKey(memberID, now)) {
			continue
		}
		b, err := s.Journal.Boundary(ctx, memberID, page[0].ID, r.MinPoints)
		if err != nil {
			return false, fmt.Errorf("risk: entries of member %d: %w", memberID, err)
		}
		if b == nil || b.Kind == ledger.KindSpend {
			continue
		}
		if b.Kind == ledger.KindHold || first.CreatedAt.Sub(b.CreatedAt) <= time.Duration(r.MaxMinutes)*time.Minute {
			return true, nil
		}
	}
	// No spend of the page ends a cycle of any rule: a later page that
	// starts with one of them needs no boundary read for it.
	for _, r := range rules {
		s.decided(r.clearedKey(memberID, now), lastSpend)
	}
	return false, nil
}

// decided remembers that the member's spends through the entry spendID
// are decided for the rule of key: each ends no cycle, or its cycle was
// counted by an evaluation of the whole window.
func (s *Service) decided(key string, spendID int64) {
	if spendID > s.clearedThrough(key) {
		s.cleared.Put(key, spendID)
	}
}

// newestSpend is the newest spend or hold of entries (oldest first), 0
// when there is none.
func newestSpend(entries []ledger.Entry) int64 {
	for i := len(entries) - 1; i >= 0; i-- {
		if k := entries[i].Kind; k == ledger.KindSpend || k == ledger.KindHold {
			return entries[i].ID
		}
	}
	return 0
}

// clearedKey names the member's spends decided for r in the window of
// now: the rule's settings and the window are in it, so an edit of the
// rule, or a spend evaluated in the next window before a slow evaluation
// of this one ends, starts again.
func (r Rule) clearedKey(memberID int64, now time.Time) string {
	return fmt.Sprintf("%s|%d|%d|%d|%d|%d|%d", r.Name, r.MinPoints, r.MaxMinutes, r.MinTimes, r.WindowHours, r.launderWindow(now).Unix(), memberID)
}

// clearedThrough is the newest spend this instance has decided for the
// rule and member of key (it ends no cycle, or its cycle was counted; its
// earlier spends are decided too), 0 when none: a member drawing again
// and again would otherwise read the boundary, or the whole window, before
// every page.
func (s *Service) clearedThrough(key string) int64 {
	id, _ := s.cleared.Get(key)
	return id
}

// memberKey is the key of a flag on a member's own pattern.
func memberKey(id int64) string { return "member " + strconv.FormatInt(id, 10) }
