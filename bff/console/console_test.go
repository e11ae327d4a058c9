package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

func count(t *testing.T, h *apptest.Harness, table string) int64 {
	t.Helper()
	var n int64
	if err := h.Env.DB.Conn(context.Background()).Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConsoleLogin(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	cases := []struct {
		name, body string
		want       int
	}{
		{"admin", `{"username":"admin","password":"admin123"}`, 200},
		{"wrong password", `{"username":"admin","password":"nope"}`, 401},
		{"unknown user", `{"username":"root","password":"admin123"}`, 401},
		{"empty", `{"username":"","password":""}`, 400},
		{"malformed", `{"username":`, 400},
		{"unknown field", `{"username":"admin","password":"admin123","role":"admin"}`, 400},
	}
	for _, tc := range cases {
		if r := h.Send(tc.want != 400 || tc.name == "empty", "POST", "/api/v1/console/login", tc.body); r.Status != tc.want {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
}

func TestAdjustmentIsIdempotentAuditedAndRoleChecked(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	shopperTok, _, id := h.Login(apptest.UniqueUser("adj"))
	admin := h.ConsoleLogin("admin")
	auditor := h.ConsoleLogin("auditor")
	path := fmt.Sprintf("/api/v1/console/members/%d/adjustments", id)
	auth := func(tok, key string) []string {
		hdr := apptest.Auth(tok)
		if key != "" {
			hdr = append(hdr, "Idempotency-Key", key)
		}
		return hdr
	}

	r := h.Do("POST", path, `{"delta":100,"reason":"客服补偿"}`, auth(admin, "k1")...)
	if r.Status != 201 {
		t.Fatalf("adjust: %d %s", r.Status, r.Body)
	}
	first := r.JSON()["entry"].(map[string]any)
	if first["balance_after"].(float64) != 100 || first["operator"] != "admin:admin" {
		t.Fatalf("entry %v", first)
	}
	replay := h.Do("POST", path, `{"delta":100,"reason":"客服补偿"}`, auth(admin, "k1")...)
	if replay.Status != 201 || replay.JSON()["entry"].(map[string]any)["id"] != first["id"] || replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s %v", replay.Status, replay.Body, replay.Header)
	}
	if r := h.Do("POST", path, `{"delta":999,"reason":"客服补偿"}`, auth(admin, "k1")...); r.Status != 409 || r.ErrorCode() != "IDEMPOTENCY_CONFLICT" {
		t.Fatalf("same key, other request: %d %s", r.Status, r.Body)
	}

	bad := []struct {
		name, path, body string
		hdr              []string
		want             int
	}{
		{"auditor", path, `{"delta":5,"reason":"x"}`, auth(auditor, "k2"), 403},
		{"shopper token", path, `{"delta":5,"reason":"x"}`, auth(shopperTok, "k2"), 401},
		{"no token", path, `{"delta":5,"reason":"x"}`, []string{"Idempotency-Key", "k2"}, 401},
		{"missing key", path, `{"delta":5,"reason":"x"}`, auth(admin, ""), 400},
		{"zero", path, `{"delta":0,"reason":"x"}`, auth(admin, "k3"), 400},
		{"missing delta", path, `{"reason":"x"}`, auth(admin, "k3"), 400},
		{"over 10^12", path, `{"delta":1000000000001,"reason":"x"}`, auth(admin, "k4"), 400},
		{"float", path, `{"delta":1.5,"reason":"x"}`, auth(admin, "k4"), 400},
		{"string delta", path, `{"delta":"5","reason":"x"}`, auth(admin, "k4"), 400},
		{"no reason", path, `{"delta":5,"reason":""}`, auth(admin, "k5"), 400},
		{"long reason", path, `{"delta":5,"reason":"` + strings.Repeat("长", 201) + `"}`, auth(admin, "k6"), 400},
		{"below zero", path, `{"delta":-101,"reason":"x"}`, auth(admin, "k7"), 422},
		{"unknown member", "/api/v1/console/members/999999/adjustments", `{"delta":5,"reason":"x"}`, auth(admin, "k8"), 404},
		{"bad member id", "/api/v1/console/members/abc/adjustments", `{"delta":5,"reason":"x"}`, auth(admin, "k9"), 404},
		{"malformed", path, `{"delta":`, auth(admin, "k10"), 400},
	}
	for _, tc := range bad {
		specAllows := tc.want != 400 || tc.name == "zero" || tc.name == "over 10^12" || tc.name == "no reason"
		if r := h.Send(specAllows, "POST", tc.path, tc.body, tc.hdr...); r.Status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.want)
		}
	}
	if n := count(t, h, "ledger_entries"); n != 1 {
		t.Fatalf("ledger entries = %d, want 1 (bad requests wrote something)", n)
	}

	led := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/ledger", id), nil, apptest.Auth(auditor)...)
	if led.Status != 200 || led.JSON()["account"].(map[string]any)["available"].(float64) != 100 {
		t.Fatalf("ledger: %d %s", led.Status, led.Body)
	}
	if r := h.Do("GET", "/api/v1/console/members/999999/ledger", nil, apptest.Auth(auditor)...); r.Status != 404 {
		t.Fatalf("unknown member ledger: %d", r.Status)
	}
	au := h.Do("GET", fmt.Sprintf("/api/v1/console/audit?target=member:%d", id), nil, apptest.Auth(auditor)...)
	entries := au.JSON()["entries"].([]any)
	if au.Status != 200 || len(entries) != 1 || entries[0].(map[string]any)["actor"] != "admin" || entries[0].(map[string]any)["action"] != "points.adjust" {
		t.Fatalf("audit: %d %s", au.Status, au.Body)
	}

	me := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(shopperTok)...)
	pts := me.JSON()["points"].(map[string]any)
	if pts["available"].(float64) != 100 || len(pts["expiring"].([]any)) != 1 {
		t.Fatalf("me points: %s", me.Body)
	}
}

