package mall

import (
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, domain.Shanghai)
	base := Item{Name: "保温杯", Points: 300, Stock: 10, Sold: 3, Enabled: true}
	rich := Shopper{Tier: "gold", Available: 1000}
	cases := []struct {
		name      string
		edit      func(*Item)
		who       Shopper
		used      Usage
		code      domain.Code // "" when the member may redeem
		limitLeft int
	}{
		{"may redeem", func(*Item) {}, rich, Usage{}, "", -1},
		{"off", func(it *Item) { it.Enabled = false }, rich, Usage{}, domain.RuleViolation, -1},
		{"before the window", func(it *Item) { it.StartsAt = now.Add(time.Minute) }, rich, Usage{}, domain.RuleViolation, -1},
		{"at the start", func(it *Item) { it.StartsAt = now }, rich, Usage{}, "", -1},
		{"at the end", func(it *Item) { it.EndsAt = now }, rich, Usage{}, domain.RuleViolation, -1},
		{"another tier", func(it *Item) { it.Tiers = []string{"platinum"} }, rich, Usage{}, domain.RuleViolation, -1},
		{"their tier", func(it *Item) { it.Tiers = []string{"silver", "gold"} }, rich, Usage{}, "", -1},
		{"total limit reached", func(it *Item) { it.LimitTotal = 2 }, rich, Usage{Total: 2}, domain.RuleViolation, 0},
		{"daily limit reached", func(it *Item) { it.LimitDaily = 1 }, rich, Usage{Total: 5, Today: 1}, domain.RuleViolation, 0},
		{"the smaller limit left", func(it *Item) { it.LimitTotal, it.LimitDaily = 5, 2 }, rich, Usage{Total: 4, Today: 0}, "", 1},
		{"sold out", func(it *Item) { it.Sold = 10 }, rich, Usage{}, domain.RuleViolation, -1},
		{"oversold counts as sold out", func(it *Item) { it.Sold = 12 }, rich, Usage{}, domain.RuleViolation, -1},
		{"too few points", func(*Item) {}, Shopper{Available: 299}, Usage{}, domain.PointsInsufficient, -1},
		{"exactly the price", func(*Item) {}, Shopper{Available: 300}, Usage{}, "", -1},
		{"points left to the ledger", func(*Item) {}, Shopper{PointsUnread: true}, Usage{}, "", -1},
		{"the limit before the points", func(it *Item) { it.LimitTotal = 1 }, Shopper{Available: 0}, Usage{Total: 1}, domain.RuleViolation, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it := base
			c.edit(&it)
			v, err := Decide(&it, c.who, c.used, now)
			if got := domain.ErrorCode(err); got != c.code {
				t.Fatalf("Decide: %v (code %q), want code %q", err, got, c.code)
			}
			if v.LimitLeft != c.limitLeft {
				t.Fatalf("limit left %d, want %d", v.LimitLeft, c.limitLeft)
			}
		})
	}
}
