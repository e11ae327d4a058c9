package bff_test

import (
	"net/http"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// The audit log's from and to are days a time column can hold: a day
// before 2000-01-01 is 400 naming the parameter. from=0000-01-01 begins at
// -0001-12-31T16:00Z, which MySQL's driver cannot write: a 500 on MariaDB
// (SQLite compared the strings and answered).
func TestAuditDaysBefore2000AreRefused(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	for _, c := range []struct{ q, name string }{
		{"from=0000-01-01", "from"}, {"to=0000-01-01", "to"}, {"from=0001-01-01", "from"}, {"to=0001-01-01", "to"},
		{"from=1999-12-31", "from"}, {"from=2000-01-01&to=1999-12-31", "to"},
	} {
		r := h.Send(true, "GET", "/api/v1/console/audit?"+c.q, nil, admin...)
		if r.Status != http.StatusBadRequest || r.ErrorCode() != "INVALID" || r.Fields()[c.name] == nil {
			t.Errorf("?%s: %d %s; want 400 INVALID naming %s", c.q, r.Status, r.Body, c.name)
		}
	}
	for _, q := range []string{"from=2000-01-01", "to=9999-12-31", "from=2000-01-01&to=9999-12-31"} {
		if r := h.Do("GET", "/api/v1/console/audit?"+q, nil, admin...); r.Status != http.StatusOK {
			t.Errorf("?%s: %d %s", q, r.Status, r.Body)
		}
	}
}

// The analytics' from and to are held to the same first day: a range
// from 0000-01-01 to 0000-01-02 was a 500 on MariaDB for the growth and
// reminder reports, whose queries write the range's start as a time.
func TestAnalyticsDaysBefore2000AreRefused(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	for _, report := range []string{"points", "members", "growth", "reminders", "reminder-effect"} {
		for _, c := range []struct{ q, name string }{
			{"from=0000-01-01&to=0000-01-02", "from"}, {"from=1999-12-31&to=2000-01-01", "from"},
		} {
			path := "/api/v1/console/analytics/" + report + "?" + c.q
			r := h.Send(true, "GET", path, nil, admin...)
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "INVALID" || r.Fields()[c.name] == nil {
				t.Errorf("%s: %d %.200s; want 400 INVALID naming %s", path, r.Status, r.Body, c.name)
			}
		}
		if r := h.Do("GET", "/api/v1/console/analytics/"+report+"?from=2000-01-01&to=2000-01-02", nil, admin...); r.Status != http.StatusOK {
			t.Errorf("%s from 2000-01-01: %d %.200s", report, r.Status, r.Body)
		}
	}
}
