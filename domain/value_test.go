package domain_test

import (
	"errors"
	"math"
	"testing"

	"github.com/jifen/jifen/domain"
)

func TestParseRefusesOutOfRangeNamingTheField(t *testing.T) {
	type parser func(string, int64) error
	points := func(f func(string, int64) (domain.Points, error)) parser {
		return func(s string, v int64) error { _, err := f(s, v); return err }
	}
	fen := func(f func(string, int64) (domain.Fen, error)) parser {
		return func(s string, v int64) error { _, err := f(s, v); return err }
	}
	cases := []struct {
		name string
		p    parser
		v    int64
		ok   bool
	}{
		{"points 1", points(domain.ParsePoints), 1, true},
		{"points max", points(domain.ParsePoints), 1_000_000_000_000, true},
		{"points 0", points(domain.ParsePoints), 0, false},
		{"points -1", points(domain.ParsePoints), -1, false},
		{"points max+1", points(domain.ParsePoints), 1_000_000_000_001, false},
		{"points MaxInt64", points(domain.ParsePoints), math.MaxInt64, false},
		{"points or zero 0", points(domain.ParsePointsOrZero), 0, true},
		{"points or zero -1", points(domain.ParsePointsOrZero), -1, false},
		{"points or zero max+1", points(domain.ParsePointsOrZero), 1_000_000_000_001, false},
		{"change -max", points(domain.ParsePointsChange), -1_000_000_000_000, true},
		{"change 0", points(domain.ParsePointsChange), 0, false},
		{"change MinInt64", points(domain.ParsePointsChange), math.MinInt64, false},
		{"change MinInt64+1", points(domain.ParsePointsChange), math.MinInt64 + 1, false},
		{"change -max-1", points(domain.ParsePointsChange), -1_000_000_000_001, false},
		{"fen 1", fen(domain.ParseFen), 1, true},
		{"fen 0", fen(domain.ParseFen), 0, false},
		{"fen MinInt64", fen(domain.ParseFen), math.MinInt64, false},
		{"fen or zero 0", fen(domain.ParseFenOrZero), 0, true},
		{"fen or zero max", fen(domain.ParseFenOrZero), 1_000_000_000_000, true},
		{"fen or zero max+1", fen(domain.ParseFenOrZero), 1_000_000_000_001, false},
	}
	for _, tc := range cases {
		err := tc.p("the_field", tc.v)
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.Invalid || de.Fields["the_field"] == "" {
			t.Errorf("%s: %v, want Invalid naming the_field", tc.name, err)
		}
	}
}

func TestAddRefusesOverflow(t *testing.T) {
	cases := []struct {
		a, b domain.Points
		want domain.Points
		ok   bool
	}{
		{1, 2, 3, true},
		{-5, 3, -2, true},
		{math.MaxInt64, 0, math.MaxInt64, true},
		{math.MaxInt64, 1, 0, false},
		{math.MinInt64, -1, 0, false},
		{math.MinInt64, math.MaxInt64, -1, true},
		{math.MaxInt64 - 10, 10, math.MaxInt64, true},
	}
	for _, tc := range cases {
		got, err := tc.a.Add(tc.b)
		if tc.ok != (err == nil) || (tc.ok && got != tc.want) {
			t.Errorf("%d + %d = %d, %v; want %d ok=%v", tc.a, tc.b, got, err, tc.want, tc.ok)
		}
		if !tc.ok && domain.ErrorCode(err) != domain.Invalid {
			t.Errorf("%d + %d: %v, want Invalid", tc.a, tc.b, err)
		}
	}
	if _, err := domain.Fen(math.MaxInt64).Add(1); err == nil {
		t.Error("fen overflow accepted")
	}
	if s, err := domain.Fen(100).Add(250); err != nil || s != 350 {
		t.Errorf("fen 100 + 250 = %d, %v", s, err)
	}
}

func TestMulPermilleRoundsDownAndRefusesOverflow(t *testing.T) {
	cases := []struct {
		p    domain.Points
		pm   int64
		want domain.Points
		ok   bool
	}{
		{10, 1500, 15, true},
		{5, 1500, 7, true},   // 7.5 → 7
		{1, 999, 0, true},    // 0.999 → 0
		{-5, 1500, -8, true}, // −7.5 → −8
		{5, -1500, -8, true},
		{-5, -1500, 7, true},
		{0, 1 << 62, 0, true},
		{1_000_000_000_000, 100_000, 100_000_000_000_000, true},
		{math.MaxInt64, 1000, math.MaxInt64, true},
		{math.MinInt64, 1000, math.MinInt64, true},
		{math.MaxInt64, 1001, 0, false},
		{math.MinInt64, 1001, 0, false},
		{math.MinInt64, -1000, 0, false}, // +2^63 does not fit
		{math.MaxInt64, math.MaxInt64, 0, false},
		{math.MinInt64, math.MinInt64, 0, false},
	}
	for _, tc := range cases {
		got, err := tc.p.MulPermille(tc.pm)
		if tc.ok != (err == nil) || (tc.ok && got != tc.want) {
			t.Errorf("%d × %d‰ = %d, %v; want %d ok=%v", tc.p, tc.pm, got, err, tc.want, tc.ok)
		}
	}
}

func TestShareRoundsDownAndGivesAllOnceWhole(t *testing.T) {
	cases := []struct {
		whole, part, total, want int64
	}{
		{100, 0, 300, 0},
		{100, 100, 300, 33},  // 33.3 → 33
		{100, 200, 300, 66},  // 66.6 → 66
		{100, 299, 300, 99},  // never all before the whole is refunded
		{100, 300, 300, 100}, // all of it
		{100, 301, 300, 100}, // never more than all
		{100, 600, 300, 100},
		{7, 1, 2, 3},
		{0, 5, 10, 0},
		{1_000_000_000_000, 999_999_999_999, 1_000_000_000_000, 999_999_999_999}, // the product overflows int64
		{math.MaxInt64, math.MaxInt64 - 1, math.MaxInt64, math.MaxInt64 - 1},
		{1000, 500, 1000, 500}, // a per-mille share
	}
	for _, tc := range cases {
		if got := domain.Share(tc.whole, tc.part, tc.total); got != tc.want {
			t.Errorf("Share(%d, %d, %d) = %d, want %d", tc.whole, tc.part, tc.total, got, tc.want)
		}
	}
}
