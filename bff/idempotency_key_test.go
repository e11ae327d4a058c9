package bff_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/ledger"
)

// An Idempotency-Key is stored with what it keys (a ledger entry, a
// redemption, a draw): one that is not UTF-8 is 400 naming the header and
// writes nothing — MySQL's utf8mb4 columns refused it, a 500 after the
// request had been worked.
func TestIdempotencyKeyMustBeUTF8(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	tok, _, me := h.Login(apptest.UniqueUser("idemkey"))
	if _, err := h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: me, Points: 5000, Key: "seed",
		Ref: ledger.Ref{Type: "seed", ID: "idemkey"}}); err != nil {
		t.Fatal(err)
	}
	task := h.Do("POST", "/api/v1/console/tasks", `{"type":"share","title":"分享","period":"daily","target":1,"reward_points":5}`, admin...)
	if task.Status != http.StatusCreated {
		t.Fatalf("task: %d %s", task.Status, task.Body)
	}
	taskID := int64(task.JSON()["task"].(map[string]any)["id"].(float64))
	if r := h.Do("POST", "/api/v1/shopper/events/share", `{}`, apptest.Auth(tok)...); r.Status != http.StatusOK {
		t.Fatalf("share: %d %s", r.Status, r.Body)
	}
	before, err := h.App.Ledger.Balance(context.Background(), me)
	if err != nil {
		t.Fatal(err)
	}
	const bad = "key-\xff\xfe"
	for _, c := range []struct {
		method, path string
		body         any
		auth         []string
	}{
		{"POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", me), `{"delta":5,"reason":"x"}`, admin},
		{"POST", "/api/v1/shopper/tier/upgrade", `{}`, apptest.Auth(tok)},
		{"POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/claim", taskID), nil, apptest.Auth(tok)},
	} {
		r := h.Do(c.method, c.path, c.body, append(c.auth, "Idempotency-Key", bad)...)
		if r.Status != http.StatusBadRequest || r.ErrorCode() != "INVALID" || r.Fields()["Idempotency-Key"] == nil {
			t.Fatalf("%s %s with a key that is not UTF-8: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	after, err := h.App.Ledger.Balance(context.Background(), me)
	if err != nil {
		t.Fatal(err)
	}
	if after.Available != before.Available {
		t.Fatalf("balance moved: %+v → %+v", before, after)
	}
}

// A write names its Idempotency-Key once: a request carrying the header
// twice (two keys a proxy may merge, or pick the other one of) is 400
// naming the header and writes nothing. The first key was used and the
// second forgotten, so a retry through a hop that kept the other one
// applied the write again.
func TestIdempotencyKeyGivenTwice(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	_, _, me := h.Login(apptest.UniqueUser("idemtwice"))
	adjust := fmt.Sprintf("/api/v1/console/members/%d/adjustments", me)
	for _, keys := range [][]string{{"twice-a", "twice-b"}, {"twice-c", "twice-c"}} {
		req := httptest.NewRequest("POST", adjust, strings.NewReader(`{"delta":5,"reason":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(admin[0], admin[1])
		for _, k := range keys {
			req.Header.Add("Idempotency-Key", k)
		}
		rec := httptest.NewRecorder()
		h.App.Handler.ServeHTTP(rec, req)
		var body struct {
			Error struct {
				Code   string            `json:"code"`
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusBadRequest ||
			body.Error.Code != "INVALID" || body.Error.Fields["Idempotency-Key"] == "" {
			t.Errorf("keys %q: %d %s; want 400 INVALID naming Idempotency-Key", keys, rec.Code, rec.Body)
		}
	}
	if bal, err := h.App.Ledger.Balance(context.Background(), me); err != nil || bal.Available != 0 {
		t.Fatalf("a write with two keys moved points: %+v %v", bal, err)
	}
	if r := h.Do("POST", adjust, `{"delta":5,"reason":"x"}`, append(admin, "Idempotency-Key", "once")...); r.Status != http.StatusCreated {
		t.Fatalf("one key: %d %s", r.Status, r.Body)
	}
}
