package hooks_test

import (
	"strconv"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// Active rules are cached (rules.cache_ttl), but an edit or a delete
// through the console applies to the very next event.
func TestConsoleRuleEditsApplyToTheNextEvent(t *testing.T) {
	h := apptest.New(t, withSecret)
	if h.Config.Rules.CacheTTL <= 0 {
		t.Fatalf("rules.cache_ttl is %v: this test is about the cache", h.Config.Rules.CacheTTL)
	}
	admin := h.ConsoleLogin("admin")
	t.Parallel()
	_, _, id := h.Login(apptest.UniqueUser("rc"))
	ruleID := createRule(h, admin, baseRule)
	at := h.Clock.Now()
	if r := post(h, paid("rc-e1", "rc-o1", byID(id), at, 10000)); r.Status != 200 || r.JSON()["points_awarded"].(float64) != 100 {
		t.Fatalf("before the edit: %d %s", r.Status, r.Body)
	}
	edit := `{"version":1,"name":"基础","trigger":"order_paid","effect":{"kind":"rate","brackets":[{"from_fen":0,"per_mille":3000}]}}`
	if r := h.Do("PUT", "/api/v1/console/rules/"+strconv.FormatInt(ruleID, 10), edit, apptest.Auth(admin)...); r.Status != 200 {
		t.Fatalf("edit: %d %s", r.Status, r.Body)
	}
	if r := post(h, paid("rc-e2", "rc-o2", byID(id), at, 10000)); r.Status != 200 || r.JSON()["points_awarded"].(float64) != 300 {
		t.Fatalf("after the edit: %d %s", r.Status, r.Body)
	}
	if r := h.Do("DELETE", "/api/v1/console/rules/"+strconv.FormatInt(ruleID, 10), nil, apptest.Auth(admin)...); r.Status/100 != 2 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := post(h, paid("rc-e3", "rc-o3", byID(id), at, 10000)); r.Status != 200 || r.JSON()["points_awarded"].(float64) != 0 {
		t.Fatalf("after the delete: %d %s", r.Status, r.Body)
	}
}
