package console_test

import (
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A time field that is valid JSON but no RFC 3339 time (a date, a number)
// is a field error naming the field, nested ones by their path, as a wrong
// type anywhere else is; not "malformed JSON".
func TestMalformedTimeNamesTheField(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	const want = "must be an RFC 3339 time, e.g. 2026-12-10T00:00:00+08:00"
	cases := []struct {
		name, path, body, field string
	}{
		{"mall item date only", "/api/v1/console/mall/items",
			`{"kind":"coupon","name":"x","category":"c","points":3,"stock":1,"starts_at":"2026-12-10"}`, "starts_at"},
		{"mall item number", "/api/v1/console/mall/items",
			`{"kind":"coupon","name":"x","category":"c","points":3,"stock":1,"ends_at":5}`, "ends_at"},
		{"lottery date only", "/api/v1/console/lottery/campaigns",
			`{"name":"抽奖","starts_at":"2026-12-10","ends_at":"2026-12-23T00:00:00+08:00","cost_points":20,
			"prizes":[{"name":"5积分","kind":"points","points":5,"weight":100,"stock":50}]}`, "starts_at"},
		{"lottery number", "/api/v1/console/lottery/campaigns",
			`{"name":"抽奖","starts_at":5,"ends_at":"2026-12-23T00:00:00+08:00","cost_points":20,
			"prizes":[{"name":"5积分","kind":"points","points":5,"weight":100,"stock":50}]}`, "starts_at"},
		{"nested campaign schedule", "/api/v1/console/campaigns",
			`{"name":"提醒","schedule":{"once_at":"tomorrow"}}`, "schedule.once_at"},
	}
	for _, tc := range cases {
		r := h.DoInvalid("POST", tc.path, tc.body, marketer...)
		if r.Status != 400 || r.ErrorCode() != "INVALID" || r.Fields()[tc.field] != want {
			t.Errorf("%s: %d %s, want 400 INVALID with fields.%s %q", tc.name, r.Status, r.Body, tc.field, want)
		}
	}
}