// The spec's Idempotency-Key is up to 100 bytes: an adjustment takes one of
// 57 and one of 100 (ASCII and Chinese), replays each and refuses each with
// another body, and two long keys that share their first 64 characters are
// two adjustments. Keys longer than a ledger reference's id were refused.
func TestAdjustmentTakesLongIdempotencyKeys(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, _, id := h.Login(apptest.UniqueUser("adjkey"))
	admin := h.ConsoleLogin("admin")
	path := fmt.Sprintf("/api/v1/console/members/%d/adjustments", id)
	keys := []string{
		strings.Repeat("k", 57),
		strings.Repeat("k", 100),
		strings.Repeat("k", 99) + "2",
		strings.Repeat("键", 33), // 99 bytes
	}
	for i, key := range keys {
		hdr := append(apptest.Auth(admin), "Idempotency-Key", key)
		body := fmt.Sprintf(`{"delta":%d,"reason":"长键"}`, 10+i)
		r := h.Do("POST", path, body, hdr...)
		if r.Status != 201 {
			t.Fatalf("key of %d bytes: %d %s", len(key), r.Status, r.Body)
		}
		first := r.JSON()["entry"].(map[string]any)
		replay := h.Do("POST", path, body, hdr...)
		if replay.Status != 201 || replay.Header.Get("Idempotent-Replayed") != "true" || replay.JSON()["entry"].(map[string]any)["id"] != first["id"] {
			t.Fatalf("replay of a key of %d bytes: %d %s", len(key), replay.Status, replay.Body)
		}
		if r := h.Do("POST", path, `{"delta":999,"reason":"长键"}`, hdr...); r.Status != 409 || r.ErrorCode() != "IDEMPOTENCY_CONFLICT" {
			t.Fatalf("key of %d bytes, other body: %d %s", len(key), r.Status, r.Body)
		}
	}
	if n := count(t, h, "ledger_entries"); n != int64(len(keys)) {
		t.Fatalf("ledger entries = %d, want %d", n, len(keys))
	}
}
