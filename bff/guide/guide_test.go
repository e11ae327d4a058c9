package guide_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/wechat/sim"
)

// world is a harness with one store and two guides, A and B.
type world struct {
	h          *apptest.Harness
	admin      string
	store      int64
	a, b       guideInfo
	aTok, bTok string
}

type guideInfo struct {
	ID     int64  `json:"id"`
	UserID string `json:"userid"`
	Code   string `json:"code"`
	Scene  string `json:"scene"`
}

func setup(t *testing.T, budget int64, mutate ...func(*configs.Config)) *world {
	t.Helper()
	h := apptest.New(t, mutate...)
	w := &world{h: h, admin: h.ConsoleLogin("admin")}
	r := h.Do("POST", "/api/v1/console/stores", `{"name":"静安店","robot_key":"robot-jingan"}`, apptest.Auth(w.admin)...)
	if r.Status != 201 {
		t.Fatalf("create store: %d %s", r.Status, r.Body)
	}
	w.store = int64(r.JSON()["store"].(map[string]any)["id"].(float64))
	w.a = w.createGuide(apptest.UniqueUser("ga"), budget)
	w.b = w.createGuide(apptest.UniqueUser("gb"), budget)
	w.aTok, w.bTok = w.login(w.a.UserID), w.login(w.b.UserID)
	return w
}

func (w *world) createGuide(userID string, budget int64) guideInfo {
	w.h.T.Helper()
	body := fmt.Sprintf(`{"userid":%q,"name":"导购","store_id":%d,"monthly_budget":%d}`, userID, w.store, budget)
	r := w.h.Do("POST", "/api/v1/console/guides", body, apptest.Auth(w.admin)...)
	if r.Status != 201 {
		w.h.T.Fatalf("create guide: %d %s", r.Status, r.Body)
	}
	var out struct{ Guide guideInfo }
	r.Decode(w.h.T, &out)
	return out.Guide
}

// nonce makes each login code unique; parallel tests log in at once.
var nonce atomic.Int64

func (w *world) loginResp(userID string) *apptest.Response {
	return w.h.Do("POST", "/api/v1/guide/login", fmt.Sprintf(`{"code":"sim-wecom:%s:%d-%d"}`, userID, time.Now().UnixNano(), nonce.Add(1)))
}

func (w *world) login(userID string) string {
	w.h.T.Helper()
	r := w.loginResp(userID)
	if r.Status != 200 {
		w.h.T.Fatalf("guide login %s: %d %s", userID, r.Status, r.Body)
	}
	return r.JSON()["access_token"].(string)
}

