// Package checkout is points as cash at checkout (积分抵现): the brand's
// order system asks what a member's points are worth on an order (quote),
// reserves them while the shopper pays (hold), spends them when the order
// is paid (capture) or gives them back on cancel or timeout (release), and
// gets them back in proportion when the order is refunded.
//
// The points move only through the ledger (domain/ledger): a checkout's
// hold is a ledger hold with the reference ("checkout", <checkout id>), its
// capture a ledger capture, its release a ledger release (or the ledger's
// expired-hold job), a refund a ledger reversal of the capture. This
// package keeps the order's side: which order, how much it was, what the
// points were worth, what a refund gave back.
//
// # The rules (Policy, one decision: Policy.Limit)
//
// Marketers edit the policy through the console; each edit is a new
// version, audited, used by the next quote on every instance (it is read
// per request). A checkout remembers the rate of the version it was held
// under, so a refund gives back what was taken.
//
//   - Rate: PointsPerUnit points are worth UnitFen fen (100 points = 1
//     yuan by default). Points are used in whole units: an amount of points
//     that is not a multiple of PointsPerUnit is refused.
//   - Eligible amount: the order lines whose category is not excluded.
//   - Maximum share: the points may pay at most MaxSharePermille ‰ of the
//     eligible amount, rounded down to whole units.
//   - Minimum order: below MinOrderFen (the order's total), nothing.
//   - And never more than the member's available points.
//
// # Invariants
//
//   - At most one live (held or captured) checkout per order id (a unique
//     index); a hold whose deadline passed is released before a new hold
//     of the same order is placed.
//   - A checkout's points are the amount of its ledger hold; after a
//     capture, Returned never exceeds Points, and the returned points of
//     an order refunded by refunded/total are
//     units × refunded / total rounded down to whole units (everything once
//     fully refunded).
//   - Bad input (unknown hold, a second capture, a capture after the
//     deadline, more points than the quote allows, a currency or amount
//     that does not match) writes nothing.
package checkout

import (
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/orders"
)

// Currency is the only currency orders are paid in.
const Currency = "CNY"

// RefType is the ledger reference type of checkout holds; the id is the
// checkout's id.
const RefType = "checkout"

// Limits of a policy, also in docs/openapi.yaml.
const (
	MaxPointsPerUnit = 1_000_000
	MaxUnitFen       = 1_000_000
	maxExcluded      = 50
	maxCategory      = 64
	// MaxHold is the longest a hold may wait for its capture.
	MaxHold = 24 * time.Hour
	// DefaultHold is the deadline of a hold that names none.
	DefaultHold = 15 * time.Minute
)

// Policy is the marketers' rules for points at checkout.
type Policy struct {
	Version            int
	Enabled            bool
	PointsPerUnit      int64 // points worth UnitFen
	UnitFen            int64
	MaxSharePermille   int64 // of the eligible amount, 1..1000
	MinOrderFen        int64 // orders below this total use no points
	ExcludedCategories []string
	UpdatedBy          string
	UpdatedAt          time.Time
}

// DefaultPolicy is version 1, which the migration stores: 100 points = 1
// yuan, up to half of the order, no minimum, nothing excluded.
func DefaultPolicy() Policy {
	return Policy{Version: 1, Enabled: true, PointsPerUnit: 100, UnitFen: 100, MaxSharePermille: 500, ExcludedCategories: []string{}}
}

