package consoleweb_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A date and time typed into a console form is one the stores can hold:
// 0001-01-01T00:00 in Asia/Shanghai is year 0 in UTC, which MySQL's driver
// refuses to write (a 500 page on MariaDB; SQLite kept it). The form comes
// back 400 naming the field, and nothing is saved.
func TestFormTimesFitTheStores(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	m := s.client()
	m.signIn("marketer")
	csrf := field(t, csrfRe, m.get("/console/rules/new"))
	for _, f := range []string{"valid_from", "valid_to"} {
		r := m.do("POST", "/console/rules", ruleForm(csrf, map[string]string{f: "0001-01-01T07:59"}))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="rule-errors"`) || !strings.Contains(r.body, f) {
			t.Errorf("rule with %s in year 0 UTC: %d %.500s", f, r.status, r.body)
		}
	}
	cp := m.get("/console/campaigns/new")
	r := m.do("POST", "/console/campaigns", campaignForm(field(t, csrfRe, cp), map[string]string{"once_at": "0001-01-01T00:00"}))
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "schedule.once_at") {
		t.Errorf("campaign once at year 0 UTC: %d %.500s", r.status, r.body)
	}
	admin := apptest.Auth(s.h.ConsoleLogin("admin"))
	for _, list := range []struct{ path, key string }{{"/api/v1/console/rules", "rules"}, {"/api/v1/console/campaigns", "campaigns"}} {
		r := s.h.Do("GET", list.path, nil, admin...)
		if items, _ := r.JSON()[list.key].([]any); r.Status != http.StatusOK || len(items) != 0 {
			t.Errorf("GET %s: %d %s; refused forms saved", list.path, r.Status, r.Body)
		}
	}
	// A day later holds.
	if r := m.do("POST", "/console/rules", ruleForm(csrf, map[string]string{"valid_from": "0001-01-02T00:00"})); r.status != http.StatusSeeOther {
		t.Errorf("rule from 0001-01-02T00:00: %d %.500s", r.status, r.body)
	}
}
