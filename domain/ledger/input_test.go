package ledger

import (
	"testing"
	"time"
)

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
