// Package rules is the earning rule engine: declarative rules, kept in the
// database and edited from the console, that say how many points an event
// (a paid order, a sign-in, a task, …) earns and why.
//
// A Rule is data: a trigger, conditions, one effect, caps, an optional budget
// pool, a priority, a stacking mode and a validity window. Editing a rule
// creates a new version; every breakdown line names the (rule id, version)
// that produced it, and old versions stay readable.
//
// # Order of application
//
// Only active rules of the event's trigger whose validity window contains
// the event time are considered. Within each stage rules run by priority
// (higher first, then lower id). When a matching rule is exclusive, the
// lower-priority rules of the same stage are skipped; other stages are not
// affected.
//
//  1. Base: "fixed" rules award their points; "rate" rules award points per
//     yuan, bracket by bracket: the part of the amount inside each bracket
//     [from_fen, to_fen) earns that bracket's rate (3,000 元 with 0–1,000 元
//     at 1/元 and 1,000–5,000 元 at 1.5/元 earns 1,000 + 3,000 = 4,000).
//     A rate rule with a categories condition is computed on the amount of
//     the lines in those categories only.
//  2. Category multipliers: a "multiplier" rule with a categories condition
//     applies per order line: its line shows the extra points its factor
//     adds to the base points of the rate rules that come from lines of its
//     categories (a rate rule's exact points are shared among its lines in
//     proportion to their amounts). Category multipliers do not compound
//     with each other.
//  3. Multipliers (tier, double days, weekends, birthday month: multipliers
//     without a categories condition) compound, in priority order, on the
//     running subtotal S of the lines so far: each line shows the extra
//     floor(S × (m − 1000) / 1000) and S grows by it. Base 120, gold ×1.5
//     and weekend ×2 give 120 + 60 + 180 = 360.
//  4. Bonuses: fixed points added after the multipliers (first purchase,
//     every Nth order, N orders in a week); multipliers never scale them.
//  5. Caps, then budget: each line is cut to what its rule may still award
//     the member today / this ISO week / this calendar month (Asia/Shanghai
//     days of the event time), then to what the rule's budget pool still
//     holds. A negative line (a multiplier below ×1) never takes the total
//     below zero.
//
// # Rounding
//
// All arithmetic is on integers and exact rationals: money in fen, rates and
// multipliers in per-mille (1500 = ×1.5, a rate of 1500 = 1.5 points per
// yuan). Each breakdown line is computed exactly and floored once (towards
// minus infinity) per evaluation; the total is the sum of the floored lines,
// so the lines always add up to the total. A line that comes to zero before
// caps and budget is left out of the breakdown; a line cut by a cap or by the
// budget stays in it with Limited set.
//
// # Dry run and the real thing
//
// Service.Simulate evaluates and writes nothing: caps are read, the budget
// is read (not reserved). Service.Apply runs in the unit of work carried by
// ctx (or its own): it reserves from the budget pools with a conditional
// UPDATE, so a pool is never overspent under concurrent orders, and records
// each rule's awarded points for the caps.
package rules

import (
	"time"
)

// Trigger is the kind of event a rule reacts to.
type Trigger string

// The triggers.
const (
	OrderPaid     Trigger = "order_paid"
	SignIn        Trigger = "signin"
	Task          Trigger = "task"
	Referral      Trigger = "referral"
	Review        Trigger = "review"
	Share         Trigger = "share"
	Birthday      Trigger = "birthday"
	Anniversary   Trigger = "anniversary"
	FirstPurchase Trigger = "first_purchase"
	Recharge      Trigger = "recharge"
)

var triggers = map[Trigger]bool{
	OrderPaid: true, SignIn: true, Task: true, Referral: true, Review: true, Share: true,
	Birthday: true, Anniversary: true, FirstPurchase: true, Recharge: true,
}

// Valid reports whether t is a known trigger.
func (t Trigger) Valid() bool { return triggers[t] }

// carriesOrder reports whether events of t come with an order (an amount and
// lines), which rate effects and order conditions need.
func (t Trigger) carriesOrder() bool { return t == OrderPaid || t == FirstPurchase || t == Recharge }

// Status is a rule's life-cycle state.
type Status string

// The statuses. Deleted is a soft delete: the rule and its versions stay.
const (
	Active   Status = "active"
	Inactive Status = "inactive"
	Deleted  Status = "deleted"
)

// Stacking says whether a rule lets lower-priority rules of its stage apply.
type Stacking string

// The stacking modes.
const (
	Stackable Stacking = "stackable"
	Exclusive Stacking = "exclusive"
)

// EffectKind is what a rule awards.
type EffectKind string

