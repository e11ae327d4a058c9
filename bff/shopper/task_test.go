package shopper_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

func createTask(t *testing.T, h *apptest.Harness, body string) int64 {
	t.Helper()
	r := h.Do("POST", "/api/v1/console/tasks", body, apptest.Auth(h.ConsoleLogin("marketer"))...)
	if r.Status != http.StatusCreated {
		t.Fatalf("create task: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON()["task"].(map[string]any)["id"].(float64))
}

type taskView struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	PeriodKey string `json:"period_key"`
	Progress  int    `json:"progress"`
	State     string `json:"state"`
}

func tasksOf(t *testing.T, h *apptest.Harness, tok string) map[int64]taskView {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/tasks", nil, apptest.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("tasks: %d %s", r.Status, r.Body)
	}
	var out struct{ Tasks []taskView }
	r.Decode(t, &out)
	m := map[int64]taskView{}
	for _, v := range out.Tasks {
		m[v.ID] = v
	}
	return m
}

func startBrowse(t *testing.T, h *apptest.Harness, tok string, id int64) string {
	t.Helper()
	r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/start", id), nil, apptest.Auth(tok)...)
	if r.Status != http.StatusCreated {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	return r.JSON()["token"].(string)
}

func TestTaskBrowseTokenAndDailyClaim(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createTask(t, h, `{"type":"browse","title":"逛新品","period":"daily","target":2,"reward_points":15,"min_seconds":15,"page":"/pages/new"}`)
	user := apptest.UniqueUser("browse")
	tok, _, _ := h.Login(user)
	other, _, _ := h.Login(apptest.UniqueUser("browse-other"))
	au := apptest.Auth(tok)
	progress := fmt.Sprintf("/api/v1/shopper/tasks/%d/progress", id)
	claim := fmt.Sprintf("/api/v1/shopper/tasks/%d/claim", id)

	if v := tasksOf(t, h, tok)[id]; v.State != "todo" || v.PeriodKey != "d20261123" {
		t.Fatalf("before: %+v", v)
	}
	if r := h.Do("POST", claim, nil, au...); r.Status != 422 || r.ErrorCode() != "RULE_VIOLATION" {
		t.Fatalf("claim unfinished: %d %s", r.Status, r.Body)
	}
	token := startBrowse(t, h, tok, id)
	body := map[string]string{"token": token}
	if r := h.Do("POST", progress, body, au...); r.Status != 422 {
		t.Fatalf("progress at once: %d %s", r.Status, r.Body)
	}
	h.Clock.Advance(14 * time.Second)
	if r := h.Do("POST", progress, body, au...); r.Status != 422 {
		t.Fatalf("progress after 14s: %d %s", r.Status, r.Body)
	}
	// Bad tokens: forged MAC, garbage, another member's, another task's.
	forged := token[:len(token)-2] + "AA"
	if token[len(token)-2:] == "AA" {
		forged = token[:len(token)-2] + "BB"
	}
	otherTask := createTask(t, h, `{"type":"browse","title":"逛会员页","period":"once","target":1,"reward_points":5,"min_seconds":5,"page":"/pages/vip"}`)
	bad := []struct {
		path, body string
		auth       []string
		status     int
	}{
		{progress, `{"token":"` + forged + `"}`, au, 400},
		{progress, `{"token":"not-a-token"}`, au, 400},
		{progress, `{"token":""}`, au, 400},
		{progress, `{"token":1}`, au, 400},
		{progress, `{"token":"x","extra":1}`, au, 400},
		{progress, `{"token":`, au, 400},
		{progress, `{"token":"` + strings.Repeat("a", 1<<20) + `"}`, au, 413},
		{progress, `{"token":"` + token + `"}`, apptest.Auth(other), 400},
		{fmt.Sprintf("/api/v1/shopper/tasks/%d/progress", otherTask), `{"token":"` + token + `"}`, au, 400},
		{progress, `{"token":"` + token + `"}`, nil, 401},
		{progress, `{"token":"` + token + `"}`, []string{"Authorization", "Bearer forged"}, 401},
		{"/api/v1/shopper/tasks/999999/progress", `{"token":"` + token + `"}`, au, 404},
	}
	h.Clock.Advance(time.Second)
	for i, b := range bad {
		specForbids := b.body == `{"token":1}` || b.body == `{"token":"x","extra":1}` || b.body == `{"token":`
		if r := h.Send(!specForbids, "POST", b.path, b.body, b.auth...); r.Status != b.status {
			t.Fatalf("bad %d: %d %s", i, r.Status, r.Body)
		}
	}
	if n := countRows(t, h, "task_events") + countRows(t, h, "task_progress"); n != 0 {
		t.Fatalf("%d rows written by refused requests", n)
	}
	r := h.Do("POST", progress, body, au...)
	if r.Status != 200 || r.JSON()["task"].(map[string]any)["state"] != "in_progress" {
		t.Fatalf("progress after 15s: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", progress, body, au...); r.Status != 409 {
		t.Fatalf("reused token: %d %s", r.Status, r.Body)
	}
	second := startBrowse(t, h, tok, id)
	h.Clock.Advance(20 * time.Second)
	if r := h.Do("POST", progress, map[string]string{"token": second}, au...); r.Status != 200 || r.JSON()["task"].(map[string]any)["state"] != "claimable" {
		t.Fatalf("second step: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/start", id), nil, au...); r.Status != 422 {
		t.Fatalf("start a done task: %d", r.Status)
	}
	if r := h.Do("POST", claim, nil, apptest.Auth(other)...); r.Status != 422 {
		t.Fatalf("other member claims: %d", r.Status)
	}
	r = h.Do("POST", claim, nil, append(au, "Idempotency-Key", "c1")...)
	if r.Status != 201 || r.JSON()["points"].(float64) != 15 || r.JSON()["balance"].(float64) != 15 {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", claim, nil, append(au, "Idempotency-Key", "c1")...); r.Status != 200 || r.Header.Get("Idempotent-Replayed") != "true" || r.JSON()["balance"].(float64) != 15 {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	for _, hdr := range [][]string{nil, {"Idempotency-Key", "c2"}} {
		if r := h.Do("POST", claim, nil, append(au, hdr...)...); r.Status != 409 {
			t.Fatalf("double claim %v: %d %s", hdr, r.Status, r.Body)
		}
	}
	for _, p := range []string{"/api/v1/shopper/tasks/999999/claim", "/api/v1/shopper/tasks/abc/claim", "/api/v1/shopper/tasks/-1/claim"} {
		if r := h.Do("POST", p, nil, au...); r.Status != 404 {
			t.Fatalf("%s: %d", p, r.Status)
		}
	}
	if b := available(t, h, tok); b != 15 {
		t.Fatalf("balance %d, want 15", b)
	}
	if v := tasksOf(t, h, tok)[id]; v.State != "claimed" || v.Progress != 2 {
		t.Fatalf("after claim: %+v", v)
	}
	// A token started before midnight belongs to that day's period.
	h.Clock.Set(time.Date(2026, 11, 23, 23, 59, 50, 0, apptest.Start.Location()))
	tok, _, _ = h.Login(user)
	au = apptest.Auth(tok)
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/start", id), nil, au...); r.Status != 422 {
		t.Fatalf("start a claimed task: %d", r.Status)
	}
	h.Clock.Advance(10 * time.Second)
	if v := tasksOf(t, h, tok)[id]; v.State != "todo" || v.PeriodKey != "d20261124" {
		t.Fatalf("next day: %+v", v)
	}
}

func TestTaskPeriodsOnceDailyWeekly(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	once := createTask(t, h, `{"type":"share","title":"首次分享","period":"once","target":1,"reward_points":50}`)
	daily := createTask(t, h, `{"type":"share","title":"每日分享","period":"daily","target":1,"reward_points":5}`)
	weekly := createTask(t, h, `{"type":"share","title":"每周分享3次","period":"weekly","target":3,"reward_points":30}`)
	createTask(t, h, `{"type":"share","title":"已暂停","period":"daily","target":1,"reward_points":5,"status":"paused"}`)
	createTask(t, h, `{"type":"share","title":"未开始","period":"daily","target":1,"reward_points":5,"valid_from":"2027-01-01T00:00:00+08:00"}`)
	user := apptest.UniqueUser("periods")
	tok, _, _ := h.Login(user)
	share := func() {
		t.Helper()
		if r := h.Do("POST", "/api/v1/shopper/events/share", `{"page":"/pages/home"}`, apptest.Auth(tok)...); r.Status != 200 {
			t.Fatalf("share: %d %s", r.Status, r.Body)
		}
	}
	claim := func(id int64, want int) {
		t.Helper()
		if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/claim", id), nil, apptest.Auth(tok)...); r.Status != want {
			t.Fatalf("claim %d on %s: %d %s", id, h.Clock.Now().Format(time.DateOnly), r.Status, r.Body)
		}
	}
	if got := tasksOf(t, h, tok); len(got) != 3 {
		t.Fatalf("live tasks %+v, want 3 (paused and future hidden)", got)
	}
	share()
	share()
	claim(once, 201)
	claim(daily, 201)
	claim(weekly, 422)
	if v := tasksOf(t, h, tok)[weekly]; v.Progress != 2 || v.State != "in_progress" || v.PeriodKey != "w2026-48" {
		t.Fatalf("weekly: %+v", v)
	}
	// Sunday of the same ISO week: the daily task is new, the weekly one continues.
	h.Clock.Set(time.Date(2026, 11, 29, 22, 0, 0, 0, apptest.Start.Location()))
	tok, _, _ = h.Login(user)
	share()
	claim(daily, 201)
	claim(weekly, 201)
	claim(weekly, 409)
	claim(once, 409)
	// Monday: a new week.
	h.Clock.Set(time.Date(2026, 11, 30, 9, 0, 0, 0, apptest.Start.Location()))
	tok, _, _ = h.Login(user)
	got := tasksOf(t, h, tok)
	if got[weekly].State != "todo" || got[weekly].PeriodKey != "w2026-49" || got[daily].State != "todo" || got[once].State != "claimed" {
		t.Fatalf("new week: %+v", got)
	}
	claim(once, 409)
	if b := available(t, h, tok); b != 50+5+5+30 {
		t.Fatalf("balance %d, want 90", b)
	}
	for _, bad := range []string{`{"page":1}`, `{"x":1}`, `[`, ``} {
		if r := h.DoInvalid("POST", "/api/v1/shopper/events/share", bad, apptest.Auth(tok)...); r.Status != 400 {
			t.Fatalf("share %q: %d", bad, r.Status)
		}
	}
	if r := h.Do("POST", "/api/v1/shopper/events/share", `{}`); r.Status != 401 {
		t.Fatalf("share without token: %d", r.Status)
	}
	if v := tasksOf(t, h, tok)[weekly]; v.Progress != 0 {
		t.Fatalf("refused shares counted: %+v", v)
	}
}

