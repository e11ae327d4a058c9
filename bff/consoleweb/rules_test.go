package consoleweb_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// ruleForm is the rule form as a browser posts it: 1 point per yuan on
// paid orders, four bracket rows of which three are blank; a rendering
// of its own (freshKey).
func ruleForm(csrf string, set map[string]string) url.Values {
	v := url.Values{"csrf_token": {csrf}, "form_key": {freshKey()}, "name": {"每元 1 分"}, "trigger": {"order_paid"}, "status": {"active"},
		"priority": {""}, "stacking": {"stackable"}, "kind": {"rate"}, "points": {""}, "per_mille": {""},
		"bracket_from": {"0", "", "", ""}, "bracket_to": {"", "", "", ""}, "bracket_per_mille": {"1000", "", "", ""}}
	for k, val := range set {
		v[k] = []string{val}
	}
	return v
}

var (
	simTotalRe = regexp.MustCompile(`id="sim-result" data-total="(-?\d+)"`)
	locationID = regexp.MustCompile(`^/console/rules/(\d+)\?saved=(\d+)$`)
)

func TestRulePagesCreateSimulateEditAndToggle(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	m := s.client()
	m.signIn("marketer")
	form := m.get("/console/rules/new")
	if form.status != 200 || !strings.Contains(form.body, `id="rule-save"`) {
		t.Fatalf("new rule form: %d %.500s", form.status, form.body)
	}
	csrf := field(t, csrfRe, form)

	r := m.do("POST", "/console/rules", ruleForm(csrf, map[string]string{"min_amount": "10.50", "categories": "A, B", "weekday": "6"}))
	loc := locationID.FindStringSubmatch(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || loc == nil || loc[2] != "1" {
		t.Fatalf("create: %d %v %.1000s", r.status, r.header, r.body)
	}
	id := loc[1]
	api := s.h.Do("GET", "/api/v1/console/rules/"+id, nil, apptest.Auth(s.h.ConsoleLogin("auditor"))...)
	var got struct {
		Rule struct {
			Name       string `json:"name"`
			Conditions struct {
				MinAmountFen int64    `json:"min_amount_fen"`
				Categories   []string `json:"categories"`
				Weekdays     []int    `json:"weekdays"`
			} `json:"conditions"`
			Effect struct {
				Kind     string `json:"kind"`
				Brackets []struct {
					FromFen, ToFen, PerMille int64
				} `json:"brackets"`
			} `json:"effect"`
		} `json:"rule"`
	}
	api.Decode(t, &got)
	c := got.Rule.Conditions
	if got.Rule.Name != "每元 1 分" || c.MinAmountFen != 1050 || len(c.Categories) != 2 || len(c.Weekdays) != 1 || c.Weekdays[0] != 6 ||
		got.Rule.Effect.Kind != "rate" || len(got.Rule.Effect.Brackets) != 1 {
		t.Fatalf("the rule as the API reads it: %s", api.Body)
	}
	edit := m.get("/console/rules/" + id + "?saved=1")
	if !strings.Contains(edit.body, `id="rule-saved"`) || !strings.Contains(edit.body, `name="min_amount" inputmode="decimal" value="10.50"`) {
		t.Fatalf("edit form does not show the saved rule: %.3000s", edit.body)
	}

	// Refused forms come back with the problems named as the API names them.
	for name, set := range map[string]map[string]string{
		"yuan with 3 decimals": {"min_amount": "1.234"},
		"fixed without points": {"kind": "fixed"},
		"no name":              {"name": " "},
	} {
		r := m.do("POST", "/console/rules", ruleForm(csrf, set))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="rule-errors"`) {
			t.Errorf("%s: %d %.300s", name, r.status, r.body)
		}
	}

	// Simulate a draft (not saved) beside the saved rule: a bonus of 50.
	// The saved rule wants category A or B, on a Saturday.
	sim := ruleForm(csrf, map[string]string{"name": "加赠 50", "kind": "bonus", "points": "50", "sim_at": "2026-11-28T10:00"})
	sim["sim_line_category"] = []string{"A", "", ""}
	sim["sim_line_amount"] = []string{"300", "", ""}
	p := m.do("POST", "/console/rules/simulate", sim)
	if p.status != 200 || field(t, simTotalRe, p) != "350" || strings.Count(p.body, `class="line"`) != 2 {
		t.Fatalf("simulate: %d %s", p.status, p.body[strings.Index(p.body, `id="breakdown"`):])
	}
	jsonSim := s.h.Do("POST", "/api/v1/console/rules/simulate", `{"order":{"total_fen":30000,"lines":[{"sku":"a","category":"A","qty":1,"amount_fen":30000}],"occurred_at":"2026-11-28T10:00:00+08:00"},"draft":{"name":"加赠 50","trigger":"order_paid","effect":{"kind":"bonus","points":50}}}`,
		apptest.Auth(s.h.ConsoleLogin("marketer"))...)
	if total := jsonSim.JSON()["result"].(map[string]any)["total"].(float64); total != 350 {
		t.Fatalf("the JSON API's simulation says %v", total)
	}
	if bad := m.do("POST", "/console/rules/simulate", ruleForm(csrf, map[string]string{"sim_total": "abc"})); bad.status != 200 || !strings.Contains(bad.body, "order.total_fen") {
		t.Fatalf("simulate a bad amount: %d", bad.status)
	}

	// Edit: a new version; the version-1 form rendered again is stale (409).
	// (The same rendering sent again lands on version 2: formkey_test.go.)
	v1 := ruleForm(csrf, map[string]string{"name": "每元 2 分", "version": "1", "bracket_per_mille": "2000"})
	v1["bracket_per_mille"] = []string{"2000", "", "", ""}
	if r := m.do("POST", "/console/rules/"+id, v1); r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "saved=2") {
		t.Fatalf("update: %d %v", r.status, r.header)
	}
	v1.Set("form_key", freshKey())
	if r := m.do("POST", "/console/rules/"+id, v1); r.status != http.StatusConflict || !strings.Contains(r.body, `id="rule-errors"`) {
		t.Fatalf("stale update: %d", r.status)
	}
	if r := m.do("POST", "/console/rules/"+id+"/status", url.Values{"csrf_token": {csrf}, "form_key": {freshKey()}, "status": {"inactive"}, "version": {"2"}}); r.status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d %.500s", r.status, r.body)
	}
	list := m.get("/console/rules")
	if !strings.Contains(list.body, fmt.Sprintf(`class="rule-row" data-id="%s" data-status="inactive"`, id)) || !strings.Contains(list.body, "每元 2 分") {
		t.Fatalf("list after deactivating: %.3000s", list.body)
	}
	if r := m.do("POST", "/console/rules/"+id+"/status", url.Values{"csrf_token": {csrf}, "form_key": {freshKey()}, "status": {"active"}, "version": {"2"}}); r.status != http.StatusConflict {
		t.Fatalf("toggle a stale version: %d", r.status)
	}
	if r := m.do("POST", "/console/rules/99999/status", url.Values{"csrf_token": {csrf}, "form_key": {freshKey()}, "status": {"active"}, "version": {"1"}}); r.status != http.StatusNotFound {
		t.Fatalf("toggle an unknown rule: %d", r.status)
	}
	if r := m.do("POST", "/console/rules", url.Values{"name": {"no token"}}); r.status != http.StatusForbidden {
		t.Fatalf("create without CSRF token: %d", r.status)
	}
	var actions []string
	for _, e := range s.h.Do("GET", "/api/v1/console/audit?target=rule:"+id, nil, apptest.Auth(s.h.ConsoleLogin("auditor"))...).JSON()["entries"].([]any) {
		e := e.(map[string]any)
		actions = append(actions, fmt.Sprint(e["action"], "/", e["actor"]))
	}
	if strings.Join(actions, " ") != "rule.update/marketer rule.update/marketer rule.create/marketer" {
		t.Fatalf("audit trail %v", actions)
	}

	// The auditor reads and simulates, and sees no write buttons; forged writes are 403.
	a := s.client()
	a.signIn("auditor")
	al := a.get("/console/rules")
	ae := a.get("/console/rules/" + id)
	if strings.Contains(al.body, "rule-new") || strings.Contains(al.body, "rule-toggle") || strings.Contains(ae.body, "rule-save") || !strings.Contains(ae.body, `id="readonly"`) {
		t.Fatalf("the auditor sees write buttons: %.2000s", al.body)
	}
	acsrf := field(t, csrfRe, ae)
	before := count(t, s.h, "rule_versions")
	for _, path := range []string{"/console/rules", "/console/rules/" + id} {
		if r := a.do("POST", path, ruleForm(acsrf, map[string]string{"version": "2"})); r.status != http.StatusForbidden {
			t.Errorf("auditor's forged POST %s: %d", path, r.status)
		}
	}
	if r := a.do("POST", "/console/rules/"+id+"/status", url.Values{"csrf_token": {acsrf}, "status": {"active"}, "version": {"3"}}); r.status != http.StatusForbidden {
		t.Errorf("auditor's forged activate: %d", r.status)
	}
	if r := a.do("POST", "/console/rules/simulate", ruleForm(acsrf, map[string]string{"sim_total": "100"})); r.status != 200 || field(t, simTotalRe, r) != "100" {
		t.Errorf("auditor's simulation: %d", r.status)
	}
	if count(t, s.h, "rule_versions") != before {
		t.Fatal("the auditor's forged writes wrote")
	}
}
