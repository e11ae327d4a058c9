package hooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/wechat/sim"
)

func createTask(t *testing.T, h *apptest.Harness, body string) int64 {
	t.Helper()
	r := h.Do("POST", "/api/v1/console/tasks", body, apptest.Auth(h.ConsoleLogin("admin"))...)
	if r.Status != http.StatusCreated {
		t.Fatalf("create task: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON()["task"].(map[string]any)["id"].(float64))
}

func state(t *testing.T, h *apptest.Harness, tok string, id int64) (string, int) {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/tasks", nil, apptest.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("tasks: %d %s", r.Status, r.Body)
	}
	for _, v := range r.JSON()["tasks"].([]any) {
		m := v.(map[string]any)
		if int64(m["id"].(float64)) == id {
			return m["state"].(string), int(m["progress"].(float64))
		}
	}
	t.Fatalf("task %d not listed", id)
	return "", 0
}

func rows(t *testing.T, h *apptest.Harness, table string) int64 {
	t.Helper()
	var n int64
	if err := h.Env.DB.Conn(context.Background()).Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func signed(secret, body string, at time.Time) []string {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + body))
	return []string{"X-Jifen-Timestamp", ts, "X-Jifen-Signature", hex.EncodeToString(mac.Sum(nil))}
}

func TestReviewHookCountsOncePerEvent(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createTask(t, h, `{"type":"review","title":"评价订单","period":"weekly","target":2,"reward_points":20}`)
	tok, _, mid := h.Login(apptest.UniqueUser("review"))
	secret := string(h.Config.Tasks.ReviewHookSecret)
	body := func(ev string, member int64) string {
		return fmt.Sprintf(`{"event_id":"%s","member_id":%d,"order_id":"o-1"}`, ev, member)
	}
	now := h.Clock.Now()
	b1 := body("ev-1", mid)
	bad := []struct {
		name, body string
		hdr        []string
		status     int
	}{
		{"unsigned", b1, nil, 401},
		{"wrong secret", b1, signed("not-the-secret-at-all", b1, now), 401},
		{"signature of another body", b1, signed(secret, body("ev-2", mid), now), 401},
		{"stale", b1, signed(secret, b1, now.Add(-6*time.Minute)), 401},
		{"future", b1, signed(secret, b1, now.Add(6*time.Minute)), 401},
		{"not hex", b1, []string{"X-Jifen-Timestamp", "1", "X-Jifen-Signature", "zz"}, 401},
		{"malformed", `{"event_id":`, signed(secret, `{"event_id":`, now), 400},
		{"wrong type", `{"event_id":"e","member_id":"1","order_id":"o"}`, signed(secret, `{"event_id":"e","member_id":"1","order_id":"o"}`, now), 400},
		{"missing fields", `{"event_id":""}`, signed(secret, `{"event_id":""}`, now), 400},
		{"unknown member", body("ev-x", 99999999), signed(secret, body("ev-x", 99999999), now), 404},
	}
	for _, c := range bad {
		specForbids := c.name == "malformed" || c.name == "wrong type" || c.name == "missing fields"
		if r := h.Send(!specForbids, "POST", "/api/v1/hooks/reviews", c.body, c.hdr...); r.Status != c.status {
			t.Fatalf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}
	if n := rows(t, h, "task_events") + rows(t, h, "task_progress"); n != 0 {
		t.Fatalf("%d rows written by refused hooks", n)
	}
	// Four minutes old is still inside the window.
	r := h.Do("POST", "/api/v1/hooks/reviews", b1, signed(secret, b1, now.Add(-4*time.Minute))...)
	if r.Status != 200 || r.JSON()["counted"] != true {
		t.Fatalf("review: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/hooks/reviews", b1, signed(secret, b1, now)...); r.Status != 200 || r.JSON()["counted"] != false {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	if s, p := state(t, h, tok, id); s != "in_progress" || p != 1 {
		t.Fatalf("after one review: %s %d", s, p)
	}
	b2 := body("ev-2", mid)
	h.Do("POST", "/api/v1/hooks/reviews", b2, signed(secret, b2, now)...)
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/claim", id), nil, apptest.Auth(tok)...); r.Status != 201 || r.JSON()["balance"].(float64) != 20 {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
}

// event_id and order_id are at most 64 characters, not bytes: a 40-character
// Chinese id counts. A body cut short by the network is 400, not 413; only
// a body past server.body_limit_bytes is BODY_TOO_LARGE.
func TestReviewHookIDsInCharactersAndReadErrors(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	createTask(t, h, `{"type":"review","title":"评价订单","period":"weekly","target":2,"reward_points":20}`)
	_, _, mid := h.Login(apptest.UniqueUser("review"))
	secret := string(h.Config.Tasks.ReviewHookSecret)
	now := h.Clock.Now()
	body := func(ev, order string) string {
		return fmt.Sprintf(`{"event_id":"%s","member_id":%d,"order_id":"%s"}`, ev, mid, order)
	}
	id40, id64, id65 := strings.Repeat("评", 40), strings.Repeat("é", 64), strings.Repeat("é", 65)
	for _, c := range []struct {
		name, ev, order string
		status          int
	}{
		{"40 Chinese characters", id40, id40, 200},
		{"64 accented characters", id64, id64, 200},
		{"65 characters of event_id", id65, "o-1", 400},
		{"65 characters of order_id", "ev-65", id65, 400},
	} {
		b := body(c.ev, c.order)
		r := h.Do("POST", "/api/v1/hooks/reviews", b, signed(secret, b, now)...)
		if r.Status != c.status || (c.status == 200 && r.JSON()["counted"] != true) {
			t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
		}
	}

	send := func(body io.Reader) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/hooks/reviews", body)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.App.Handler.ServeHTTP(rec, req)
		return rec
	}
	// io.MultiReader hides the length: the limit is hit while reading.
	big := io.MultiReader(strings.NewReader(strings.Repeat(" ", int(h.Config.Server.BodyLimitBytes)+1)))
	if rec := send(big); rec.Code != 413 || !strings.Contains(rec.Body.String(), "BODY_TOO_LARGE") {
		t.Errorf("oversized: %d %s", rec.Code, rec.Body)
	}
	cut := io.MultiReader(strings.NewReader(`{"event_id":`), iotest.ErrReader(errors.New("connection reset by peer")))
	if rec := send(cut); rec.Code != 400 || !strings.Contains(rec.Body.String(), `"INVALID"`) {
		t.Errorf("read error: %d %s, want 400 INVALID", rec.Code, rec.Body)
	}
}

func TestProfileCompleteTask(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createTask(t, h, `{"type":"profile_complete","title":"完善资料","period":"once","target":1,"reward_points":100}`)
	tok, _, mid := h.Login(apptest.UniqueUser("profile"))
	claim := fmt.Sprintf("/api/v1/shopper/tasks/%d/claim", id)
	if r := h.Do("POST", claim, nil, apptest.Auth(tok)...); r.Status != 422 {
		t.Fatalf("claim with empty profile: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": h.PhoneCode("13800001111")}, apptest.Auth(tok)...); r.Status != 200 {
		t.Fatalf("bind phone: %d %s", r.Status, r.Body)
	}
	if s, _ := state(t, h, tok, id); s != "todo" {
		t.Fatalf("phone only: %s", s)
	}
	if r := h.Do("POST", claim, nil, apptest.Auth(tok)...); r.Status != 422 {
		t.Fatalf("claim with phone only: %d %s", r.Status, r.Body)
	}
	if n := rows(t, h, "task_progress"); n != 0 {
		t.Fatalf("%d progress rows before the profile is complete", n)
	}
	// No API sets the birthday yet: the member store is the profile.
	if err := h.App.Members.Store.SetBirthday(context.Background(), mid, "1990-05-01"); err != nil {
		t.Fatal(err)
	}
	if s, _ := state(t, h, tok, id); s != "claimable" {
		t.Fatalf("complete profile: %s", s)
	}
	if r := h.Do("POST", claim, nil, apptest.Auth(tok)...); r.Status != 201 || r.JSON()["points"].(float64) != 100 {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", claim, nil, apptest.Auth(tok)...); r.Status != 409 {
		t.Fatalf("claim again: %d %s", r.Status, r.Body)
	}
	if s, _ := state(t, h, tok, id); s != "claimed" {
		t.Fatalf("after claim: %s", s)
	}
}

func TestOfficialAccountSubscribeCompletesFollowTask(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createTask(t, h, `{"type":"follow_official_account","title":"关注公众号","period":"once","target":1,"reward_points":30}`)
	user, follower := apptest.UniqueUser("oa"), apptest.UniqueUser("oa-plain")
	tok, _, _ := h.Login(user)
	tok2, _, _ := h.Login(follower)
	oa := h.Config.Tasks.OfficialAccount
	app := sim.OfficialAccountApp{AppID: h.Config.OfficialAccountAppID(), Token: string(oa.Token), AESKey: string(oa.AESKey)}
	const path = "/api/v1/hooks/wechat/official-account?"

	// The URL check echoes echostr; a bad signature is refused.
	q := app.VerifyURL("echo-42", h.Clock.Now())
	if r := h.Do("GET", path+q.Encode(), nil); r.Status != 200 || string(r.Body) != "echo-42" {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	q.Set("signature", "bad")
	if r := h.Do("GET", path+q.Encode(), nil); r.Status != 401 {
		t.Fatalf("verify bad signature: %d", r.Status)
	}

	// Forged pushes change nothing.
	enc, body, err := app.Push(app.Subscribe(user, h.Clock.Now()), h.Clock.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	forged := sim.OfficialAccountApp{AppID: h.Config.OfficialAccountAppID(), Token: "not-the-token", AESKey: string(oa.AESKey)}
	fq, fbody, _ := forged.Push(app.Subscribe(user, h.Clock.Now()), h.Clock.Now(), true)
	pq, pbody, _ := forged.Push(app.Subscribe(user, h.Clock.Now()), h.Clock.Now(), false)
	for i, c := range []struct {
		q      string
		body   []byte
		status int
	}{
		{fq.Encode(), fbody, 401},
		{pq.Encode(), pbody, 401},
		{"", body, 401},
		{enc.Encode(), []byte("<xml><Encrypt>"), 400},
		{enc.Encode(), []byte("<xml><Encrypt><![CDATA[bm90IGVuY3J5cHRlZA==]]></Encrypt></xml>"), 401},
	} {
		if r := h.Do("POST", path+c.q, c.body); r.Status != c.status {
			t.Fatalf("forged push %d: %d %s", i, r.Status, r.Body)
		}
	}
	if n := rows(t, h, "task_events") + rows(t, h, "task_progress"); n != 0 {
		t.Fatalf("%d rows written by forged pushes", n)
	}
	if s, _ := state(t, h, tok, id); s != "todo" {
		t.Fatalf("before subscribe: %s", s)
	}

	// Encrypted mode; a replay of the same push changes nothing.
	for i := 0; i < 2; i++ {
		if r := h.Do("POST", path+enc.Encode(), body); r.Status != 200 || string(r.Body) != "success" {
			t.Fatalf("encrypted push %d: %d %s", i, r.Status, r.Body)
		}
	}
	if n := rows(t, h, "task_events"); n != 1 {
		t.Fatalf("%d events after a replay, want 1", n)
	}
	if s, _ := state(t, h, tok, id); s != "claimable" {
		t.Fatalf("after subscribe: %s", s)
	}
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/claim", id), nil, apptest.Auth(tok)...); r.Status != 201 || r.JSON()["balance"].(float64) != 30 {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}

	// Another member; an unknown follower is ignored. (Plaintext pushes:
	// TestOfficialAccountRefusesPlaintextWhenEncrypted.)
	pq, pbody, _ = app.Push(app.Subscribe(follower, h.Clock.Now()), h.Clock.Now(), true)
	if r := h.Do("POST", path+pq.Encode(), pbody); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("second member's push: %d %s", r.Status, r.Body)
	}
	if s, _ := state(t, h, tok2, id); s != "claimable" {
		t.Fatalf("second member's subscribe: %s", s)
	}
	uq, ubody, _ := app.Push(app.Subscribe("never-logged-in", h.Clock.Now()), h.Clock.Now(), true)
	if r := h.Do("POST", path+uq.Encode(), ubody); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("unknown follower: %d %s", r.Status, r.Body)
	}
	if n := rows(t, h, "task_events"); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

// Every hook that reads its body says BODY_TOO_LARGE only past the body
// limit: a connection cut short is a 400, not a body "too large".
func TestHooksReportABrokenBodyAsInvalid(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	for _, path := range []string{"/api/v1/hooks/reviews", "/api/v1/hooks/orders", "/api/v1/hooks/wecom", "/api/v1/hooks/wechat/official-account"} {
		send := func(body io.Reader) *httptest.ResponseRecorder {
			req := httptest.NewRequest("POST", path, body)
			rec := httptest.NewRecorder()
			h.App.Handler.ServeHTTP(rec, req)
			return rec
		}
		big := io.MultiReader(strings.NewReader(strings.Repeat(" ", int(h.Config.Server.BodyLimitBytes)+1)))
		if rec := send(big); rec.Code != 413 || !strings.Contains(rec.Body.String(), "BODY_TOO_LARGE") {
			t.Errorf("%s oversized: %d %s", path, rec.Code, rec.Body)
		}
		cut := io.MultiReader(strings.NewReader(`<xml>`), iotest.ErrReader(errors.New("connection reset by peer")))
		if rec := send(cut); rec.Code != 400 || !strings.Contains(rec.Body.String(), `"INVALID"`) {
			t.Errorf("%s read error: %d %s, want 400 INVALID", path, rec.Code, rec.Body)
		}
	}
}
