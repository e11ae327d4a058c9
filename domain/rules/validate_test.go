package rules_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/rules"
)

func baseRule() rules.Rule {
	return rules.Rule{
		Name:    "基础积分",
		Trigger: rules.OrderPaid,
		Effect: rules.Effect{Kind: rules.Rate, Brackets: []rules.Bracket{
			{FromFen: 0, ToFen: 100000, PerMille: 1000},
			{FromFen: 100000, ToFen: 500000, PerMille: 1500},
		}},
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, domain.Shanghai)
	before := from.Add(-time.Hour)
	tests := []struct {
		name  string
		edit  func(r *rules.Rule)
		field string // "" = valid
	}{
		{"valid brackets", func(r *rules.Rule) {}, ""},
		{"valid open last bracket", func(r *rules.Rule) { r.Effect.Brackets[1].ToFen = 0 }, ""},
		{"valid multiplier", func(r *rules.Rule) { r.Effect = rules.Effect{Kind: rules.Multiplier, PerMille: 1500} }, ""},
		{"valid signin fixed", func(r *rules.Rule) {
			r.Trigger, r.Effect = rules.SignIn, rules.Effect{Kind: rules.Fixed, Points: 10}
		}, ""},
		{"empty name", func(r *rules.Rule) { r.Name = "   " }, "name"},
		{"name too long", func(r *rules.Rule) { r.Name = string(make([]rune, 65)) + "x" }, "name"},
		{"unknown trigger", func(r *rules.Rule) { r.Trigger = "purchase" }, "trigger"},
		{"bad status", func(r *rules.Rule) { r.Status = rules.Deleted }, "status"},
		{"bad stacking", func(r *rules.Rule) { r.Stacking = "sometimes" }, "stacking"},
		{"window end before start", func(r *rules.Rule) { r.ValidFrom, r.ValidTo = &from, &before }, "valid_to"},
		{"window end equals start", func(r *rules.Rule) { r.ValidFrom, r.ValidTo = &from, &from }, "valid_to"},
		{"unknown effect", func(r *rules.Rule) { r.Effect.Kind = "cashback" }, "effect.kind"},
		{"negative points", func(r *rules.Rule) { r.Effect = rules.Effect{Kind: rules.Fixed, Points: -5} }, "effect.points"},
		{"zero bonus", func(r *rules.Rule) { r.Effect = rules.Effect{Kind: rules.Bonus} }, "effect.points"},
		{"multiplier zero", func(r *rules.Rule) { r.Effect = rules.Effect{Kind: rules.Multiplier, PerMille: 0} }, "effect.per_mille"},
		{"multiplier negative", func(r *rules.Rule) { r.Effect = rules.Effect{Kind: rules.Multiplier, PerMille: -1000} }, "effect.per_mille"},
		{"no brackets", func(r *rules.Rule) { r.Effect.Brackets = nil }, "effect.brackets"},
		{"overlapping brackets", func(r *rules.Rule) { r.Effect.Brackets[1].FromFen = 90000 }, "effect.brackets[1].from_fen"},
		{"unordered brackets", func(r *rules.Rule) {
			r.Effect.Brackets = []rules.Bracket{{FromFen: 100000, ToFen: 500000, PerMille: 1500}, {FromFen: 0, ToFen: 100000, PerMille: 1000}}
		}, "effect.brackets[1].from_fen"},
		{"bracket to before from", func(r *rules.Rule) { r.Effect.Brackets[0].ToFen = 0; r.Effect.Brackets[0].FromFen = 0 }, "effect.brackets[0].to_fen"},
		{"bracket empty range", func(r *rules.Rule) { r.Effect.Brackets[1].ToFen = 100000 }, "effect.brackets[1].to_fen"},
		{"negative rate", func(r *rules.Rule) { r.Effect.Brackets[0].PerMille = -1 }, "effect.brackets[0].per_mille"},
		{"negative from", func(r *rules.Rule) { r.Effect.Brackets[0].FromFen = -100 }, "effect.brackets[0].from_fen"},
		{"rate on signin", func(r *rules.Rule) { r.Trigger = rules.SignIn }, "effect.kind"},
		{"category on signin", func(r *rules.Rule) {
			r.Trigger, r.Effect = rules.SignIn, rules.Effect{Kind: rules.Fixed, Points: 10}
			r.Conditions.Categories = []string{"A"}
		}, "conditions.categories"},
		{"min above max", func(r *rules.Rule) { r.Conditions.MinAmountFen, r.Conditions.MaxAmountFen = 5000, 100 }, "conditions.max_amount_fen"},
		{"negative min amount", func(r *rules.Rule) { r.Conditions.MinAmountFen = -1 }, "conditions.min_amount_fen"},
		{"bad date", func(r *rules.Rule) { r.Conditions.Dates = []string{"2025-03-12", "2025/03/13"} }, "conditions.dates[1]"},
		{"bad weekday", func(r *rules.Rule) { r.Conditions.Weekdays = []int{0} }, "conditions.weekdays[0]"},
		{"negative nth", func(r *rules.Rule) { r.Conditions.EveryNthOrder = -10 }, "conditions.every_nth_order"},
		{"blank tier", func(r *rules.Rule) { r.Conditions.Tiers = []string{""} }, "conditions.tiers"},
		{"negative cap", func(r *rules.Rule) { r.Caps.PerDay = -1 }, "caps.per_day"},
		{"negative budget", func(r *rules.Rule) { r.Budget = -1000 }, "budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseRule()
			tt.edit(&r)
			rules.Normalize(&r)
			err := rules.Validate(&r)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if domain.ErrorCode(err) != domain.Invalid {
				t.Fatalf("want %s, got %v", domain.Invalid, err)
			}
			var de *domain.Error
			if !errors.As(err, &de) {
				t.Fatalf("want *domain.Error, got %T", err)
			}
			if _, ok := de.Fields[tt.field]; !ok {
				t.Fatalf("want field %q, got fields %v", tt.field, de.Fields)
			}
		})
	}
}