// The effects.
const (
	Fixed      EffectKind = "fixed"      // base stage: Points
	Rate       EffectKind = "rate"       // base stage: per-yuan rate by Brackets
	Multiplier EffectKind = "multiplier" // PerMille applied to the base (per line) or the subtotal
	Bonus      EffectKind = "bonus"      // Points added after the multipliers
)

// Rule is one earning rule. ID, Version, CreatedAt, UpdatedAt and
// BudgetRemaining are set by the store.
type Rule struct {
	ID         int64      `json:"id"`
	Version    int        `json:"version"`
	Name       string     `json:"name"`
	Trigger    Trigger    `json:"trigger"`
	Status     Status     `json:"status"`
	Priority   int        `json:"priority"`
	Stacking   Stacking   `json:"stacking"`
	ValidFrom  *time.Time `json:"valid_from,omitempty"` // inclusive; nil = since ever
	ValidTo    *time.Time `json:"valid_to,omitempty"`   // exclusive; nil = for ever
	Conditions Conditions `json:"conditions"`
	Effect     Effect     `json:"effect"`
	Caps       Caps       `json:"caps"`
	// Budget is the total pool of points the rule may ever award; 0 means no
	// pool. What the pool has awarded stays spent across edits: after an
	// update it holds the new total minus that, never below zero.
	Budget          int64     `json:"budget,omitempty"`
	BudgetRemaining int64     `json:"budget_remaining,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Conditions must all hold for a rule to apply; an empty field is no
// condition.
type Conditions struct {
	MinAmountFen int64    `json:"min_amount_fen,omitempty"` // order amount ≥ this
	MaxAmountFen int64    `json:"max_amount_fen,omitempty"` // order amount ≤ this; 0 = no maximum
	Categories   []string `json:"categories,omitempty"`     // some order line in one of them (see the package doc)
	Tiers        []string `json:"tiers,omitempty"`          // member tier code in the list
	// Dates ("YYYY-MM-DD") and Weekdays (1 = Monday … 7 = Sunday) select the
	// Asia/Shanghai day of the event; when both are set, either matches.
	Dates         []string `json:"dates,omitempty"`
	Weekdays      []int    `json:"weekdays,omitempty"`
	NthOrder      int64    `json:"nth_order,omitempty"`       // the member's paid order count is exactly N
	EveryNthOrder int64    `json:"every_nth_order,omitempty"` // the paid order count is a multiple of N
	OrdersInWeek  int64    `json:"orders_in_week,omitempty"`  // this is the member's Nth paid order of the week (once a week)
	FirstPurchase bool     `json:"first_purchase,omitempty"`  // the member's first paid order
	BirthdayMonth bool     `json:"birthday_month,omitempty"`  // the event is in the member's birthday month
	MinStreak     int      `json:"min_streak,omitempty"`      // sign-in streak of at least N days
	Codes         []string `json:"codes,omitempty"`           // the event's code (task code, share target…) is in the list
	Channels      []string `json:"channels,omitempty"`        // order channel
	Stores        []string `json:"stores,omitempty"`          // order store
}

// Effect is what the rule awards.
type Effect struct {
	Kind     EffectKind `json:"kind"`
	Points   int64      `json:"points,omitempty"`    // fixed, bonus
	PerMille int64      `json:"per_mille,omitempty"` // multiplier: 1500 = ×1.5
	Brackets []Bracket  `json:"brackets,omitempty"`  // rate
}

// Bracket is a slice [FromFen, ToFen) of the amount earning PerMille
// thousandths of a point per yuan. ToFen 0 means no upper bound (last
// bracket only).
type Bracket struct {
	FromFen  int64 `json:"from_fen"`
	ToFen    int64 `json:"to_fen,omitempty"`
	PerMille int64 `json:"per_mille"`
}

// Caps limit what the rule awards one member per Asia/Shanghai day, ISO week
// and calendar month; 0 is no cap.
type Caps struct {
	PerDay   int64 `json:"per_day,omitempty"`
	PerWeek  int64 `json:"per_week,omitempty"`
	PerMonth int64 `json:"per_month,omitempty"`
}

func (c Caps) any() bool { return c.PerDay > 0 || c.PerWeek > 0 || c.PerMonth > 0 }

// Filter selects rules for List; empty fields match everything. Deleted
// rules are listed only when Status asks for them.
type Filter struct {
	Trigger Trigger
	Status  Status
}

// activeAt reports whether r is active for trigger at t.
func (r *Rule) activeAt(trigger Trigger, t time.Time) bool {
	if r.Status != Active || r.Trigger != trigger {
		return false
	}
	if r.ValidFrom != nil && t.Before(*r.ValidFrom) {
		return false
	}
	if r.ValidTo != nil && !t.Before(*r.ValidTo) {
		return false
	}
	return true
}