// Validate checks a policy as the console writes it.
func (p *Policy) Validate() error {
	if p.PointsPerUnit < 1 || p.PointsPerUnit > MaxPointsPerUnit {
		return domain.FieldError("points_per_unit", fmt.Sprintf("must be 1 to %d", MaxPointsPerUnit))
	}
	if p.UnitFen < 1 || p.UnitFen > MaxUnitFen {
		return domain.FieldError("unit_fen", fmt.Sprintf("must be 1 to %d", MaxUnitFen))
	}
	if p.MaxSharePermille < 1 || p.MaxSharePermille > 1000 {
		return domain.FieldError("max_share_permille", "must be 1 to 1000")
	}
	if _, err := domain.ParseFenOrZero("min_order_fen", p.MinOrderFen); err != nil {
		return err
	}
	if len(p.ExcludedCategories) > maxExcluded {
		return domain.FieldError("excluded_categories", fmt.Sprintf("at most %d", maxExcluded))
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(p.ExcludedCategories))
	for i, c := range p.ExcludedCategories {
		c = strings.TrimSpace(c)
		if c == "" || utf8.RuneCountInString(c) > maxCategory {
			return domain.FieldError(fmt.Sprintf("excluded_categories[%d]", i), fmt.Sprintf("1 to %d characters", maxCategory))
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	p.ExcludedCategories = out
	return nil
}

// Limit is the one decision on how many points an order may use: the
// eligible amount, the most its points may pay (in whole units) and, when
// that is zero, why. The member's balance is the ledger's business.
func (p Policy) Limit(totalFen int64, lines []orders.Line) (eligibleFen, maxUnits int64, reason string) {
	excluded := map[string]bool{}
	for _, c := range p.ExcludedCategories {
		excluded[c] = true
	}
	for _, l := range lines {
		if !excluded[l.Category] {
			eligibleFen += l.AmountFen
		}
	}
	switch {
	case !p.Enabled:
		return eligibleFen, 0, "points cannot be used at checkout now"
	case totalFen < p.MinOrderFen:
		return eligibleFen, 0, fmt.Sprintf("orders below %d fen cannot use points", p.MinOrderFen)
	case eligibleFen == 0:
		return 0, 0, "no line of this order may be paid with points"
	}
	maxUnits = mulDiv(eligibleFen, p.MaxSharePermille, 1000) / p.UnitFen
	if maxUnits == 0 {
		return eligibleFen, 0, fmt.Sprintf("%d‰ of %d fen is less than one unit of %d fen", p.MaxSharePermille, eligibleFen, p.UnitFen)
	}
	return eligibleFen, maxUnits, ""
}

// Status is a checkout's life stage.
type Status string

// The statuses. Expired is never stored: it is a held checkout whose
// deadline has passed (the ledger's job releases its points).
const (
	Held     Status = "held"
	Captured Status = "captured"
	Released Status = "released"
	Expired  Status = "expired"
)

// Checkout is one order's use of points.
type Checkout struct {
	ID            int64
	MemberID      int64
	OrderID       string
	Key           string // the order system's Idempotency-Key of the hold
	RequestHash   string
	Status        Status
	TotalFen      int64
	EligibleFen   int64
	Points        int64
	ValueFen      int64
	PointsPerUnit int64 // the rate it was held at
	UnitFen       int64
	PolicyVersion int
	Deadline      time.Time
	// ReturnedPoints and ReturnedFen are what refunds gave back so far.
	ReturnedPoints int64
	ReturnedFen    int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Replayed       bool // the stored answer to an earlier request (not stored)
}

// StatusAt is the status as the order system sees it at now: a held
// checkout past its deadline is expired.
func (c *Checkout) StatusAt(now time.Time) Status {
	if c.Status == Held && !c.Deadline.After(now) {
		return Expired
	}
	return c.Status
}

// units is the number of whole units of points the checkout used.
func (c *Checkout) units() int64 { return c.Points / c.PointsPerUnit }

// returnedUnits is the one decision on what a refund gives back: of the
// units used, units × refunded / total rounded down, every unit once
// fully refunded.
func returnedUnits(units, refundedFen, totalFen int64) int64 {
	if refundedFen >= totalFen {
		return units
	}
	return mulDiv(units, refundedFen, totalFen)
}

// mulDiv is floor(a × b / c) for non-negative a, b and positive c, exact
// even when a × b overflows int64.
func mulDiv(a, b, c int64) int64 {
	var r big.Int
	r.Mul(big.NewInt(a), big.NewInt(b))
	return r.Quo(&r, big.NewInt(c)).Int64()
}
