package lottery_test

import (
	"strings"
	"testing"

	"github.com/jifen/jifen/domain/lottery"
)

// TestPickFairness draws 100,000 times from the pure selection with
// crypto/rand and compares the counts with the weights (chi-square, 5
// degrees of freedom: 20.515 is the critical value at p = 0.001).
func TestPickFairness(t *testing.T) {
	prizes := []lottery.Prize{{Weight: 1}, {Weight: 2}, {Weight: 7}, {Weight: 40}, {Weight: 150}, {Weight: 800}}
	const n = 100_000
	total := lottery.TotalWeight(prizes)
	counts := make([]int, len(prizes))
	for i := 0; i < n; i++ {
		counts[lottery.Pick(prizes, lottery.RandBelow(total))]++
	}
	var chi2 float64
	for i, p := range prizes {
		exp := float64(n) * float64(p.Weight) / float64(total)
		d := float64(counts[i]) - exp
		chi2 += d * d / exp
	}
	t.Logf("counts %v, chi2 %.2f", counts, chi2)
	if chi2 > 20.515 {
		t.Fatalf("chi-square %.2f > 20.515 (p < 0.001): counts %v do not follow weights", chi2, counts)
	}
}

// TestPickBoundaries checks each weight's range maps to its prize exactly.
func TestPickBoundaries(t *testing.T) {
	prizes := []lottery.Prize{{Weight: 2}, {Weight: 3}, {Weight: 1}}
	want := []int{0, 0, 1, 1, 1, 2}
	for r, w := range want {
		if got := lottery.Pick(prizes, int64(r)); got != w {
			t.Errorf("Pick(r=%d) = %d, want %d", r, got, w)
		}
	}
}

// A skewed source would show up here long before the chi-square.
func TestRandBelowRange(t *testing.T) {
	seen := map[int64]bool{}
	for i := 0; i < 1000; i++ {
		v := lottery.RandBelow(3)
		if v < 0 || v >= 3 {
			t.Fatalf("RandBelow(3) = %d", v)
		}
		seen[v] = true
	}
	if len(seen) != 3 {
		t.Fatalf("RandBelow(3) produced only %v", seen)
	}
}

func TestValidate(t *testing.T) {
	ok := func() lottery.Prize {
		return lottery.Prize{Name: "p", Kind: lottery.KindGift, Weight: 1, Stock: lottery.Unlimited}
	}
	cases := []struct {
		name  string
		edit  func(p *lottery.Prize)
		field string
	}{
		{"zero weight", func(p *lottery.Prize) { p.Weight = 0 }, "weight"},
		{"negative weight", func(p *lottery.Prize) { p.Weight = -5 }, "weight"},
		{"negative stock", func(p *lottery.Prize) { p.Stock = -2 }, "stock"},
		{"bad kind", func(p *lottery.Prize) { p.Kind = "cash" }, "kind"},
		{"points without points", func(p *lottery.Prize) { p.Kind = lottery.KindPoints }, "points"},
		{"coupon without code", func(p *lottery.Prize) { p.Kind = lottery.KindCoupon }, "coupon_code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ok()
			tc.edit(&p)
			err := p.Validate("")
			if err == nil {
				t.Fatal("accepted")
			}
			if e := err.Error(); !strings.Contains(e, tc.field) {
				t.Fatalf("error %q does not name %s", e, tc.field)
			}
		})
	}
	p := ok()
	if err := p.Validate(""); err != nil {
		t.Fatalf("valid prize refused: %v", err)
	}
}
