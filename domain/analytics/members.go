package analytics

import (
	"context"
	"time"

	"github.com/jifen/jifen/domain"
)

// MemberStore keeps the member facts: members who joined per day (built
// from the members table by its own cursor, like the journal's), the
// active members of a day by tier, and the orders and redemptions of each
// active member-day, which the repurchase rates are counted from.
type MemberStore interface {
	// MemberStep, in one transaction: lock the members cursor, read up to
	// limit members after it in id order created before horizon, add them
	// to the new members of their Shanghai day and move the cursor. It
	// returns how many members it read and whether it stopped at horizon.
	MemberStep(ctx context.Context, limit int, horizon time.Time) (n int, done bool, err error)
	// Members returns, for from…to, the new members per day and the active
	// members per day by their tier now ("" for members without a tier row).
	Members(ctx context.Context, from, to domain.Day) (joined map[domain.Day]int64, active map[domain.Day]map[string]int64, err error)
	// Buyers returns the members with at least one order in from…to, split
	// by whether they redeemed points in the same days.
	Buyers(ctx context.Context, from, to domain.Day) (redeemed, notRedeemed Cohort, err error)
}

// Cohort is a group of buyers: how many ordered at least once in a window
// and how many of them ordered at least twice.
type Cohort struct {
	Buyers int64
	Repeat int64
	RateBP int64 // Repeat / Buyers in basis points (1/10,000), rounded down; 0 without buyers
}

// MemberDay is one day of Members.
type MemberDay struct {
	Day          domain.Day
	New          int64            // members who joined that day
	Active       int64            // members active that day (see Active)
	ActiveByTier map[string]int64 // the same by their tier now
}

// Members reports from…to, one entry per day. The tier of an active member
// is the one they hold when the report is read.
func (s *Service) Members(ctx context.Context, from, to domain.Day) ([]MemberDay, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	joined, active, err := s.MemberFacts.Members(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []MemberDay
	for d := from; !to.Before(d); d = d.AddDays(1) {
		r := MemberDay{Day: d, New: joined[d], ActiveByTier: map[string]int64{}}
		for tier, n := range active[d] {
			r.ActiveByTier[tier] = n
			r.Active += n
		}
		r.ActiveByTier = s.byTier(r.ActiveByTier)
		out = append(out, r)
	}
	return out, nil
}

// Repurchase is the repurchase rate of the members who ordered in the
// Window days ending on To, for those who redeemed points in the same days
// against those who did not.
type Repurchase struct {
	Window      int
	From, To    domain.Day
	Redeemed    Cohort
	NotRedeemed Cohort
}

// RepurchaseWindows are the windows reported (days).
var RepurchaseWindows = []int{30, 90}

// Repurchases reports the 30- and 90-day repurchase rates ending on to.
// An order counts when it earned points (an earn referencing the order,
// counted on the day it was paid); orders that earned nothing are not in
// the journal and not counted.
func (s *Service) Repurchases(ctx context.Context, to domain.Day) ([]Repurchase, error) {
	var out []Repurchase
	for _, w := range RepurchaseWindows {
		from := to.AddDays(-(w - 1))
		red, not, err := s.MemberFacts.Buyers(ctx, from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, Repurchase{Window: w, From: from, To: to, Redeemed: red.rated(), NotRedeemed: not.rated()})
	}
	return out, nil
}

func (c Cohort) rated() Cohort {
	if c.Buyers > 0 {
		c.RateBP = c.Repeat * 10000 / c.Buyers
	}
	return c
}

func checkRange(from, to domain.Day) error {
	if to.Before(from) {
		return domain.Errorf(domain.Invalid, "to is before from")
	}
	if from.AddDays(MaxRange - 1).Before(to) {
		return domain.Errorf(domain.Invalid, "a report spans at most %d days", MaxRange)
	}
	return nil
}

// newMembers brings the new-member facts up to horizon.
func (s *Service) newMembers(ctx context.Context, size int, horizon time.Time) (int, error) {
	total := 0
	for {
		n, done, err := s.MemberFacts.MemberStep(ctx, size, horizon)
		total += n
		if err != nil || done || n < size {
			return total, err
		}
	}
}
