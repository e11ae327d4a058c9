package rules

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"time"

	"github.com/jifen/jifen/domain"
)

// Input is one event to evaluate.
type Input struct {
	Trigger Trigger
	Member  Member
	// Order is required for order triggers (order_paid, first_purchase,
	// recharge) and ignored otherwise.
	Order *Order
	// Code is the event's own code for non-order triggers: the task code, the
	// share target, the referral level… matched by conditions.codes.
	Code string
	// Streak is the sign-in streak in days, this sign-in included.
	Streak int
	// At is when the event happened; for orders Order.OccurredAt wins, and
	// when both are zero the service's clock is read.
	At time.Time
	// DryRun makes Evaluate a Simulate: nothing is reserved or recorded.
	DryRun bool
	// Draft, in a simulation only, is a rule being created (ID 0) or
	// edited (the rule's ID): it takes part as if saved and active, in
	// place of the rule's current version. A new draft's lines have
	// RuleID 0.
	Draft *Rule
}

// Member is what the engine knows of the member. The counts include the
// order being evaluated.
type Member struct {
	ID                 int64
	Tier               string // tier code, e.g. "silver", "gold"
	Birthday           string // "YYYY-MM-DD", "" when unknown
	PaidOrders         int64  // paid orders ever, this one included
	PaidOrdersThisWeek int64  // paid orders this ISO week (Asia/Shanghai), this one included
	FirstPurchase      bool   // this is the member's first paid order
}

// Order is a paid order. Money is in fen.
type Order struct {
	ID string
	// AmountFen is the amount that earns points; 0 means the sum of the lines.
	AmountFen  int64
	Lines      []OrderLine
	Store      string
	Channel    string
	OccurredAt time.Time
}

// OrderLine is one line of an order.
type OrderLine struct {
	SKU       string
	Category  string
	Qty       int64
	AmountFen int64
}

// Line is one line of the breakdown: the points one rule added. For a
// multiplier it is the extra points its factor adds.
type Line struct {
	RuleID   int64      `json:"rule_id"`
	Version  int        `json:"version"`
	Name     string     `json:"name"`
	Kind     EffectKind `json:"kind"`
	PerMille int64      `json:"per_mille,omitempty"` // multipliers: 1500 = ×1.5
	Points   int64      `json:"points"`
	// Limited says what cut the line, when something did: "cap_day",
	// "cap_week", "cap_month", "budget" or "floor" (a negative multiplier
	// line reduced so the total stays at zero or above).
	Limited string `json:"limited,omitempty"`
}

// Result is the breakdown of an evaluation; the lines sum to Total.
type Result struct {
	Trigger  Trigger   `json:"trigger"`
	MemberID int64     `json:"member_id"`
	At       time.Time `json:"at"`
	Total    int64     `json:"total"`
	Lines    []Line    `json:"lines"`
	DryRun   bool      `json:"dry_run"`
}

// RuleRef names one version of a rule.
type RuleRef struct {
	ID      int64 `json:"id"`
	Version int   `json:"version"`
}

// Rules returns the (rule id, version) pairs the evaluation used, in
// breakdown order.
func (r Result) Rules() []RuleRef {
	refs := make([]RuleRef, 0, len(r.Lines))
	for _, l := range r.Lines {
		refs = append(refs, RuleRef{l.RuleID, l.Version})
	}
	return refs
}

const (
	stageBase = iota
	stageCategory
	stageMultiplier
	stageBonus
	stages
)

func stageOf(r *Rule) int {
	switch r.Effect.Kind {
	case Multiplier:
		if len(r.Conditions.Categories) > 0 {
			return stageCategory
		}
		return stageMultiplier
	case Bonus:
		return stageBonus
	default:
		return stageBase
	}
}

// eventTime is the time the input's event happened, or zero.
func (in *Input) eventTime() time.Time {
	if in.Order != nil && !in.Order.OccurredAt.IsZero() {
		return in.Order.OccurredAt
	}
	return in.At
}

