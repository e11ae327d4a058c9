package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
)

// Bounds that keep every computation far from int64 overflow and catch
// typos (a rate of 1,500 points per yuan instead of 1.5).
const (
	maxPoints   = 1_000_000_000 // fixed / bonus points and caps
	maxRate     = 1_000_000     // 1,000 points per yuan
	maxPerMille = 100_000       // ×100
	maxNameLen  = 64
	maxListLen  = 200
	// maxSpecBytes bounds a rule as JSON: the store keeps it whole in a
	// TEXT column, 65,535 bytes on MySQL, with room for what the store
	// adds (id, version, times).
	maxSpecBytes = 60_000
)

// Normalize fills defaults (status active, stacking stackable) and trims
// the name. Validate expects a normalized rule.
func Normalize(r *Rule) {
	r.Name = strings.TrimSpace(r.Name)
	if r.Status == "" {
		r.Status = Active
	}
	if r.Stacking == "" {
		r.Stacking = Stackable
	}
}

// Validate checks a rule as the console sends it. It returns nil or a
// *domain.Error with code Invalid whose Fields name every failing field
// with its JSON path ("effect.brackets[1].from_fen").
func Validate(r *Rule) error {
	f := map[string]string{}
	bad := problems(func(field, format string, args ...any) {
		if _, ok := f[field]; !ok {
			f[field] = fmt.Sprintf(format, args...)
		}
	})

	switch {
	case r.Name == "":
		bad("name", "required")
	case utf8.RuneCountInString(r.Name) > maxNameLen:
		bad("name", "at most %d characters", maxNameLen)
	}
	if !r.Trigger.Valid() {
		bad("trigger", "unknown trigger %q", r.Trigger)
	}
	if r.Status != Active && r.Status != Inactive {
		bad("status", "must be active or inactive")
	}
	if r.Stacking != Stackable && r.Stacking != Exclusive {
		bad("stacking", "must be stackable or exclusive")
	}
	if r.ValidFrom != nil && r.ValidTo != nil && !r.ValidTo.After(*r.ValidFrom) {
		bad("valid_to", "must be after valid_from")
	}

	validateEffect(r, bad)
	validateConditions(r, bad)

	for field, v := range map[string]int64{"caps.per_day": r.Caps.PerDay, "caps.per_week": r.Caps.PerWeek, "caps.per_month": r.Caps.PerMonth} {
		if v < 0 || v > maxPoints {
			bad(field, "must be between 0 and %d", maxPoints)
		}
	}
	bad.points("budget", r.Budget)

	if len(f) == 0 {
		// Every list within its bounds, the rule may still be too large
		// to keep: five lists of 200 entries of 64 characters.
		if b, err := json.Marshal(r); err == nil && len(b) > maxSpecBytes {
			bad("conditions", "the rule takes %d bytes as JSON, at most %d: shorten its lists", len(b), maxSpecBytes)
		}
	}
	if len(f) == 0 {
		return nil
	}
	return &domain.Error{Code: domain.Invalid, Message: "the rule is not valid", Fields: f}
}

func validateEffect(r *Rule, bad problems) {
	e := r.Effect
	switch e.Kind {
	case Fixed, Bonus:
		if e.Points <= 0 || e.Points > maxPoints {
			bad("effect.points", "must be between 1 and %d", maxPoints)
		}
	case Multiplier:
		if e.PerMille <= 0 || e.PerMille > maxPerMille {
			bad("effect.per_mille", "must be between 1 and %d (1000 = ×1)", maxPerMille)
		}
	case Rate:
		if r.Trigger.Valid() && !r.Trigger.carriesOrder() {
			bad("effect.kind", "a rate needs an order trigger (order_paid, first_purchase, recharge)")
		}
		if len(e.Brackets) == 0 {
			bad("effect.brackets", "at least one bracket")
		}
		if len(e.Brackets) > maxListLen {
			bad("effect.brackets", "at most %d brackets", maxListLen)
		}
		for i, b := range e.Brackets {
			p := fmt.Sprintf("effect.brackets[%d].", i)
			bad.fen(p+"from_fen", b.FromFen)
			switch {
			case bad.fen(p+"to_fen", b.ToFen):
			case b.ToFen == 0 && i != len(e.Brackets)-1:
				bad(p+"to_fen", "only the last bracket may be open-ended")
			case b.ToFen != 0 && b.ToFen <= b.FromFen:
				bad(p+"to_fen", "must be greater than from_fen")
			}
			if b.PerMille < 0 || b.PerMille > maxRate {
				bad(p+"per_mille", "must be between 0 and %d", maxRate)
			}
			if i > 0 {
				prev := e.Brackets[i-1]
				switch {
				case b.FromFen < prev.FromFen:
					bad(p+"from_fen", "brackets must be in ascending order")
				case prev.ToFen == 0 || b.FromFen < prev.ToFen:
					bad(p+"from_fen", "overlaps bracket %d", i-1)
				}
			}
		}
	default:
		bad("effect.kind", "must be fixed, rate, multiplier or bonus")
	}
}

