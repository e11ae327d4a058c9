package lottery

import (
	"crypto/rand"
	"encoding/binary"
)

// Pick returns the index of the prize chosen by weight, given r uniform in
// [0, Σ weights). It is the whole of the lottery's randomness apart from
// where r comes from (Service.Rand, by default RandBelow: crypto/rand).
func Pick(prizes []Prize, r int64) int {
	for i := range prizes {
		if r < prizes[i].Weight {
			return i
		}
		r -= prizes[i].Weight
	}
	return len(prizes) - 1 // unreachable for r in range
}

// TotalWeight is Σ weights.
func TotalWeight(prizes []Prize) int64 {
	var t int64
	for _, p := range prizes {
		t += p.Weight
	}
	return t
}

// RandBelow returns a uniform integer in [0, n) from crypto/rand, without
// modulo bias (rejection sampling). n must be positive.
func RandBelow(n int64) int64 {
	limit := ^uint64(0) - (^uint64(0) % uint64(n))
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic("crypto/rand: " + err.Error()) // the OS source never fails on supported platforms
		}
		if v := binary.LittleEndian.Uint64(b[:]); v < limit {
			return int64(v % uint64(n))
		}
	}
}

// pityOrder returns the non-empty prizes in a random order drawn by weight
// (each next one picked by weight among those left, below giving a uniform
// integer in [0, n)): the pity rule takes the first that still has stock.
func pityOrder(prizes []Prize, below func(n int64) int64) []Prize {
	var left []Prize
	for _, p := range prizes {
		if !p.Empty() {
			left = append(left, p)
		}
	}
	out := make([]Prize, 0, len(left))
	for len(left) > 0 {
		i := Pick(left, below(TotalWeight(left)))
		out = append(out, left[i])
		left = append(left[:i], left[i+1:]...)
	}
	return out
}

// claim is what a draw's claim on one prize came to.
type claim int

const (
	// claimed: the draw gets the prize (one unit taken when it is stocked).
	claimed claim = iota
	// claimLimit: the member reached the prize's per-member limit. No unit
	// is taken and the prize stays for everyone else: a unit the Gate
	// reserved for this draw goes back to the Gate's stock.
	claimLimit
	// claimSoldOut: no unit of the prize is left. Only this makes a prize
	// sold out (the Gate's counter set to 0).
	claimSoldOut
)

// claimPrize is the one decision of whether a draw gets prize p, for the
// one-by-one and the grouped path alike: the member's own limit first
// (wins: the member's wins of p so far), then the stock (takeUnit takes
// one unit of the stocked prize and reports whether one was left; it is
// not called for an unlimited prize or when the limit stops the member).
func claimPrize(p Prize, wins int, takeUnit func() (bool, error)) (claim, error) {
	if p.PerMemberLimit > 0 && wins >= p.PerMemberLimit {
		return claimLimit, nil
	}
	if p.Stock == Unlimited || p.Empty() {
		return claimed, nil
	}
	ok, err := takeUnit()
	if err != nil {
		return 0, err
	}
	if !ok {
		return claimSoldOut, nil
	}
	return claimed, nil
}
