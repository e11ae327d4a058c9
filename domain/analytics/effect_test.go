package analytics_test

import (
	"testing"

	"github.com/jifen/jifen/domain/analytics"
)

func TestCompareGroups(t *testing.T) {
	for _, c := range []struct {
		n1, k1, n0, k0 int64
		want           analytics.Effect
	}{
		// 30% of 100 against 20% of 100: d = 0.10, se = √0.0037 = 0.060828, ±0.119223
		{100, 30, 100, 20, analytics.Effect{ReachedBP: 3000, HoldoutBP: 2000, DiffBP: 1000, LowBP: -192, HighBP: 2192, OK: true}},
		// 12% of 1000 against 8% of 200: se = √(0.1056/1000 + 0.0736/200) = 0.021766, ±0.042661
		{1000, 120, 200, 16, analytics.Effect{ReachedBP: 1200, HoldoutBP: 800, DiffBP: 400, LowBP: -27, HighBP: 827, OK: true}},
		// everyone and no one: se = 0, the interval is the point
		{50, 50, 50, 0, analytics.Effect{ReachedBP: 10000, HoldoutBP: 0, DiffBP: 10000, LowBP: 10000, HighBP: 10000, OK: true}},
		{100, 30, 0, 0, analytics.Effect{}},   // no holdout
		{100, 101, 10, 1, analytics.Effect{}}, // more converted than reached
	} {
		if got := analytics.CompareGroups(c.n1, c.k1, c.n0, c.k0); got != c.want {
			t.Errorf("CompareGroups(%d, %d, %d, %d) = %+v, want %+v", c.n1, c.k1, c.n0, c.k0, got, c.want)
		}
	}
}
