package ledger

import (
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

func TestExpiryPolicyEndsOnAShanghaiDay(t *testing.T) {
	for _, c := range []struct {
		months int
		earned time.Time
		want   time.Time
	}{
		{0, time.Date(2026, 11, 1, 10, 0, 0, 0, domain.Shanghai), time.Date(2027, 11, 1, 23, 59, 59, 0, domain.Shanghai)},
		// 20:00 UTC on 31 Dec is already 1 January in Shanghai.
		{12, time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 23, 59, 59, 0, domain.Shanghai)},
		{3, time.Date(2026, 11, 30, 9, 0, 0, 0, domain.Shanghai), time.Date(2027, 3, 2, 23, 59, 59, 0, domain.Shanghai)},
	} {
		if got := (ExpiryPolicy{Months: c.months}).ExpiresAt(c.earned); !got.Equal(c.want) {
			t.Errorf("%d months after %v: %v, want %v", c.months, c.earned, got.In(domain.Shanghai), c.want)
		}
	}
}

func TestRequestHashSeparatesFields(t *testing.T) {
	a := requestHash(KindEarn, int64(1), "ab", "c")
	if a != requestHash(KindEarn, int64(1), "ab", "c") {
		t.Fatal("hash not stable")
	}
	for _, other := range []string{
		requestHash(KindEarn, int64(1), "a", "bc"),
		requestHash(KindSpend, int64(1), "ab", "c"),
		requestHash(KindEarn, int64(1), "ab", "c", time.Time{}),
	} {
		if other == a {
			t.Fatal("different requests share a hash")
		}
	}
}
