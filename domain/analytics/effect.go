package analytics

import "math"

// Effect compares the share of a reached group that converted (spent or
// ordered within the window) with the share of a holdout group that was
// left out: the difference of the two proportions and its 95% confidence
// interval by the normal (Wald) approximation for a difference of
// independent proportions,
//
//	d ± 1.96 · √(p₁(1−p₁)/n₁ + p₀(1−p₀)/n₀)
//
// All figures in basis points (10000 = 100 %), rounded half away from
// zero. OK is false when either group is empty (no interval); the
// approximation is poor for groups under ~30 or shares near 0 or 1.
type Effect struct {
	ReachedBP, HoldoutBP  int64
	DiffBP, LowBP, HighBP int64
	OK                    bool
}

// CompareGroups computes the Effect of k₁ of n₁ reached members against k₀
// of n₀ held out.
func CompareGroups(n1, k1, n0, k0 int64) Effect {
	if n1 <= 0 || n0 <= 0 || k1 < 0 || k0 < 0 || k1 > n1 || k0 > n0 {
		return Effect{}
	}
	p1, p0 := float64(k1)/float64(n1), float64(k0)/float64(n0)
	se := math.Sqrt(p1*(1-p1)/float64(n1) + p0*(1-p0)/float64(n0))
	bp := func(x float64) int64 { return int64(math.Round(x * 10000)) }
	d := p1 - p0
	return Effect{ReachedBP: bp(p1), HoldoutBP: bp(p0), DiffBP: bp(d), LowBP: bp(d - 1.96*se), HighBP: bp(d + 1.96*se), OK: true}
}

// ShareBP is k of n in basis points, rounded as CompareGroups rounds; ok
// is false for an empty group.
func ShareBP(n, k int64) (bp int64, ok bool) {
	if n <= 0 || k < 0 || k > n {
		return 0, false
	}
	return int64(math.Round(float64(k) / float64(n) * 10000)), true
}