// shopper logs a new WeChat user in with a scene and returns the member id.
func (w *world) shopper(user, scene string) int64 {
	w.h.T.Helper()
	r := w.h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": w.h.Code(user), "scene": scene})
	if r.Status != 200 {
		w.h.T.Fatalf("shopper login: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON()["member"].(map[string]any)["id"].(float64))
}

func (w *world) callbackApp() sim.CallbackApp {
	c := w.h.Config.WeChat.Work
	return sim.CallbackApp{CorpID: c.CorpID, AgentID: fmt.Sprint(c.AgentID), Token: string(c.CallbackToken), AESKey: string(c.CallbackAESKey)}
}

// addContact builds WeCom's add_external_contact callback: guide added the
// WeChat user.
func (w *world) addContact(guideUserID, user string) (string, []byte) {
	w.h.T.Helper()
	app := w.callbackApp()
	ev := sim.ExternalContactAdded{UserID: guideUserID, ExternalUserID: sim.ExternalUserID(user), Time: w.h.Clock.Now()}
	q, body, err := app.Callback(ev.XML(app.CorpID), w.h.Clock.Now())
	if err != nil {
		w.h.T.Fatal(err)
	}
	return "/api/v1/hooks/wecom?" + q.Encode(), body
}

func count(t *testing.T, h *apptest.Harness, table string) int64 {
	t.Helper()
	var n int64
	if err := h.Env.DB.Conn(context.Background()).Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGuideLoginAndAuth(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000)
	h := w.h
	if r := w.loginResp(apptest.UniqueUser("stranger")); r.Status != 403 {
		t.Fatalf("unknown userid: %d %s", r.Status, r.Body)
	}
	code := fmt.Sprintf("sim-wecom:%s:once", w.a.UserID)
	if r := h.Do("POST", "/api/v1/guide/login", fmt.Sprintf(`{"code":%q}`, code)); r.Status != 200 {
		t.Fatalf("first use: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/guide/login", fmt.Sprintf(`{"code":%q}`, code)); r.Status != 400 || r.ErrorCode() != "INVALID_CODE" {
		t.Fatalf("code used twice: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct{ name, body string }{
		{"malformed", `{"code":`}, {"wrong type", `{"code":5}`}, {"unknown field", `{"code":"x","userid":"a"}`},
		{"empty", `{"code":""}`}, {"bad code", `{"code":"nonsense"}`}, {"oversized", `{"code":"` + strings.Repeat("x", 2<<20) + `"}`},
	} {
		specAllows := tc.name == "empty" || tc.name == "bad code" || tc.name == "oversized"
		if r := h.Send(specAllows, "POST", "/api/v1/guide/login", tc.body); r.Status < 400 || r.Status > 413 || r.ErrorCode() == "" {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
	shopperTok, _, _ := h.Login(apptest.UniqueUser("s"))
	for name, hdr := range map[string][]string{
		"none": nil, "shopper": apptest.Auth(shopperTok), "console": apptest.Auth(w.admin), "forged": apptest.Auth(w.aTok + "x"),
	} {
		if r := h.Do("GET", "/api/v1/guide/me", nil, hdr...); r.Status != 401 {
			t.Errorf("%s token on /guide/me: %d %s", name, r.Status, r.Body)
		}
	}
	if r := h.Do("GET", "/api/v1/guide/me", nil, apptest.Auth(w.aTok)...); r.Status != 200 {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	// A guide token is no console token either.
	if r := h.Do("GET", "/api/v1/console/guides", nil, apptest.Auth(w.aTok)...); r.Status != 401 {
		t.Fatalf("guide token on console: %d", r.Status)
	}
	if r := h.Do("PATCH", fmt.Sprintf("/api/v1/console/guides/%d", w.a.ID), `{"status":"disabled"}`, apptest.Auth(h.ConsoleLogin("auditor"))...); r.Status != 403 {
		t.Fatalf("auditor disables: %d", r.Status)
	}
	if r := h.DoInvalid("PATCH", fmt.Sprintf("/api/v1/console/guides/%d", w.a.ID), `{"status":"gone"}`, apptest.Auth(w.admin)...); r.Status != 400 {
		t.Fatalf("bad status: %d", r.Status)
	}
	if r := h.Do("PATCH", fmt.Sprintf("/api/v1/console/guides/%d", w.a.ID), `{"status":"disabled"}`, apptest.Auth(w.admin)...); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	if r := w.loginResp(w.a.UserID); r.Status != 403 {
		t.Fatalf("disabled guide login: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/guide/me", nil, apptest.Auth(w.aTok)...); r.Status != 403 {
		t.Fatalf("disabled guide's old token: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/console/guides", fmt.Sprintf(`{"userid":%q,"name":"x","store_id":%d,"monthly_budget":1}`, w.b.UserID, w.store), apptest.Auth(w.admin)...); r.Status != 409 {
		t.Fatalf("duplicate userid: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/console/guides", `{"userid":"new1","name":"x","store_id":999,"monthly_budget":1}`, apptest.Auth(w.admin)...); r.Status != 400 {
		t.Fatalf("unknown store: %d %s", r.Status, r.Body)
	}
}

func TestBindingByBothPathsAndOwnCustomersOnly(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000)
	h := w.h
	m1 := w.shopper(apptest.UniqueUser("m"), w.a.Scene)
	userB := apptest.UniqueUser("m")
	m2 := w.shopper(userB, "")
	path, body := w.addContact(w.b.UserID, userB)

	// A forged or broken callback changes nothing.
	bad := strings.Replace(path, "msg_signature=", "msg_signature=0", 1)
	if r := h.Do("POST", bad, body); r.Status != 401 {
		t.Fatalf("bad signature: %d %s", r.Status, r.Body)
	}
	for name, b := range map[string]string{"not xml": "{", "no Encrypt": "<xml></xml>", "garbage": "<xml><Encrypt>!!</Encrypt></xml>"} {
		if r := h.Send(name != "not xml", "POST", path, b); r.Status != 400 && r.Status != 401 {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if n := count(t, h, "guide_customers"); n != 1 {
		t.Fatalf("bindings after bad callbacks: %d, want 1 (the scene)", n)
	}

	for i := 0; i < 2; i++ { // the second is a replay
		if r := h.Do("POST", path, body); r.Status != 200 || string(r.Body) != "success" {
			t.Fatalf("callback %d: %d %s", i, r.Status, r.Body)
		}
	}
	if n := count(t, h, "wecom_callbacks"); n != 1 {
		t.Fatalf("callbacks recorded: %d", n)
	}
	// First guide wins: A adding B's customer changes nothing.
	pathA, bodyA := w.addContact(w.a.UserID, userB)
	if r := h.Do("POST", pathA, bodyA); r.Status != 200 {
		t.Fatalf("callback A: %d %s", r.Status, r.Body)
	}

	list := func(tok string) []map[string]any {
		r := h.Do("GET", "/api/v1/guide/customers", nil, apptest.Auth(tok)...)
		if r.Status != 200 {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		var out []map[string]any
		for _, c := range r.JSON()["customers"].([]any) {
			out = append(out, c.(map[string]any))
		}
		return out
	}
	if cs := list(w.aTok); len(cs) != 1 || int64(cs[0]["member_id"].(float64)) != m1 || cs[0]["source"] != "scene" || cs[0]["tier"] != "normal" {
		t.Fatalf("A's customers: %v", cs)
	}
	if cs := list(w.bTok); len(cs) != 1 || int64(cs[0]["member_id"].(float64)) != m2 || cs[0]["source"] != "wecom" {
		t.Fatalf("B's customers: %v", cs)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/guide/customers/%d", m2), nil, apptest.Auth(w.aTok)...); r.Status != 404 {
		t.Fatalf("A reads B's customer: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/guide/customers/%d", m1), nil, apptest.Auth(w.aTok)...); r.Status != 200 {
		t.Fatalf("A reads own customer: %d %s", r.Status, r.Body)
	}

	// The URL check answers the decrypted echostr; a bad signature is refused.
	q, err := w.callbackApp().VerifyURL("echo-123", h.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := h.Do("GET", "/api/v1/hooks/wecom?"+q.Encode(), nil); r.Status != 200 || string(r.Body) != "echo-123" {
		t.Fatalf("verify URL: %d %s", r.Status, r.Body)
	}
	q.Set("msg_signature", "bad")
	if r := h.Do("GET", "/api/v1/hooks/wecom?"+q.Encode(), nil); r.Status != 401 {
		t.Fatalf("verify URL with bad signature: %d %s", r.Status, r.Body)
	}
}

func TestRebindLastWins(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000, func(c *configs.Config) { c.Guides.Rebind = "last" })
	user := apptest.UniqueUser("m")
	m := w.shopper(user, w.a.Scene)
	path, body := w.addContact(w.b.UserID, user)
	if r := w.h.Do("POST", path, body); r.Status != 200 {
		t.Fatalf("callback: %d %s", r.Status, r.Body)
	}
	if r := w.h.Do("GET", fmt.Sprintf("/api/v1/guide/customers/%d", m), nil, apptest.Auth(w.bTok)...); r.Status != 200 {
		t.Fatalf("B after taking over: %d %s", r.Status, r.Body)
	}
}

func grant(w *world, tok, key, body string) *apptest.Response {
	return sendGrant(w, true, tok, key, body)
}

func sendGrant(w *world, specValid bool, tok, key, body string) *apptest.Response {
	hdr := apptest.Auth(tok)
	if key != "" {
		hdr = append(hdr, "Idempotency-Key", key)
	}
	return w.h.Send(specValid, "POST", "/api/v1/guide/grants", body, hdr...)
}

func TestGrantsBadInputAndAudit(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000)
	h := w.h
	m := w.shopper(apptest.UniqueUser("m"), w.a.Scene)
	stranger := w.shopper(apptest.UniqueUser("s"), w.b.Scene)
	ok := fmt.Sprintf(`{"member_id":%d,"points":100,"reason":"到店体验"}`, m)
	cases := []struct {
		name, key, body string
		want            int
	}{
		{"zero", "k", fmt.Sprintf(`{"member_id":%d,"points":0,"reason":"x"}`, m), 400},
		{"negative", "k", fmt.Sprintf(`{"member_id":%d,"points":-5,"reason":"x"}`, m), 400},
		{"no reason", "k", fmt.Sprintf(`{"member_id":%d,"points":5}`, m), 400},
		{"blank reason", "k", fmt.Sprintf(`{"member_id":%d,"points":5,"reason":"  "}`, m), 400},
		{"no points", "k", fmt.Sprintf(`{"member_id":%d,"reason":"x"}`, m), 400},
		{"wrong type", "k", fmt.Sprintf(`{"member_id":%d,"points":"5","reason":"x"}`, m), 400},
		{"malformed", "k", `{"member_id":`, 400},
		{"unknown field", "k", fmt.Sprintf(`{"member_id":%d,"points":5,"reason":"x","operator":"me"}`, m), 400},
		{"no key", "", ok, 400},
		{"stranger", "k", fmt.Sprintf(`{"member_id":%d,"points":5,"reason":"x"}`, stranger), 404},
		{"no such member", "k", `{"member_id":99999999,"points":5,"reason":"x"}`, 404},
		{"over budget", "k", fmt.Sprintf(`{"member_id":%d,"points":1001,"reason":"x"}`, m), 422},
		{"over daily cap", "k", fmt.Sprintf(`{"member_id":%d,"points":501,"reason":"x"}`, m), 422},
	}
	for _, tc := range cases {
		if r := sendGrant(w, tc.want != 400 || tc.name == "blank reason", w.aTok, tc.key, tc.body); r.Status != tc.want || r.ErrorCode() == "" {
			t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.want)
		}
	}
	if r := grant(w, w.bTok, "k", ok); r.Status != 404 {
		t.Fatalf("B grants to A's customer: %d", r.Status)
	}
	if r := grant(w, h.ConsoleLogin("admin"), "k", ok); r.Status != 401 {
		t.Fatalf("console token grants: %d", r.Status)
	}
	var grantAudits int64 // the world's store and guide were audited when made; grants audit as points.adjust
	if err := h.Env.DB.Conn(context.Background()).Table("audit_log").Where("action = ?", "points.adjust").Count(&grantAudits).Error; err != nil {
		t.Fatal(err)
	}
	if n := count(t, h, "guide_grants") + count(t, h, "ledger_entries") + grantAudits; n != 0 {
		t.Fatalf("refused grants wrote %d rows", n)
	}

	r := grant(w, w.aTok, "g1", ok)
	if r.Status != 201 {
		t.Fatalf("grant: %d %s", r.Status, r.Body)
	}
	first := r.JSON()["grant"].(map[string]any)
	if again := grant(w, w.aTok, "g1", ok); again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" ||
		again.JSON()["grant"].(map[string]any)["id"] != first["id"] {
		t.Fatalf("replay: %d %s", again.Status, again.Body)
	}
	if r := grant(w, w.aTok, "g1", strings.Replace(ok, "100", "101", 1)); r.Status != 409 {
		t.Fatalf("same key, other grant: %d %s", r.Status, r.Body)
	}
	if r := grant(w, w.aTok, "g2", fmt.Sprintf(`{"member_id":%d,"points":401,"reason":"x"}`, m)); r.Status != 422 {
		t.Fatalf("daily cap with 100 granted: %d %s", r.Status, r.Body)
	}

	auditor := h.ConsoleLogin("auditor")
	ar := h.Do("GET", fmt.Sprintf("/api/v1/console/audit?target=member:%d", m), nil, apptest.Auth(auditor)...)
	entries := ar.JSON()["entries"].([]any)
	if ar.Status != 200 || len(entries) != 1 {
		t.Fatalf("audit: %d %s", ar.Status, ar.Body)
	}
	if e := entries[0].(map[string]any); e["actor"] != w.a.UserID || e["actor_role"] != "guide" || e["action"] != "points.adjust" {
		t.Fatalf("audit entry %v", e)
	}
	lr := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/ledger", m), nil, apptest.Auth(auditor)...)
	if e := lr.JSON()["entries"].([]any)[0].(map[string]any); e["operator"] != "guide:"+w.a.UserID || e["delta"].(float64) != 100 {
		t.Fatalf("ledger entry %v", e)
	}
	me := h.Do("GET", "/api/v1/guide/me", nil, apptest.Auth(w.aTok)...)
	budget := me.JSON()["budget"].(map[string]any)
	if budget["used"].(float64) != 100 || budget["left"].(float64) != 900 || budget["month"] != "2026-11" || len(me.JSON()["grants"].([]any)) != 1 {
		t.Fatalf("me: %s", me.Body)
	}
	// A new month brings a fresh budget.
	h.Clock.Set(time.Date(2026, 12, 1, 0, 0, 1, 0, apptest.Start.Location()))
	me = h.Do("GET", "/api/v1/guide/me", nil, apptest.Auth(w.login(w.a.UserID))...)
	if b := me.JSON()["budget"].(map[string]any); b["used"].(float64) != 0 || b["month"] != "2026-12" {
		t.Fatalf("me next month: %s", me.Body)
	}
}

func TestConcurrentGrantsNeverOverspendBudget(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000, func(c *configs.Config) { c.Guides.DailyCapPerCustomer = 0 })
	var members []int64
	for i := 0; i < 5; i++ {
		members = append(members, w.shopper(apptest.UniqueUser("m"), w.a.Scene))
	}
	const n, each = 50, 30
	var mu sync.Mutex
	status := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := grant(w, w.aTok, fmt.Sprintf("c%d", i), fmt.Sprintf(`{"member_id":%d,"points":%d,"reason":"活动"}`, members[i%len(members)], each))
			mu.Lock()
			status[r.Status]++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if status[201] != 1000/each || status[422] != n-1000/each {
		t.Fatalf("statuses %v, want %d×201 and %d×422", status, 1000/each, n-1000/each)
	}
	var total int64
	for _, m := range members {
		bal, err := w.h.App.Ledger.Balance(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		total += bal.Available
		if v, err := w.h.App.Ledger.Check(context.Background(), m); err != nil || len(v) != 0 {
			t.Fatalf("ledger invariants of %d: %v %v", m, v, err)
		}
	}
	if total != int64(status[201]*each) || total > 1000 {
		t.Fatalf("granted %d points in the ledger, %d grants", total, status[201])
	}
	if g := count(t, w.h, "guide_grants"); g != int64(status[201]) {
		t.Fatalf("%d grant rows", g)
	}
}

func TestPushAndCustomersExpiring(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000)
	h := w.h
	ctx := context.Background()
	userX, userY := apptest.UniqueUser("x"), apptest.UniqueUser("y")
	x, y := w.shopper(userX, ""), w.shopper(userY, "")
	for _, u := range []string{userX, userY} {
		path, body := w.addContact(w.a.UserID, u)
		if r := h.Do("POST", path, body); r.Status != 200 {
			t.Fatalf("callback: %d %s", r.Status, r.Body)
		}
	}
	// x has 1500 points expiring in 3 days, y 200 in 60 days.
	now := h.Clock.Now()
	for _, e := range []struct {
		m   int64
		pts int64
		in  time.Duration
	}{{x, 1500, 72 * time.Hour}, {y, 200, 60 * 24 * time.Hour}} {
		if _, err := h.App.Ledger.Earn(ctx, ledger.EarnInput{MemberID: e.m, Points: e.pts, Key: fmt.Sprintf("seed-%d", e.m),
			Ref: ledger.Ref{Type: "test", ID: "seed"}, Title: "t", ExpiresAt: now.Add(e.in)}); err != nil {
			t.Fatal(err)
		}
	}
	r := h.Do("GET", "/api/v1/guide/customers?expiring_within_days=7", nil, apptest.Auth(w.aTok)...)
	cs := r.JSON()["customers"].([]any)
	if r.Status != 200 || len(cs) != 1 {
		t.Fatalf("expiring customers: %d %s", r.Status, r.Body)
	}
	if c := cs[0].(map[string]any); int64(c["member_id"].(float64)) != x || c["next_expiry"].(map[string]any)["amount"].(float64) != 1500 ||
		c["next_expiry"].(map[string]any)["date"] != "2026-11-26" || c["available"].(float64) != 1500 {
		t.Fatalf("customer %v", c)
	}
	for _, q := range []string{"expiring_within_days=0", "expiring_within_days=x", "cursor=-1", "limit=1000"} {
		if r := h.DoInvalid("GET", "/api/v1/guide/customers?"+q, nil, apptest.Auth(w.aTok)...); r.Status != 400 {
			t.Errorf("%s: %d", q, r.Status)
		}
	}
	if r := h.Do("GET", "/api/v1/guide/customers?limit=1", nil, apptest.Auth(w.aTok)...); r.Status != 200 || r.JSON()["next_cursor"] == nil {
		t.Fatalf("first page of one: %d %s", r.Status, r.Body)
	}

	before := len(h.Sim.Calls("add_msg_template"))
	r = h.Do("POST", "/api/v1/guide/pushes", nil, apptest.Auth(w.aTok)...)
	if r.Status != 201 || r.JSON()["recipients"].(float64) != 1 || r.JSON()["msgid"] == "" {
		t.Fatalf("push: %d %s", r.Status, r.Body)
	}
	calls := h.Sim.Calls("add_msg_template")
	var mine []sim.Call
	for _, c := range calls[before:] {
		if c.Params["sender"] == w.a.UserID {
			mine = append(mine, c)
		}
	}
	if len(mine) != 1 || fmt.Sprint(mine[0].Params["external_userid"]) != fmt.Sprint([]any{sim.ExternalUserID(userX)}) {
		t.Fatalf("add_msg_template calls: %+v", mine)
	}
	if r := h.Do("POST", "/api/v1/guide/pushes", nil, apptest.Auth(w.aTok)...); r.Status != 422 {
		t.Fatalf("second push today: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/guide/pushes", nil, apptest.Auth(w.bTok)...); r.Status != 422 {
		t.Fatalf("push without customers: %d %s", r.Status, r.Body)
	}
	var msgid string
	if err := h.Env.DB.Conn(ctx).Table("guide_pushes").Select("msgid").Where("member_id = ?", x).Scan(&msgid).Error; err != nil || msgid == "" {
		t.Fatalf("push row msgid %q %v", msgid, err)
	}
	h.Clock.Advance(24 * time.Hour)
	if r := h.Do("POST", "/api/v1/guide/pushes", nil, apptest.Auth(w.login(w.a.UserID))...); r.Status != 201 {
		t.Fatalf("push next day: %d %s", r.Status, r.Body)
	}

	// The store summary counts x (within 7 days), not y.
	fake := &fakeNotifier{}
	h.App.Guides.Notifier = fake
	sent, err := h.App.Guides.SendStoreSummaries(ctx)
	if err != nil || sent != 1 || len(fake.sent) != 1 {
		t.Fatalf("summaries: %d %v %v", sent, err, fake.sent)
	}
	if want := "robot-jingan|本店 1 位顾客的 1,500 积分将在 7 天内过期"; fake.sent[0] != want {
		t.Fatalf("summary %q, want %q", fake.sent[0], want)
	}
}

type fakeNotifier struct{ sent []string }

func (f *fakeNotifier) SendStoreSummary(_ context.Context, key, text string) error {
	f.sent = append(f.sent, key+"|"+text)
	return nil
}

// A grant takes the spec's Idempotency-Key of up to 100 bytes (57 and 100
// here): replayed, it is the first grant; with another body, 409. Keys
// longer than a ledger reference's id were refused with 400 naming "ref".
func TestGrantTakesLongIdempotencyKeys(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000)
	m := w.shopper(apptest.UniqueUser("m"), w.a.Scene)
	for i, key := range []string{strings.Repeat("g", 57), strings.Repeat("g", 100), strings.Repeat("g", 99) + "2"} {
		body := fmt.Sprintf(`{"member_id":%d,"points":%d,"reason":"到店"}`, m, 10+i)
		r := grant(w, w.aTok, key, body)
		if r.Status != 201 {
			t.Fatalf("key of %d bytes: %d %s", len(key), r.Status, r.Body)
		}
		first := r.JSON()["grant"].(map[string]any)
		again := grant(w, w.aTok, key, body)
		if again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" || again.JSON()["grant"].(map[string]any)["id"] != first["id"] {
			t.Fatalf("replay of a key of %d bytes: %d %s", len(key), again.Status, again.Body)
		}
		if r := grant(w, w.aTok, key, fmt.Sprintf(`{"member_id":%d,"points":99,"reason":"到店"}`, m)); r.Status != 409 {
			t.Fatalf("key of %d bytes, other grant: %d %s", len(key), r.Status, r.Body)
		}
	}
	if n := count(t, w.h, "ledger_entries"); n != 3 {
		t.Fatalf("ledger entries = %d, want 3", n)
	}
}
