package rules_test

import (
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/rules"
)

// Calculate is pure: no store, no caps, no budget.
func TestCalculate(t *testing.T) {
	at := time.Date(2025, 3, 12, 10, 0, 0, 0, domain.Shanghai)
	base := baseRule()
	base.ID, base.Version, base.Status = 1, 1, rules.Active
	half := rules.Rule{ID: 2, Version: 4, Name: "减半", Trigger: rules.OrderPaid, Status: rules.Active, Effect: rules.Effect{Kind: rules.Multiplier, PerMille: 500}}
	signin := rules.Rule{ID: 3, Version: 1, Name: "签到", Trigger: rules.SignIn, Status: rules.Active, Effect: rules.Effect{Kind: rules.Fixed, Points: 10}}
	tests := []struct {
		name  string
		rules []rules.Rule
		fen   int64
		total int64
		lines []int64
	}{
		{"other triggers ignored", []rules.Rule{base, signin}, 300000, 4000, []int64{4000}},
		// 1001 × 0.5 = 500.5: the extra −500.5 floors to −501
		{"a multiplier below x1 floors towards minus infinity", []rules.Rule{base, half}, 100100, 500, []int64{1001, -501}},
		{"one fen above a bracket boundary", []rules.Rule{base}, 100001, 1000, []int64{1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := rules.Input{Trigger: rules.OrderPaid, Member: rules.Member{ID: 1}, Order: &rules.Order{AmountFen: tt.fen}}
			res, err := rules.Calculate(tt.rules, in, at)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, l := range res.Lines {
				got = append(got, l.Points)
			}
			if res.Total != tt.total || len(got) != len(tt.lines) {
				t.Fatalf("total %d lines %v, want %d %v", res.Total, got, tt.total, tt.lines)
			}
			for i := range got {
				if got[i] != tt.lines[i] {
					t.Fatalf("lines %v, want %v", got, tt.lines)
				}
			}
		})
	}
}