// A claim retried after midnight with its Idempotency-Key answers the
// claim it repeats (200, replayed), not the new day's state: it used to
// look for the key only in the current period, so the retry of a claim
// paid at 23:59:59 was told 422 "not finished" — or, with today's task
// done, paid today's reward under yesterday's key. Today's claim, with a
// key of its own, still pays.
func TestTaskClaimRetriedAfterMidnightReplays(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createTask(t, h, `{"type":"share","title":"每日分享","period":"daily","target":1,"reward_points":5}`)
	user := apptest.UniqueUser("claimmidnight")
	h.Clock.Set(time.Date(2026, 11, 23, 23, 59, 55, 0, apptest.Start.Location()))
	tok, _, _ := h.Login(user)
	share := func() {
		t.Helper()
		if r := h.Do("POST", "/api/v1/shopper/events/share", `{"page":"/pages/home"}`, apptest.Auth(tok)...); r.Status != 200 {
			t.Fatalf("share: %d %s", r.Status, r.Body)
		}
	}
	claim := func(key string) *apptest.Response {
		return h.Do("POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/claim", id), nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
	}
	share()
	first := claim("claim-1123")
	if first.Status != http.StatusCreated {
		t.Fatalf("claim: %d %s", first.Status, first.Body)
	}
	h.Clock.Advance(10 * time.Second) // 24 November
	r := claim("claim-1123")
	if r.Status != http.StatusOK || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after midnight: %d %s", r.Status, r.Body)
	}
	if got := r.JSON()["points"]; got != 5.0 {
		t.Fatalf("retry answered points %v", got)
	}
	share()
	if r := claim("claim-1123"); r.Status != http.StatusOK || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after midnight with today's task done: %d %s", r.Status, r.Body)
	}
	if r := claim("claim-1124"); r.Status != http.StatusCreated {
		t.Fatalf("today's claim: %d %s", r.Status, r.Body)
	}
	if b := available(t, h, tok); b != 10 {
		t.Fatalf("balance %d, want 10", b)
	}

	// A task that ends at midnight: the retry of its last claim replays too.
	ends := time.Date(2026, 11, 25, 0, 0, 0, 0, apptest.Start.Location())
	last := createTask(t, h, fmt.Sprintf(`{"type":"share","title":"限时分享","period":"daily","target":1,"reward_points":7,"valid_to":%q}`, ends.Format(time.RFC3339)))
	h.Clock.Set(ends.Add(-5 * time.Second))
	tok, _, _ = h.Login(user)
	share()
	claimLast := func(key string) *apptest.Response {
		return h.Do("POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/claim", last), nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
	}
	if r := claimLast("last-1"); r.Status != http.StatusCreated {
		t.Fatalf("last claim: %d %s", r.Status, r.Body)
	}
	h.Clock.Advance(10 * time.Second)
	if r := claimLast("last-1"); r.Status != http.StatusOK || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after the task ended: %d %s", r.Status, r.Body)
	}
	if r := claimLast("last-2"); r.Status != http.StatusNotFound {
		t.Fatalf("a new claim after the task ended: %d %s", r.Status, r.Body)
	}
}
