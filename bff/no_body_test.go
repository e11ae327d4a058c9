package bff_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A route that takes no body refuses one: malformed JSON, an array, an
// unknown field or text sent to POST /shopper/signin, a draw, a campaign's
// cancel or a DELETE is 400 INVALID and changes nothing, as on the routes
// that take a body. The body was ignored: '{"garbage' signed a member in.
// No body, or an empty JSON object, is still no body.
func TestRoutesWithoutABodyRefuseOne(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	adminTok := h.ConsoleLogin("admin")
	admin := apptest.Auth(adminTok)
	tok, _, me := h.Login(apptest.UniqueUser("nobody"))
	shopper := apptest.Auth(tok)
	guide := apptest.Auth(guideToken(t, h, adminTok))
	r := h.Do("POST", "/api/v1/console/lottery/campaigns", `{"name":"无体","starts_at":"2026-11-01T00:00:00+08:00","ends_at":"2027-01-01T00:00:00+08:00",`+
		`"free_per_day":5,"prizes":[{"name":"谢谢","kind":"nothing","weight":1}]}`, admin...)
	if r.Status != http.StatusCreated {
		t.Fatalf("lottery: %d %s", r.Status, r.Body)
	}
	lottery := int64(r.JSON()["campaign"].(map[string]any)["id"].(float64))
	r = h.Do("POST", "/api/v1/console/tasks", `{"type":"share","title":"分享","period":"daily","target":1,"reward_points":5}`, admin...)
	if r.Status != http.StatusCreated {
		t.Fatalf("task: %d %s", r.Status, r.Body)
	}
	task := int64(r.JSON()["task"].(map[string]any)["id"].(float64))
	r = h.Do("POST", "/api/v1/console/campaigns", `{"name":"无体","audience":{"expiring_within_days":7}}`, admin...)
	if r.Status != http.StatusCreated {
		t.Fatalf("campaign: %d %s", r.Status, r.Body)
	}
	campaign := int64(r.JSON()["campaign"].(map[string]any)["id"].(float64))

	cases := []struct {
		method, path string
		auth         []string
	}{
		{"POST", "/api/v1/shopper/signin", shopper},
		{"POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", lottery), append(append([]string{}, shopper...), "Idempotency-Key", "nobody-draw")},
		{"POST", "/api/v1/shopper/tier/upgrade", append(append([]string{}, shopper...), "Idempotency-Key", "nobody-tier")},
		{"GET", "/api/v1/shopper/me", shopper},
		{"POST", fmt.Sprintf("/api/v1/console/campaigns/%d/cancel", campaign), admin},
		{"DELETE", fmt.Sprintf("/api/v1/console/tasks/%d", task), admin},
		{"GET", "/api/v1/console/stores", admin},
		{"POST", "/api/v1/guide/pushes", guide},
		{"GET", "/api/v1/guide/me", guide},
	}
	for _, c := range cases {
		for _, body := range []string{`{"garbage`, `[]`, `{"force":true}`, `null`, `x`} {
			// The spec says nothing of a body on these routes: its validator
			// lets one through.
			r := h.Send(true, c.method, c.path, body, c.auth...)
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "INVALID" {
				t.Errorf("%s %s with body %s: %d %.200s; want 400 INVALID", c.method, c.path, body, r.Status, r.Body)
			}
		}
	}
	// A body of no stated length (chunked) is read all the same.
	req := httptest.NewRequest("POST", "/api/v1/shopper/signin", io.MultiReader(strings.NewReader(`{"garbage`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(shopper[0], shopper[1])
	rec := httptest.NewRecorder()
	h.App.Handler.ServeHTTP(rec, req)
	if req.ContentLength != -1 || rec.Code != http.StatusBadRequest {
		t.Errorf("sign-in with a chunked body (length %d): %d %s; want 400", req.ContentLength, rec.Code, rec.Body)
	}
	if bal, err := h.App.Ledger.Balance(context.Background(), me); err != nil || bal.Available != 0 {
		t.Fatalf("refused requests moved points: %+v %v", bal, err)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws/mine", lottery), nil, shopper...); string(r.Body) != `{"draws":[],"next_cursor":null}` {
		t.Errorf("refused draws were drawn: %s", r.Body)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/console/tasks/%d", task), nil, admin...); r.Status != http.StatusOK {
		t.Errorf("the task after refused deletes: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/console/campaigns/%d", campaign), nil, admin...); r.JSON()["campaign"].(map[string]any)["status"] != "draft" {
		t.Errorf("the campaign after refused cancels: %s", r.Body)
	}

	// No body, or {}, is no body.
	if r := h.Do("POST", "/api/v1/shopper/signin", `{}`, shopper...); r.Status != http.StatusCreated {
		t.Fatalf("sign-in with {}: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/shopper/me", nil, shopper...); r.Status != http.StatusOK {
		t.Fatalf("me without a body: %d %s", r.Status, r.Body)
	}
	if r := h.Do("DELETE", fmt.Sprintf("/api/v1/console/tasks/%d", task), nil, admin...); r.Status != http.StatusNoContent {
		t.Fatalf("delete without a body: %d %s", r.Status, r.Body)
	}
}