// check validates the input at the boundary, so the engine never meets a
// negative amount.
func (in *Input) check() error {
	if !in.Trigger.Valid() {
		return domain.FieldError("trigger", "unknown trigger")
	}
	if in.Draft != nil && !in.DryRun {
		return domain.FieldError("draft", "only a simulation may try a draft")
	}
	if in.Member.ID < 0 {
		return domain.FieldError("member.id", "must not be negative")
	}
	if in.Member.PaidOrders < 0 || in.Member.PaidOrdersThisWeek < 0 || in.Streak < 0 {
		return domain.FieldError("member", "counts must not be negative")
	}
	if in.Member.Birthday != "" {
		if _, err := domain.ParseDay(in.Member.Birthday); err != nil {
			return domain.FieldError("member.birthday", "must be YYYY-MM-DD")
		}
	}
	if !in.Trigger.carriesOrder() {
		return nil
	}
	if in.Order == nil {
		return domain.FieldError("order", "required for trigger "+string(in.Trigger))
	}
	if _, err := domain.ParseFenOrZero("order.total_fen", in.Order.AmountFen); err != nil {
		return err
	}
	var sum domain.Fen
	for i, l := range in.Order.Lines {
		f := fmt.Sprintf("order.lines[%d].", i)
		amount, err := domain.ParseFenOrZero(f+"amount_fen", l.AmountFen)
		if err != nil {
			return err
		}
		if l.Qty < 0 {
			return domain.FieldError(f+"qty", "must not be negative")
		}
		if sum, err = sum.Add(amount); err != nil || sum > domain.MaxFen {
			return domain.FieldError("order.lines", fmt.Sprintf("amounts must sum to at most %d", domain.MaxFen))
		}
	}
	return nil
}

func (in *Input) orderAmount() int64 {
	if in.Order == nil {
		return 0
	}
	if in.Order.AmountFen > 0 {
		return in.Order.AmountFen
	}
	var sum int64
	for _, l := range in.Order.Lines {
		sum += l.AmountFen
	}
	return sum
}

// Calculate is the pure part of an evaluation: it applies the base,
// category multiplier, multiplier and bonus stages of the rules active for
// in.Trigger at `at` (other rules are ignored) and returns the breakdown
// before caps and budget. It reads nothing and writes nothing.
func Calculate(rs []Rule, in Input, at time.Time) (Result, error) {
	if err := in.check(); err != nil {
		return Result{}, err
	}
	res := Result{Trigger: in.Trigger, MemberID: in.Member.ID, At: at, DryRun: in.DryRun}
	var byStage [stages][]*Rule
	for i := range rs {
		r := &rs[i]
		if r.activeAt(in.Trigger, at) {
			byStage[stageOf(r)] = append(byStage[stageOf(r)], r)
		}
	}
	for _, list := range byStage {
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].Priority != list[j].Priority {
				return list[i].Priority > list[j].Priority
			}
			return list[i].ID < list[j].ID
		})
	}
	day := domain.DayOf(at)

	// applied base rate rules, for the category multipliers
	type rated struct {
		rule  *Rule
		exact *big.Rat
	}
	var rates []rated
	var subtotal int64
	add := func(r *Rule, exact *big.Rat) error {
		p, err := floor(exact)
		if err != nil {
			return err
		}
		if p != 0 {
			res.Lines = append(res.Lines, Line{RuleID: r.ID, Version: r.Version, Name: r.Name, Kind: r.Effect.Kind, PerMille: r.Effect.PerMille, Points: p})
			subtotal += p
		}
		return nil
	}

	for stage, list := range byStage {
		for _, r := range list {
			if !matches(r, &in, day) {
				continue
			}
			var exact *big.Rat
			switch stage {
			case stageBase:
				if r.Effect.Kind == Fixed {
					exact = new(big.Rat).SetInt64(r.Effect.Points)
				} else {
					exact = rateExact(r, &in)
					rates = append(rates, rated{r, exact})
				}
			case stageCategory:
				exact = new(big.Rat)
				for _, b := range rates {
					share := lineShare(&in, b.rule.Conditions.Categories, r.Conditions.Categories)
					exact.Add(exact, new(big.Rat).Mul(b.exact, share))
				}
				exact.Mul(exact, big.NewRat(r.Effect.PerMille-1000, 1000))
			case stageMultiplier:
				exact = big.NewRat(subtotal, 1)
				exact.Mul(exact, big.NewRat(r.Effect.PerMille-1000, 1000))
			case stageBonus:
				exact = new(big.Rat).SetInt64(r.Effect.Points)
			}
			if err := add(r, exact); err != nil {
				return Result{}, err
			}
			if r.Stacking == Exclusive {
				break
			}
		}
	}
	res.Total = subtotal
	return res, nil
}

