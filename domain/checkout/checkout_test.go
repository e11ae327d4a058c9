package checkout

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/orders"
)

func TestPolicyLimit(t *testing.T) {
	base := DefaultPolicy() // 100 points = 100 fen, up to 500‰, no minimum
	lines := []orders.Line{{Category: "food", AmountFen: 6000}, {Category: "liquor", AmountFen: 4000}}
	cases := []struct {
		name               string
		edit               func(*Policy)
		total              int64
		lines              []orders.Line
		eligible, maxUnits int64
		reason             string // a part of the reason when maxUnits is 0
	}{
		{"half of the order", func(*Policy) {}, 10000, lines, 10000, 50, ""},
		{"excluded category left out", func(p *Policy) { p.ExcludedCategories = []string{"liquor"} }, 10000, lines, 6000, 30, ""},
		{"share rounds down to whole units", func(p *Policy) { p.MaxSharePermille = 333 }, 10000, lines, 10000, 33, ""},
		{"unit of 3 yuan rounds down", func(p *Policy) { p.UnitFen = 300 }, 10000, lines, 10000, 16, ""},
		{"the whole order", func(p *Policy) { p.MaxSharePermille = 1000 }, 10000, lines, 10000, 100, ""},
		{"disabled", func(p *Policy) { p.Enabled = false }, 10000, lines, 10000, 0, "cannot be used"},
		{"below the minimum", func(p *Policy) { p.MinOrderFen = 10001 }, 10000, lines, 10000, 0, "below 10001 fen"},
		{"at the minimum", func(p *Policy) { p.MinOrderFen = 10000 }, 10000, lines, 10000, 50, ""},
		{"everything excluded", func(p *Policy) { p.ExcludedCategories = []string{"food", "liquor"} }, 10000, lines, 0, 0, "no line"},
		{"less than a unit", func(*Policy) {}, 150, []orders.Line{{Category: "food", AmountFen: 150}}, 150, 0, "less than one unit"},
		{"no overflow on a huge order", func(p *Policy) { p.MaxSharePermille, p.UnitFen = 999, 1 }, math.MaxInt64,
			[]orders.Line{{Category: "food", AmountFen: math.MaxInt64}}, math.MaxInt64, 9214148664817921031, ""}, // ⌊(2⁶³−1) × 999 / 1000⌋
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := base
			p.ExcludedCategories = nil
			c.edit(&p)
			eligible, units, reason := p.Limit(c.total, c.lines)
			if eligible != c.eligible || units != c.maxUnits {
				t.Fatalf("Limit = %d fen eligible, %d units; want %d, %d", eligible, units, c.eligible, c.maxUnits)
			}
			if (units == 0) != (reason != "") || (c.reason != "" && !strings.Contains(reason, c.reason)) {
				t.Fatalf("reason %q for %d units, want one containing %q only when none", reason, units, c.reason)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Policy)
		field string // "" when valid
	}{
		{"default", func(*Policy) {}, ""},
		{"no points per unit", func(p *Policy) { p.PointsPerUnit = 0 }, "points_per_unit"},
		{"too many points per unit", func(p *Policy) { p.PointsPerUnit = MaxPointsPerUnit + 1 }, "points_per_unit"},
		{"unit of no fen", func(p *Policy) { p.UnitFen = 0 }, "unit_fen"},
		{"share past the whole", func(p *Policy) { p.MaxSharePermille = 1001 }, "max_share_permille"},
		{"no share", func(p *Policy) { p.MaxSharePermille = 0 }, "max_share_permille"},
		{"negative minimum", func(p *Policy) { p.MinOrderFen = -1 }, "min_order_fen"},
		{"blank category", func(p *Policy) { p.ExcludedCategories = []string{"food", "  "} }, "excluded_categories[1]"},
		{"category too long", func(p *Policy) { p.ExcludedCategories = []string{strings.Repeat("酒", maxCategory+1)} }, "excluded_categories[0]"},
		{"too many categories", func(p *Policy) { p.ExcludedCategories = make([]string, maxExcluded+1) }, "excluded_categories"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultPolicy()
			c.edit(&p)
			err := p.Validate()
			var de *domain.Error
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("valid policy refused: %v", err)
			case c.field != "" && (!errors.As(err, &de) || de.Fields[c.field] == ""):
				t.Fatalf("got %v, want a problem with %s", err, c.field)
			}
		})
	}
	p := DefaultPolicy()
	p.ExcludedCategories = []string{" liquor", "liquor", "tobacco "}
	if err := p.Validate(); err != nil || strings.Join(p.ExcludedCategories, ",") != "liquor,tobacco" {
		t.Fatalf("categories trimmed and deduplicated: %v %q", err, p.ExcludedCategories)
	}
}

func TestReturnedUnits(t *testing.T) {
	cases := []struct{ units, refunded, total, want int64 }{
		{50, 0, 10000, 0},
		{50, 5000, 10000, 25},
		{50, 3333, 10000, 16}, // 16.665 rounds down: the member never gets more than their share
		{50, 9999, 10000, 49},
		{50, 10000, 10000, 50},
		{50, 12000, 10000, 50}, // a refund past the total gives back every unit, once
		{math.MaxInt64 / 2, math.MaxInt64 / 3, math.MaxInt64 / 2, math.MaxInt64 / 3},
	}
	for _, c := range cases {
		if got := returnedUnits(c.units, c.refunded, c.total); got != c.want {
			t.Errorf("returnedUnits(%d, %d, %d) = %d, want %d", c.units, c.refunded, c.total, got, c.want)
		}
	}
}

func TestStatusAt(t *testing.T) {
	deadline := time.Date(2026, 12, 6, 20, 0, 0, 0, domain.Shanghai)
	cases := []struct {
		status Status
		at     time.Time
		want   Status
	}{
		{Held, deadline.Add(-time.Second), Held},
		{Held, deadline, Expired},
		{Held, deadline.Add(time.Hour), Expired},
		{Captured, deadline.Add(time.Hour), Captured},
		{Released, deadline.Add(time.Hour), Released},
	}
	for _, c := range cases {
		ch := Checkout{Status: c.status, Deadline: deadline}
		if got := ch.StatusAt(c.at); got != c.want {
			t.Errorf("%s at %s: %s, want %s", c.status, c.at.Sub(deadline), got, c.want)
		}
	}
}
