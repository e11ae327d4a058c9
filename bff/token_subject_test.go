package bff_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A shopper or guide token names its caller by a positive id, written as
// Jifen writes it. One signed with a configured key (the embedded default's
// key is public) whose subject is anything else is 401 and changes
// nothing: "abc" was member 0, "-1" member -1, and a subject past int64 was
// member 9223372036854775807 — its sign-in opened a ledger account there,
// and the expiry and release jobs, which cut members 1…max id into ranges,
// then never finished cutting and took the process's memory until it was
// killed.
func TestTokenSubjectMustBeAnID(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	forge := func(aud, sub string) []string {
		now := h.Clock.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, auth.Claims{RegisteredClaims: jwt.RegisteredClaims{
			Issuer: h.Config.Auth.Issuer, Subject: sub, Audience: jwt.ClaimStrings{aud},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), ID: "forged-" + sub,
		}})
		tok.Header["kid"] = h.Config.Auth.JWTKid
		raw, err := tok.SignedString([]byte(h.Config.Auth.JWTKey))
		if err != nil {
			t.Fatal(err)
		}
		return apptest.Auth(raw)
	}
	subjects := []string{"abc", "0", "-1", "+1", "01", " 1", "1.0", "99999999999999999999", "9223372036854775808"}
	for _, sub := range subjects {
		for _, c := range []struct{ aud, method, path string }{
			{auth.Shopper, "GET", "/api/v1/shopper/tasks"},
			{auth.Shopper, "POST", "/api/v1/shopper/signin"},
			{auth.Shopper, "POST", "/api/v1/shopper/events/share"},
			{auth.Guide, "GET", "/api/v1/guide/me"},
			{auth.Guide, "POST", "/api/v1/guide/mall/pickups"},
		} {
			var body any
			if c.method == "POST" && c.path != "/api/v1/shopper/signin" {
				body = map[string]any{}
				if c.aud == auth.Guide {
					body = map[string]any{"code": "P-1"}
				}
			}
			r := h.Send(true, c.method, c.path, body, forge(c.aud, sub)...)
			if r.Status != http.StatusUnauthorized || r.ErrorCode() != "UNAUTHORIZED" {
				t.Errorf("%s %s with subject %q: %d %s; want 401 UNAUTHORIZED", c.method, c.path, sub, r.Status, r.Body)
			}
		}
	}
	for _, id := range []int64{0, -1, 1, math.MaxInt64} {
		if bal, err := h.App.Ledger.Balance(context.Background(), id); err != nil || bal.Available != 0 || bal.Pending != 0 {
			t.Errorf("member %d: %+v %v; forged subjects moved points", id, bal, err)
		}
	}

	// A real member's and a real guide's tokens still pass.
	tok, _, _ := h.Login(apptest.UniqueUser("subject"))
	if r := h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)...); r.Status != http.StatusOK && r.Status != http.StatusCreated {
		t.Fatalf("sign-in with a real token: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/guide/me", nil, apptest.Auth(guideToken(t, h, h.ConsoleLogin("admin")))...); r.Status != http.StatusOK {
		t.Fatalf("guide with a real token: %d %s", r.Status, r.Body)
	}
}

// A request names its bearer once: two Authorization headers are 401,
// whichever comes first. The first was used, so a gateway that checks the
// last one (an auditor's token) let through a request the service ran
// with the first (an admin's).
func TestAuthorizationGivenTwice(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := h.ConsoleLogin("admin")
	auditor := h.ConsoleLogin("auditor")
	shopper, _, _ := h.Login(apptest.UniqueUser("twoauth"))
	for _, pair := range [][2]string{{admin, auditor}, {auditor, admin}, {admin, admin}, {shopper, admin}, {admin, shopper}} {
		req := httptest.NewRequest("POST", "/api/v1/console/stores", strings.NewReader(`{"name":"两把钥匙"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Add("Authorization", "Bearer "+pair[0])
		req.Header.Add("Authorization", "Bearer "+pair[1])
		rec := httptest.NewRecorder()
		h.App.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"UNAUTHORIZED"`) {
			t.Errorf("two Authorization headers: %d %s; want 401 UNAUTHORIZED", rec.Code, rec.Body)
		}
	}
	if stores, err := h.App.Guides.Stores(context.Background()); err != nil || len(stores) != 0 {
		t.Fatalf("refused requests created stores: %d %v", len(stores), err)
	}
}
