package bff_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A rule is stored whole as JSON in a TEXT column (64 KiB on MySQL): a rule
// whose lists each stay within their 200 entries but together take more
// than that, or whose weekdays repeat without end, is 400 and saves
// nothing. The first was a 500 on MariaDB ("Data too long for column
// 'spec'"); the second was saved on SQLite with 20,000 weekdays.
func TestRuleFitsItsColumn(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	list := func(prefix string) []string {
		l := make([]string, 200)
		for i := range l {
			l[i] = fmt.Sprintf("%s%03d", prefix, i) + strings.Repeat("x", 60)
		}
		return l
	}
	rule := func(name string, conditions map[string]any) string {
		b, _ := json.Marshal(map[string]any{"name": name, "trigger": "order_paid", "conditions": conditions,
			"effect": map[string]any{"kind": "bonus", "points": 1}})
		return string(b)
	}
	weekdays := make([]int, 20000)
	for i := range weekdays {
		weekdays[i] = 1 + i%7
	}
	for _, c := range []struct {
		name, body, field string
		specValid         bool // the spec bounds weekdays, not a rule's size
	}{
		{"every list full", rule("满", map[string]any{"categories": list("c"), "tiers": list("t"), "codes": list("k"), "channels": list("h"), "stores": list("s")}), "conditions", true},
		{"20,000 weekdays", rule("周", map[string]any{"weekdays": weekdays}), "conditions.weekdays", false},
	} {
		for _, path := range []string{"/api/v1/console/rules", "/api/v1/console/rules/simulate"} {
			body := c.body
			if strings.HasSuffix(path, "simulate") {
				body = `{"order":{"total_fen":100,"lines":[{"sku":"a","qty":1,"amount_fen":100}]},"draft":` + c.body + `}`
			}
			r := h.Send(c.specValid, "POST", path, body, admin...)
			field := c.field
			if strings.HasSuffix(path, "simulate") {
				field = "draft." + field
			}
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "INVALID" || r.Fields()[field] == nil {
				t.Errorf("%s to %s: %d %.300s; want 400 INVALID naming %s", c.name, path, r.Status, r.Body, field)
			}
		}
	}
	if r := h.Do("GET", "/api/v1/console/rules", nil, admin...); !strings.Contains(string(r.Body), `"rules":[]`) {
		t.Fatalf("refused rules were saved: %.300s", r.Body)
	}
	// Each weekday once, and lists of 150 long entries each, still pass.
	if r := h.Do("POST", "/api/v1/console/rules", rule("一周", map[string]any{"weekdays": []int{1, 2, 3, 4, 5, 6, 7}}), admin...); r.Status != http.StatusCreated {
		t.Fatalf("seven weekdays: %d %s", r.Status, r.Body)
	}
	l := func(p string) []string { return list(p)[:150] }
	if r := h.Do("POST", "/api/v1/console/rules", rule("大", map[string]any{"categories": l("c"), "tiers": l("t"), "codes": l("k"), "channels": l("h"), "stores": l("s")}), admin...); r.Status != http.StatusCreated {
		t.Fatalf("150 entries a list: %d %.300s", r.Status, r.Body)
	}
}
