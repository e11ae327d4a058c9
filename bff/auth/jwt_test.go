package auth_test

import (
	"testing"
	"time"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/domain"
)

// TestVerifiedTokenStillChecksAudienceAndExpiry: a token is remembered
// once its signature is checked, and every later request still checks it
// for the route's audience and for expiry.
func TestVerifiedTokenStillChecksAudienceAndExpiry(t *testing.T) {
	clock := domain.NewFakeClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	tk := &auth.Tokens{Issuer: "jifen", Kid: "k1", Keys: map[string][]byte{"k1": []byte("a-test-key-a-test-key-a-test-key-0123")},
		TTL: 15 * time.Minute, Clock: clock}
	raw, err := tk.SignSession(auth.Shopper, "42", "", "sid-1")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // verified, then remembered
		c, err := tk.Verify(raw, auth.Shopper)
		if err != nil || c.Subject != "42" || c.Sid != "sid-1" {
			t.Fatalf("verify %d as a shopper's: %+v %v", i, c, err)
		}
	}
	for _, aud := range []string{auth.Console, auth.Guide} {
		if c, err := tk.Verify(raw, aud); err == nil {
			t.Fatalf("a shopper's token verified for %s: %+v", aud, c)
		}
	}
	clock.Advance(15 * time.Minute)
	if c, err := tk.Verify(raw, auth.Shopper); err == nil {
		t.Fatalf("a token verified at its expiry: %+v", c)
	}
}
