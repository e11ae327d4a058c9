package bff_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A time in a request body is one the stores can hold: a time whose UTC
// year is before 1 or after 9999 is 400 naming the field, on every route,
// and writes nothing. 0000-01-01T00:00:00Z and 0001-01-01T00:00:00+08:00
// (year 0 in UTC) or 9999-12-31T23:59:59-08:00 (year 10000) were 500s:
// MySQL's driver refuses to write them (rules, tasks, mall items, a
// lottery's end), and encoding/json to write a campaign's schedule, on
// SQLite too.
func TestBodyTimesFitTheStores(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	r := h.Do("POST", "/api/v1/console/lottery/campaigns", `{"name":"跨年","starts_at":"2026-12-01T00:00:00+08:00","ends_at":"2027-01-01T00:00:00+08:00","prizes":[{"name":"谢谢","kind":"nothing","weight":1}]}`, admin...)
	if r.Status != http.StatusCreated {
		t.Fatalf("lottery: %d %s", r.Status, r.Body)
	}
	lottery := fmt.Sprintf("/api/v1/console/lottery/campaigns/%d", int64(r.JSON()["campaign"].(map[string]any)["id"].(float64)))
	const (
		year0     = "0000-01-01T00:00:00Z"
		year0East = "0001-01-01T00:00:00+08:00"
		year10000 = "9999-12-31T23:59:59-08:00"
	)
	cases := []struct {
		method, path, body, field string
	}{
		{"POST", "/api/v1/console/rules", `{"name":"r","trigger":"order_paid","valid_from":%q,"effect":{"kind":"rate","brackets":[{"from_fen":0,"per_mille":1000}]}}`, "valid_from"},
		{"POST", "/api/v1/console/tasks", `{"type":"share","title":"t","period":"daily","target":1,"reward_points":1,"valid_to":%q}`, "valid_to"},
		{"POST", "/api/v1/console/campaigns", `{"name":"c","audience":{"expiring_within_days":7},"schedule":{"once_at":%q}}`, "schedule.once_at"},
		{"POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"m","category":"c","points":1,"stock":1,"starts_at":%q}`, "starts_at"},
		{"PUT", lottery, `{"name":"跨年","starts_at":"2026-12-01T00:00:00+08:00","ends_at":%q}`, "ends_at"},
	}
	for _, c := range cases {
		for _, at := range []string{year0, year0East, year10000} {
			r := h.Send(true, c.method, c.path, fmt.Sprintf(c.body, at), admin...)
			if got, _ := r.Fields()[c.field].(string); r.Status != http.StatusBadRequest || r.ErrorCode() != "INVALID" || !strings.HasPrefix(got, "must be a time from") {
				t.Errorf("%s %s with %s = %s: %d %s; want 400 INVALID naming %s", c.method, c.path, c.field, at, r.Status, r.Body, c.field)
			}
		}
	}
	for _, list := range []struct{ path, key string }{{"/api/v1/console/rules", "rules"}, {"/api/v1/console/tasks", "tasks"},
		{"/api/v1/console/campaigns", "campaigns"}, {"/api/v1/console/mall/items", "items"}} {
		r := h.Do("GET", list.path, nil, admin...)
		if items, _ := r.JSON()[list.key].([]any); r.Status != http.StatusOK || len(items) != 0 {
			t.Errorf("GET %s: %d %s; refused bodies wrote", list.path, r.Status, r.Body)
		}
	}
	if r := h.Do("GET", lottery, nil, admin...); !strings.Contains(string(r.Body), `"ends_at":"2026-12-31T16:00:00Z"`) {
		t.Errorf("lottery after refused edits: %s", r.Body)
	}

	// The first and the last instant of the span still pass.
	for i, c := range cases[:4] {
		for _, at := range []string{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"} {
			body := strings.Replace(fmt.Sprintf(c.body, at), `"name":"`, fmt.Sprintf(`"name":"%d-%s`, i, at[:4]), 1)
			body = strings.Replace(body, `"title":"t"`, `"title":"t`+at[:4]+`"`, 1)
			if r := h.Do(c.method, c.path, body, admin...); r.Status != http.StatusCreated {
				t.Errorf("%s %s with %s = %s: %d %s", c.method, c.path, c.field, at, r.Status, r.Body)
			}
		}
	}
}
