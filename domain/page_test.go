package domain_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jifen/jifen/domain"
)

func TestEachPageVisitsEveryRowOnceAcrossBatches(t *testing.T) {
	rows := []int64{2, 3, 5, 7, 11, 13, 17}
	calls := 0
	read := func(_ context.Context, after int64, limit int) ([]int64, error) {
		calls++
		var out []int64
		for _, r := range rows {
			if r > after && len(out) < limit {
				out = append(out, r)
			}
		}
		return out, nil
	}
	var seen []int64
	n, err := domain.EachPage(context.Background(), 3, read, func(r int64) int64 { return r }, func(r int64) { seen = append(seen, r) })
	if err != nil || n != len(rows) || len(seen) != len(rows) || calls != 4 {
		t.Fatalf("n %d, seen %v, calls %d, err %v", n, seen, calls, err)
	}
	for i := range rows {
		if seen[i] != rows[i] {
			t.Fatalf("seen %v, want %v", seen, rows)
		}
	}
	boom := errors.New("boom")
	n, err = domain.EachPage(context.Background(), 3, func(_ context.Context, after int64, limit int) ([]int64, error) {
		if after > 0 {
			return nil, boom
		}
		return read(context.Background(), after, limit)
	}, func(r int64) int64 { return r }, func(int64) {})
	if !errors.Is(err, boom) || n != 3 {
		t.Fatalf("error on the second page: n %d, err %v", n, err)
	}
}
