package domain

import (
	"fmt"
	"math"
	"math/bits"
)

// Points is a number of points; Fen is money in fen (分, 1/100 yuan). Both
// are whole numbers. A value from outside (a request, a stored rule, the
// configuration) becomes one through a Parse function, which refuses what is
// out of range with an Invalid error naming the field; arithmetic on them
// refuses int64 overflow instead of wrapping around.
type (
	Points int64
	Fen    int64
)

// The ranges of a single amount, threshold or limit. They keep every sum of
// a few of them, and every product with a per-mille rate, far inside int64,
// and catch typos.
const (
	MaxPoints Points = 1_000_000_000_000
	MaxFen    Fen    = 1_000_000_000_000 // 100 亿元
)

// ParsePoints accepts 1..MaxPoints: an amount that moves points.
func ParsePoints(field string, v int64) (Points, error) {
	return parse(field, v, 1, MaxPoints)
}

// ParsePointsOrZero accepts 0..MaxPoints: a threshold, cap or reward where 0
// means none.
func ParsePointsOrZero(field string, v int64) (Points, error) {
	return parse(field, v, 0, MaxPoints)
}

// ParsePointsChange accepts −MaxPoints..MaxPoints without 0: a signed
// correction such as a manual adjustment.
func ParsePointsChange(field string, v int64) (Points, error) {
	if v == 0 {
		return 0, FieldError(field, "must not be 0")
	}
	return parse(field, v, -MaxPoints, MaxPoints)
}

// ParseFen accepts 1..MaxFen: an amount of money that must be there.
func ParseFen(field string, v int64) (Fen, error) {
	return parse(field, v, 1, MaxFen)
}

// ParseFenOrZero accepts 0..MaxFen: a bound or a line amount where 0 is
// allowed.
func ParseFenOrZero(field string, v int64) (Fen, error) {
	return parse(field, v, 0, MaxFen)
}

func parse[T ~int64](field string, v int64, lo, hi T) (T, error) {
	if v < int64(lo) || v > int64(hi) {
		return 0, FieldError(field, fmt.Sprintf("must be from %d to %d", lo, hi))
	}
	return T(v), nil
}

// Add returns p + q, or an Invalid error when the sum leaves int64.
func (p Points) Add(q Points) (Points, error) { return add(p, q) }

// Add returns f + g, or an Invalid error when the sum leaves int64.
func (f Fen) Add(g Fen) (Fen, error) { return add(f, g) }

// MulPermille returns p × pm / 1000 rounded down (towards minus infinity,
// so a multiplier never pays out a fraction of a point, and −1.5 becomes
// −2), or an Invalid error when the result leaves int64.
func (p Points) MulPermille(pm int64) (Points, error) {
	neg := (p < 0) != (pm < 0)
	hi, lo := bits.Mul64(abs(int64(p)), abs(pm))
	if hi >= 1000 { // the quotient would not fit in 64 bits
		return 0, overflow()
	}
	q, r := bits.Div64(hi, lo, 1000)
	if neg && r != 0 {
		q++ // round the magnitude up, i.e. the value down
	}
	switch {
	case !neg && q <= math.MaxInt64:
		return Points(q), nil
	case neg && q <= 1<<63:
		return Points(-int64(q-1) - 1), nil // −2^63 has no positive twin
	}
	return 0, overflow()
}

func overflow() error { return Errorf(Invalid, "number out of range") }

func add[T ~int64](a, b T) (T, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, overflow()
	}
	return s, nil
}

// abs is |v| as uint64 (exact for math.MinInt64 too).
func abs(v int64) uint64 {
	if v < 0 {
		return uint64(^v) + 1
	}
	return uint64(v)
}

// Share is the part of whole that part out of total stands for, rounded
// down: ⌊whole × part / total⌋, and all of whole once part reaches total.
// It is the one proportional rule of refunds (an order's points taken back,
// a checkout's points given back) and of shares such as a per-mille limit.
// whole and part are not negative and total is positive; the product may
// exceed int64, the result does not.
func Share(whole, part, total int64) int64 {
	if part >= total {
		return whole
	}
	hi, lo := bits.Mul64(uint64(whole), uint64(part))
	q, _ := bits.Div64(hi, lo, uint64(total)) // hi < total: part < total
	return int64(q)
}
