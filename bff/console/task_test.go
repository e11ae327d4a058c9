package console_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

const browseTask = `{"type":"browse","title":"逛新品页","period":"daily","target":2,"reward_points":15,"min_seconds":15,"page":"/pages/new"}`

func TestConsoleTaskCRUD(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	mk := apptest.Auth(h.ConsoleLogin("marketer"))
	r := h.Do("POST", "/api/v1/console/tasks", browseTask, mk...)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	task := r.JSON()["task"].(map[string]any)
	id := int64(task["id"].(float64))
	if task["status"] != "active" || task["reward_points"].(float64) != 15 || task["page"] != "/pages/new" {
		t.Fatalf("created %v", task)
	}
	path := fmt.Sprintf("/api/v1/console/tasks/%d", id)
	upd := `{"type":"share","title":"分享好友","period":"weekly","target":3,"reward_points":30,"valid_to":"2026-12-31T00:00:00+08:00","status":"paused"}`
	if r := h.Do("PUT", path, upd, mk...); r.Status != 200 || r.JSON()["task"].(map[string]any)["valid_to"] != "2026-12-30T16:00:00Z" {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	// Saving it again unchanged (a double click, within the same instant)
	// is 200: MySQL counts no row changed, which is not "no such task".
	if r := h.Do("PUT", path, upd, mk...); r.Status != 200 {
		t.Fatalf("the same update again: %d %s", r.Status, r.Body)
	}
	auditor := apptest.Auth(h.ConsoleLogin("auditor"))
	if r := h.Do("GET", path, nil, auditor...); r.Status != 200 || r.JSON()["task"].(map[string]any)["type"] != "share" {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	for i := 0; i < 2; i++ {
		h.Do("POST", "/api/v1/console/tasks", browseTask, mk...)
	}
	r = h.Do("GET", "/api/v1/console/tasks?limit=2", nil, auditor...)
	if r.Status != 200 || len(r.JSON()["tasks"].([]any)) != 2 || r.JSON()["next_cursor"] == nil {
		t.Fatalf("list page 1: %d %s", r.Status, r.Body)
	}
	next := int64(r.JSON()["next_cursor"].(float64))
	if r := h.Do("GET", fmt.Sprintf("/api/v1/console/tasks?limit=2&cursor=%d", next), nil, auditor...); r.Status != 200 || len(r.JSON()["tasks"].([]any)) != 1 || r.JSON()["next_cursor"] != nil {
		t.Fatalf("list page 2: %d %s", r.Status, r.Body)
	}
	// The auditor reads but never writes.
	if r := h.Do("POST", "/api/v1/console/tasks", browseTask, auditor...); r.Status != 403 {
		t.Fatalf("auditor create: %d", r.Status)
	}
	if r := h.Do("DELETE", path, nil, auditor...); r.Status != 403 {
		t.Fatalf("auditor delete: %d", r.Status)
	}
	if r := h.Do("DELETE", path, nil, mk...); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if r := h.Do(m, path, nil, mk...); r.Status != 404 {
			t.Fatalf("%s deleted: %d", m, r.Status)
		}
	}
	if r := h.Do("PUT", path, upd, mk...); r.Status != 404 {
		t.Fatalf("put deleted: %d", r.Status)
	}
	if r := h.Do("GET", "/api/v1/console/tasks/abc", nil, mk...); r.Status != 404 {
		t.Fatalf("bad id: %d", r.Status)
	}
	if n := count(t, h, "tasks"); n != 3 {
		t.Fatalf("%d task rows", n)
	}
}

func TestConsoleTaskValidation(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	mk := apptest.Auth(h.ConsoleLogin("admin"))
	cases := []struct {
		name, body string
		status     int
		fields     []string
	}{
		{"empty", `{}`, 400, []string{"type", "title", "period", "target", "reward_points"}},
		{"bad enums", `{"type":"dance","title":"x","period":"monthly","target":1,"reward_points":1,"status":"gone"}`, 400, []string{"type", "period", "status"}},
		{"browse without page and seconds", `{"type":"browse","title":"x","period":"once","target":1,"reward_points":1}`, 400, []string{"min_seconds", "page"}},
		{"seconds on share", `{"type":"share","title":"x","period":"once","target":1,"reward_points":1,"min_seconds":5}`, 400, []string{"min_seconds"}},
		{"profile target", `{"type":"profile_complete","title":"x","period":"once","target":2,"reward_points":1}`, 400, []string{"target"}},
		{"window reversed", `{"type":"share","title":"x","period":"once","target":1,"reward_points":1,"valid_from":"2026-12-02T00:00:00Z","valid_to":"2026-12-01T00:00:00Z"}`, 400, []string{"valid_to"}},
		{"bad time", `{"type":"share","title":"x","period":"once","target":1,"reward_points":1,"valid_from":"tomorrow"}`, 400, []string{"valid_from"}},
		{"huge reward", `{"type":"share","title":"x","period":"once","target":1,"reward_points":100000000}`, 400, []string{"reward_points"}},
		{"wrong type", `{"type":"share","title":"x","period":"once","target":"1","reward_points":1}`, 400, []string{"target"}},
		{"unknown field", `{"type":"share","title":"x","period":"once","target":1,"reward_points":1,"x":1}`, 400, []string{"x"}},
		{"malformed", `{"type":`, 400, nil},
		{"oversized", `{"title":"` + strings.Repeat("a", 1<<20) + `"}`, 413, nil},
	}
	for _, c := range cases {
		specAllows := map[string]bool{"browse without page and seconds": true, "seconds on share": true, "profile target": true,
			"window reversed": true, "huge reward": true}
		r := h.Send(specAllows[c.name], "POST", "/api/v1/console/tasks", c.body, mk...)
		if r.Status != c.status {
			t.Fatalf("%s: %d %s", c.name, r.Status, r.Body)
		}
		fields, _ := r.JSON()["error"].(map[string]any)["fields"].(map[string]any)
		for _, f := range c.fields {
			if _, ok := fields[f]; !ok {
				t.Errorf("%s: no error for field %s in %s", c.name, f, r.Body)
			}
		}
	}
	if r := h.Do("POST", "/api/v1/console/tasks", browseTask); r.Status != 401 {
		t.Fatalf("no token: %d", r.Status)
	}
	shopper, _, _ := h.Login(apptest.UniqueUser("ct"))
	if r := h.Do("POST", "/api/v1/console/tasks", browseTask, apptest.Auth(shopper)...); r.Status != 401 && r.Status != 403 {
		t.Fatalf("shopper token: %d", r.Status)
	}
	if r := h.Do("POST", "/api/v1/console/tasks", browseTask, "Authorization", "Bearer forged.jwt.token"); r.Status != 401 {
		t.Fatalf("forged token: %d", r.Status)
	}
	if n := count(t, h, "tasks"); n != 0 {
		t.Fatalf("%d task rows after refusals", n)
	}
}
