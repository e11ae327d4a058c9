package ledger_test

import (
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

func sh(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, domain.Shanghai)
}

func endOf(y int, m time.Month, d int) time.Time { return sh(y, m, d, 23, 59).Add(59 * time.Second) }

func TestExpiryPoliciesEndOnAShanghaiDay(t *testing.T) {
	cases := []struct {
		policy string
		earned time.Time
		want   time.Time
	}{
		// The default (zero policy and "months_12"): 12 months after earning.
		{"", sh(2026, 11, 1, 10, 0), endOf(2027, 11, 1)},
		{"months_12", sh(2026, 11, 1, 10, 0), endOf(2027, 11, 1)},
		// 20:00 UTC on 31 Dec is already 1 January in Shanghai.
		{"months:12", time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC), endOf(2028, 1, 1)},
		// A month without the day ends on its last day.
		{"months:3", sh(2026, 11, 30, 9, 0), endOf(2027, 2, 28)},
		{"months:1", sh(2027, 1, 31, 9, 0), endOf(2027, 2, 28)},
		{"months:1", sh(2028, 1, 31, 9, 0), endOf(2028, 2, 29)},
		{"months:12", sh(2028, 2, 29, 9, 0), endOf(2029, 2, 28)},
		{"months:6", sh(2026, 8, 31, 0, 0), endOf(2027, 2, 28)},
		{"months:120", sh(2026, 3, 15, 12, 0), endOf(2036, 3, 15)},
		{"days:1", sh(2026, 11, 23, 23, 59), endOf(2026, 11, 24)},
		{"days:30", sh(2026, 12, 15, 0, 0), endOf(2027, 1, 14)},
		{"days:90", time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), endOf(2027, 4, 1)}, // 1 Jan 00:00 Shanghai
		{"end_of_month", sh(2026, 11, 23, 10, 0), endOf(2026, 11, 30)},
		{"end_of_month", sh(2028, 2, 1, 0, 0), endOf(2028, 2, 29)},
		{"end_of_month", sh(2026, 12, 31, 23, 59), endOf(2026, 12, 31)},
		{"end_of_month", time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC), endOf(2026, 12, 31)}, // already 1 Dec in Shanghai
		{"end_of_year", sh(2026, 1, 1, 0, 0), endOf(2026, 12, 31)},
		{"end_of_year", sh(2026, 12, 31, 23, 0), endOf(2026, 12, 31)},
		{"end_of_next_year", sh(2026, 1, 1, 0, 0), endOf(2027, 12, 31)},
		{"end_of_next_year", sh(2026, 12, 31, 23, 0), endOf(2027, 12, 31)},
		{"never", sh(2026, 11, 23, 10, 0), ledger.Never},
	}
	for _, c := range cases {
		p := ledger.ExpiryPolicy{}
		if c.policy != "" {
			var err error
			if p, err = ledger.ParseExpiryPolicy("expiry", c.policy); err != nil {
				t.Fatalf("%s: %v", c.policy, err)
			}
		}
		got := p.ExpiresAt(c.earned)
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("%s earned %v: %v, want %v", c.policy, c.earned.In(domain.Shanghai), got.In(domain.Shanghai), c.want)
		}
	}
	if !ledger.Never.Equal(time.Date(9999, 12, 31, 15, 59, 59, 0, time.UTC)) || !ledger.NeverExpires(ledger.Never) {
		t.Errorf("Never is %v", ledger.Never)
	}
}

func TestParseExpiryPolicyNamesTheField(t *testing.T) {
	for _, s := range []string{"", "forever", "days", "days:", "days:0", "days:-5", "days:3661", "months:0", "months:121",
		"months:1.5", "weeks:2", "days:99999999999999999999", "months_24"} {
		_, err := ledger.ParseExpiryPolicy("ledger.expiry.signin", s)
		if domain.ErrorCode(err) != domain.Invalid || err.(*domain.Error).Fields["ledger.expiry.signin"] == "" {
			t.Errorf("%q: %v, want Invalid naming ledger.expiry.signin", s, err)
		}
	}
	for s, want := range map[string]string{"never": "never", " days:7 ": "days:7", "months:3": "months:3", "months_12": "months:12",
		"end_of_month": "end_of_month", "end_of_year": "end_of_year", "end_of_next_year": "end_of_next_year", "days:3660": "days:3660"} {
		p, err := ledger.ParseExpiryPolicy("x", s)
		if err != nil || p.String() != want {
			t.Errorf("%q: %v %v, want %s", s, p, err, want)
		}
	}
}

func TestPendingPointsNeverExpireBeforeTheyAreAvailable(t *testing.T) {
	ps := ledger.ExpiryPolicies{ledger.SourceOrders: {Kind: ledger.ExpireEndOfMonth}}
	// Earned on 28 Nov, pending until 5 Dec: the end of November would come
	// first, so the policy runs from 5 Dec.
	got := ps.ExpiresAt(ledger.SourceOrders, sh(2026, 11, 28, 10, 0), sh(2026, 12, 5, 10, 0))
	if want := endOf(2026, 12, 31); !got.Equal(want) {
		t.Errorf("pending order points expire %v, want %v", got.In(domain.Shanghai), want)
	}
	// Otherwise it runs from the moment of earning.
	got = ps.ExpiresAt(ledger.SourceOrders, sh(2026, 11, 20, 10, 0), sh(2026, 11, 27, 10, 0))
	if want := endOf(2026, 11, 30); !got.Equal(want) {
		t.Errorf("pending order points expire %v, want %v", got.In(domain.Shanghai), want)
	}
	// A source without a policy gets the default.
	got = ps.ExpiresAt(ledger.SourceSignin, sh(2026, 11, 20, 10, 0), sh(2026, 11, 20, 10, 0))
	if want := endOf(2027, 11, 20); !got.Equal(want) {
		t.Errorf("sign-in points expire %v, want %v", got.In(domain.Shanghai), want)
	}
}