func validateConditions(r *Rule, bad problems) {
	c := r.Conditions
	bad.fen("conditions.min_amount_fen", c.MinAmountFen)
	if !bad.fen("conditions.max_amount_fen", c.MaxAmountFen) && c.MaxAmountFen > 0 && c.MaxAmountFen < c.MinAmountFen {
		bad("conditions.max_amount_fen", "must not be below min_amount_fen")
	}
	if r.Trigger.Valid() && !r.Trigger.carriesOrder() {
		orderOnly := map[string]bool{
			"conditions.min_amount_fen": c.MinAmountFen != 0, "conditions.max_amount_fen": c.MaxAmountFen != 0,
			"conditions.categories": len(c.Categories) > 0, "conditions.channels": len(c.Channels) > 0,
			"conditions.stores": len(c.Stores) > 0,
		}
		for field, set := range orderOnly {
			if set {
				bad(field, "needs an order trigger")
			}
		}
	}
	for field, list := range map[string][]string{
		"conditions.categories": c.Categories, "conditions.tiers": c.Tiers, "conditions.codes": c.Codes,
		"conditions.channels": c.Channels, "conditions.stores": c.Stores,
	} {
		if len(list) > maxListLen {
			bad(field, "at most %d entries", maxListLen)
		}
		for _, s := range list {
			if strings.TrimSpace(s) == "" || len(s) > 64 {
				bad(field, "entries must be 1 to 64 characters")
				break
			}
		}
	}
	if len(c.Dates) > maxListLen*2 {
		bad("conditions.dates", "at most %d dates", maxListLen*2)
	}
	for i, d := range c.Dates {
		if _, err := domain.ParseDay(d); err != nil {
			bad(fmt.Sprintf("conditions.dates[%d]", i), "must be YYYY-MM-DD")
		}
	}
	if len(c.Weekdays) > 7 {
		bad("conditions.weekdays", "at most 7 weekdays")
	}
	for i, w := range c.Weekdays {
		if w < 1 || w > 7 {
			bad(fmt.Sprintf("conditions.weekdays[%d]", i), "must be 1 (Monday) to 7 (Sunday)")
		}
	}
	for field, v := range map[string]int64{
		"conditions.nth_order": c.NthOrder, "conditions.every_nth_order": c.EveryNthOrder,
		"conditions.orders_in_week": c.OrdersInWeek, "conditions.min_streak": int64(c.MinStreak),
	} {
		if v < 0 || v > 1_000_000 {
			bad(field, "must be between 0 and 1000000")
		}
	}
}

// problems collects validation failures by field (the first one wins).
type problems func(field, format string, args ...any)

// fen and points check a value with the domain parser (which owns the
// ranges of money and points), record its problem and report whether there
// was one.
func (bad problems) fen(field string, v int64) bool {
	_, err := domain.ParseFenOrZero(field, v)
	return bad.refused(field, err)
}

func (bad problems) points(field string, v int64) bool {
	_, err := domain.ParsePointsOrZero(field, v)
	return bad.refused(field, err)
}

func (bad problems) refused(field string, err error) bool {
	var de *domain.Error
	switch {
	case err == nil:
		return false
	case errors.As(err, &de) && de.Fields[field] != "":
		bad(field, "%s", de.Fields[field])
	default:
		bad(field, "%s", domain.ErrorMessage(err))
	}
	return true
}
