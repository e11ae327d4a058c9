package console_test

import (
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A campaign's dates are required and from 2000-01-01 on, and a refusal
// says which: year 1 (a default value sent by mistake) was "starts_at and
// ends_at are required", as if the field had been left out.
func TestLotteryCampaignDatesAreRequiredAndInRange(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	const prizes = `"prizes":[{"name":"a","kind":"gift","weight":1}]`
	cases := []struct {
		name, body    string
		inSpec        bool
		field, saying string
	}{
		{"starts in year 1", `{"name":"x","starts_at":"0001-01-01T00:00:00Z","ends_at":"2026-12-23T00:00:00Z",` + prizes + `}`, true, "starts_at", "out of range: from 2000-01-01 on"},
		{"starts at the epoch", `{"name":"x","starts_at":"1970-01-01T00:00:00Z","ends_at":"2026-12-23T00:00:00Z",` + prizes + `}`, true, "starts_at", "out of range: from 2000-01-01 on"},
		{"ends in year 1", `{"name":"x","starts_at":"0001-01-01T00:00:00Z","ends_at":"0001-01-01T00:00:00Z",` + prizes + `}`, true, "starts_at", "out of range: from 2000-01-01 on"},
		{"ends at the epoch", `{"name":"x","starts_at":"2026-11-23T00:00:00Z","ends_at":"1970-01-01T00:00:00Z",` + prizes + `}`, true, "ends_at", "out of range: from 2000-01-01 on"},
		{"no starts_at", `{"name":"x","ends_at":"2026-12-23T00:00:00Z",` + prizes + `}`, false, "starts_at", "required"},
		{"no ends_at", `{"name":"x","starts_at":"2026-11-23T00:00:00Z",` + prizes + `}`, false, "ends_at", "required"},
	}
	for _, tc := range cases {
		r := h.Send(tc.inSpec, "POST", "/api/v1/console/lottery/campaigns", tc.body, marketer...)
		if r.Status != 400 {
			t.Errorf("%s: %d %s, want 400", tc.name, r.Status, r.Body)
			continue
		}
		e := r.JSON()["error"].(map[string]any)
		fields, _ := e["fields"].(map[string]any)
		msg, _ := fields[tc.field].(string)
		if !strings.Contains(msg, tc.saying) {
			t.Errorf("%s: %s, want %s saying %q", tc.name, r.Body, tc.field, tc.saying)
		}
	}
	if n := count(t, h, "lottery_campaigns"); n != 0 {
		t.Fatalf("%d campaigns written", n)
	}
}