// floor rounds x towards minus infinity and refuses a line beyond
// domain.MaxPoints either way. Fixed and bonus points and multipliers are
// bounded by Validate, so only an order's amount times a rate can get there:
// the error names the amount.
func floor(x *big.Rat) (int64, error) {
	q := new(big.Int).Div(x.Num(), x.Denom()) // Euclidean: floor for a positive denominator
	if !q.IsInt64() || q.Int64() > int64(domain.MaxPoints) || q.Int64() < -int64(domain.MaxPoints) {
		return 0, domain.FieldError("total_fen", fmt.Sprintf("the order would earn more than %d points under the active rules", domain.MaxPoints))
	}
	return q.Int64(), nil
}

// rateExact is the exact points of a rate rule: the part of the eligible
// amount inside each bracket at that bracket's rate.
func rateExact(r *Rule, in *Input) *big.Rat {
	amount := in.orderAmount()
	if len(r.Conditions.Categories) > 0 {
		amount = 0
		for _, l := range in.Order.Lines {
			if slices.Contains(r.Conditions.Categories, l.Category) {
				amount += l.AmountFen
			}
		}
	}
	num := new(big.Int)
	for _, b := range r.Effect.Brackets {
		hi := amount
		if b.ToFen != 0 && b.ToFen < hi {
			hi = b.ToFen
		}
		if hi <= b.FromFen {
			continue
		}
		num.Add(num, new(big.Int).Mul(big.NewInt(hi-b.FromFen), big.NewInt(b.PerMille)))
	}
	return new(big.Rat).SetFrac(num, big.NewInt(100*1000)) // fen per yuan × per-mille
}

// lineShare is the part of a rate rule's points that comes from the lines in
// cats: the amount of its eligible lines (all lines when ruleCats is empty)
// that are in cats, over the amount of all its eligible lines.
func lineShare(in *Input, ruleCats, cats []string) *big.Rat {
	var eligible, matched int64
	for _, l := range in.Order.Lines {
		if len(ruleCats) > 0 && !slices.Contains(ruleCats, l.Category) {
			continue
		}
		eligible += l.AmountFen
		if slices.Contains(cats, l.Category) {
			matched += l.AmountFen
		}
	}
	if eligible == 0 {
		return new(big.Rat)
	}
	return big.NewRat(matched, eligible)
}

func matches(r *Rule, in *Input, day domain.Day) bool {
	c := &r.Conditions
	if in.Trigger.carriesOrder() {
		amount := in.orderAmount()
		if amount < c.MinAmountFen || (c.MaxAmountFen > 0 && amount > c.MaxAmountFen) {
			return false
		}
		if len(c.Categories) > 0 && !slices.ContainsFunc(in.Order.Lines, func(l OrderLine) bool {
			return slices.Contains(c.Categories, l.Category)
		}) {
			return false
		}
		if len(c.Channels) > 0 && !slices.Contains(c.Channels, in.Order.Channel) {
			return false
		}
		if len(c.Stores) > 0 && !slices.Contains(c.Stores, in.Order.Store) {
			return false
		}
	} else if c.MinAmountFen > 0 || c.MaxAmountFen > 0 || len(c.Categories) > 0 || len(c.Channels) > 0 || len(c.Stores) > 0 {
		return false
	}
	if len(c.Tiers) > 0 && !slices.Contains(c.Tiers, in.Member.Tier) {
		return false
	}
	if len(c.Dates) > 0 || len(c.Weekdays) > 0 {
		wd := int(day.Start().Weekday())
		if wd == 0 {
			wd = 7
		}
		if !slices.Contains(c.Dates, day.String()) && !slices.Contains(c.Weekdays, wd) {
			return false
		}
	}
	if c.NthOrder > 0 && in.Member.PaidOrders != c.NthOrder {
		return false
	}
	if c.EveryNthOrder > 0 && (in.Member.PaidOrders == 0 || in.Member.PaidOrders%c.EveryNthOrder != 0) {
		return false
	}
	if c.OrdersInWeek > 0 && in.Member.PaidOrdersThisWeek != c.OrdersInWeek {
		return false
	}
	if c.FirstPurchase && !in.Member.FirstPurchase {
		return false
	}
	if c.BirthdayMonth {
		b, err := domain.ParseDay(in.Member.Birthday)
		if err != nil || b.Month != day.Month {
			return false
		}
	}
	if c.MinStreak > 0 && in.Streak < c.MinStreak {
		return false
	}
	if len(c.Codes) > 0 && !slices.Contains(c.Codes, in.Code) {
		return false
	}
	return true
}
