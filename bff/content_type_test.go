package bff_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A JSON body says so: a body sent as text/plain, as a form, as XML or
// with no Content-Type at all is 400 INVALID naming the header, and applies
// nothing, on every audience and on the signed hooks. The body was read as
// JSON whatever the header said: a form post (curl -d, a browser's
// cross-site text/plain post) created stores and moved points.
func TestJSONBodiesNeedAJSONContentType(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	adminTok := h.ConsoleLogin("admin")
	admin := apptest.Auth(adminTok)
	shopTok, _, member := h.Login(apptest.UniqueUser("ctype"))
	shopper := apptest.Auth(shopTok)
	guide := apptest.Auth(guideToken(t, h, adminTok))
	storesBefore, err := h.App.Guides.Stores(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	order := fmt.Sprintf(`{"event_id":"ctype-1","type":"paid","order_id":"O-ctype-1","member":{"member_id":%d},`+
		`"occurred_at":%q,"total_fen":10000,"lines":[{"sku":"A","qty":1,"amount_fen":10000}]}`, member, h.Clock.Now().Format("2006-01-02T15:04:05Z07:00"))
	signed := func(raw string) []string {
		ts := strconv.FormatInt(h.Clock.Now().Unix(), 10)
		return []string{hooks.HeaderTimestamp, ts, hooks.HeaderSignature, hooks.Sign([]byte(h.Config.Orders.WebhookSecret), ts, []byte(raw))}
	}
	cases := []struct {
		name, method, path, body string
		headers                  []string
	}{
		{"shopper login", "POST", "/api/v1/shopper/login", `{"code":"sim:ctype-new:1"}`, nil},
		{"shopper profile", "PUT", "/api/v1/shopper/profile", `{"birthday":"1990-05-17"}`, shopper},
		{"console login", "POST", "/api/v1/console/login", `{"username":"admin","password":"admin123"}`, nil},
		{"console store", "POST", "/api/v1/console/stores", `{"name":"表单店"}`, admin},
		{"console adjustment", "POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", member), `{"delta":500,"reason":"x"}`,
			append(append([]string{}, admin...), "Idempotency-Key", "ctype-adjust")},
		{"guide pickup", "POST", "/api/v1/guide/mall/pickups", `{"code":"P-ctype"}`, guide},
		{"order hook", "POST", "/api/v1/hooks/orders", order, signed(order)},
	}
	for _, c := range cases {
		for _, ct := range []string{"text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "application/xml",
			"application/json; charset=gbk", "application/jsonp", ""} {
			// The spec's validator reads the media type alone: a charset
			// it does not look at.
			r := h.Send(strings.HasPrefix(ct, "application/json;"), c.method, c.path, c.body, append(append([]string{}, c.headers...), "Content-Type", ct)...)
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "INVALID" || r.Fields()["Content-Type"] == nil {
				t.Errorf("%s as %q: %d %s; want 400 INVALID naming Content-Type", c.name, ct, r.Status, r.Body)
			}
		}
	}
	if bal, err := h.App.Ledger.Balance(context.Background(), member); err != nil || bal.Available != 0 || bal.Pending != 0 {
		t.Fatalf("refused bodies moved points: %+v %v", bal, err)
	}
	if stores, err := h.App.Guides.Stores(context.Background()); err != nil || len(stores) != len(storesBefore) {
		t.Fatalf("refused bodies created stores: %d → %d %v", len(storesBefore), len(stores), err)
	}

	// application/json, with or without a UTF-8 charset, in any case.
	for i, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"} {
		r := h.Do("POST", "/api/v1/console/stores", fmt.Sprintf(`{"name":"店 %d"}`, i), append(append([]string{}, admin...), "Content-Type", ct)...)
		if r.Status != http.StatusCreated {
			t.Errorf("store as %q: %d %s", ct, r.Status, r.Body)
		}
	}
	if r := h.Do("POST", "/api/v1/hooks/orders", order, signed(order)...); r.Status != http.StatusOK && r.Status != http.StatusAccepted {
		t.Errorf("order hook as application/json: %d %s", r.Status, r.Body)
	}
}
