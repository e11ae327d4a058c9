package console_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// TestStoreAndGuideEditsAreAudited: creating and editing a store and a
// guide writes one audit row each, naming the console user, and a refused
// edit writes none. The robot key never reaches the trail.
func TestStoreAndGuideEditsAreAudited(t *testing.T) {
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	auditor := apptest.Auth(h.ConsoleLogin("auditor"))
	trail := func(target string) []map[string]any {
		t.Helper()
		r := h.Do("GET", "/api/v1/console/audit?target="+target, nil, auditor...)
		if r.Status != 200 {
			t.Fatalf("audit %s: %d %s", target, r.Status, r.Body)
		}
		var out []map[string]any
		for _, e := range r.JSON()["entries"].([]any) {
			out = append(out, e.(map[string]any))
		}
		return out
	}

	st := h.Do("POST", "/api/v1/console/stores", map[string]any{"name": "审计店", "robot_key": "secret-robot-key"}, marketer...)
	if st.Status != 201 {
		t.Fatalf("create store: %d %s", st.Status, st.Body)
	}
	storeID := int64(st.JSON()["store"].(map[string]any)["id"].(float64))
	if r := h.Do("PATCH", fmt.Sprintf("/api/v1/console/stores/%d", storeID), map[string]any{"name": "审计店二"}, marketer...); r.Status != 200 {
		t.Fatalf("update store: %d %s", r.Status, r.Body)
	}
	if r := h.Do("PATCH", fmt.Sprintf("/api/v1/console/stores/%d", storeID), map[string]any{"name": ""}, marketer...); r.Status != 400 {
		t.Fatalf("update store with an empty name: %d %s", r.Status, r.Body)
	}
	got := trail(fmt.Sprintf("store:%d", storeID))
	if len(got) != 2 || got[0]["action"] != "store.update" || got[1]["action"] != "store.create" || got[0]["actor"] != "marketer" {
		t.Fatalf("store trail = %v, want store.update then store.create by marketer", got)
	}
	for _, e := range got {
		if strings.Contains(e["detail"].(string), "secret-robot-key") {
			t.Fatalf("the robot key reached the audit trail: %v", e)
		}
	}

	g := h.Do("POST", "/api/v1/console/guides", map[string]any{"userid": "audited-guide", "name": "王五", "store_id": storeID, "monthly_budget": 1000}, marketer...)
	if g.Status != 201 {
		t.Fatalf("create guide: %d %s", g.Status, g.Body)
	}
	guideID := int64(g.JSON()["guide"].(map[string]any)["id"].(float64))
	if r := h.Do("PATCH", fmt.Sprintf("/api/v1/console/guides/%d", guideID), map[string]any{"monthly_budget": 2000}, marketer...); r.Status != 200 {
		t.Fatalf("update guide: %d %s", r.Status, r.Body)
	}
	got = trail(fmt.Sprintf("guide:%d", guideID))
	if len(got) != 2 || got[0]["action"] != "guide.update" || got[1]["action"] != "guide.create" || !strings.Contains(got[0]["detail"].(string), `"monthly_budget":2000`) {
		t.Fatalf("guide trail = %v, want guide.update (budget 2000) then guide.create", got)
	}
}
