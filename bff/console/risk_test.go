package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/risk"
)

// onlyRule is the default policy at version with one rule left on.
func onlyRule(version int, name string, max int64, hold bool) map[string]any {
	p := risk.DefaultPolicy()
	for i := range p.Rules {
		p.Rules[i].Enabled = p.Rules[i].Name == name
		if p.Rules[i].Name == name {
			p.Rules[i].MaxPerHour, p.Rules[i].Hold = max, hold
		}
	}
	return map[string]any{"version": version, "rules": p.Rules}
}

func signedHold(h *apptest.Harness, member int64, key string) *apptest.Response {
	body := map[string]any{"member_id": member, "currency": "CNY", "total_fen": 10000,
		"lines": []map[string]any{{"sku": "A", "qty": 1, "amount_fen": 10000}}, "order_id": "O-" + key, "points": 1000, "value_fen": 1000}
	raw, _ := json.Marshal(body)
	ts := strconv.FormatInt(h.Clock.Now().Unix(), 10)
	return h.Do("POST", "/api/v1/hooks/checkout/holds", raw, "Idempotency-Key", key,
		hooks.HeaderTimestamp, ts, hooks.HeaderSignature, hooks.Sign([]byte(h.Config.Orders.WebhookSecret), ts, raw))
}

// Two members sign in from one device; the rule (max 1 per hour, hold)
// flags and holds the second. Every spend route then answers 403
// ACCOUNT_HELD and changes nothing, while the member still earns; a
// reviewer clears the flag, which lifts the hold; every decision is in
// the audit trail.
func TestRiskHoldOverHTTP(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) { c.Orders.WebhookSecret = "test-webhook-secret-0123456789" })
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	auditor := apptest.Auth(h.ConsoleLogin("auditor"))

	if r := h.Do("PUT", "/api/v1/console/risk/policy", onlyRule(1, "signin_per_device", 1, true), auditor...); r.Status != 403 {
		t.Fatalf("auditor edits the policy: %d %s", r.Status, r.Body)
	}
	if r := h.Do("PUT", "/api/v1/console/risk/policy", onlyRule(1, "signin_per_device", 1, true), marketer...); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
	if r := h.Do("PUT", "/api/v1/console/risk/policy", onlyRule(1, "signin_per_device", 1, true), marketer...); r.Status != 409 {
		t.Fatalf("stale policy edit: %d %s", r.Status, r.Body)
	}

	userB := apptest.UniqueUser("riskB")
	userA := apptest.UniqueUser("riskA")
	tokA, _, a := h.Login(userA)
	tokB, _, b := h.Login(userB)
	for _, tok := range []string{tokA, tokB} {
		if r := h.Do("POST", "/api/v1/shopper/signin", nil, append(apptest.Auth(tok), "X-Device-Id", "dev-1")...); r.Status != 201 {
			t.Fatalf("sign in: %d %s", r.Status, r.Body)
		}
	}
	q := h.Do("GET", "/api/v1/console/risk/flags?status=open", nil, auditor...)
	var queue struct {
		Flags []struct {
			ID       int64  `json:"id"`
			MemberID int64  `json:"member_id"`
			Key      string `json:"key"`
			Count    int64  `json:"count"`
			Held     bool   `json:"held"`
		} `json:"flags"`
	}
	q.Decode(t, &queue)
	if q.Status != 200 || len(queue.Flags) != 1 || queue.Flags[0].MemberID != b || queue.Flags[0].Key != "dev-1" ||
		queue.Flags[0].Count != 2 || !queue.Flags[0].Held {
		t.Fatalf("queue: %d %s", q.Status, q.Body)
	}
	flag := queue.Flags[0].ID

	ctx := context.Background()
	if _, err := h.App.Ledger.Earn(ctx, ledger.EarnInput{MemberID: b, Points: 5000, Key: "seed-b", Ref: ledger.Ref{Type: "seed", ID: "b"}}); err != nil {
		t.Fatal(err)
	}
	before, err := h.App.Ledger.Balance(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	item := createItem(t, h, marketer, `{"kind":"virtual","name":"券","category":"c","points":10,"stock":5,"enabled":true}`)
	paid := createCampaignID(t, h, marketer, 20)
	free := createCampaignID(t, h, marketer, 0)
	held := func(name string, r *apptest.Response) {
		t.Helper()
		if r.Status != 403 || r.ErrorCode() != "ACCOUNT_HELD" {
			t.Errorf("%s by a held member: %d %s", name, r.Status, r.Body)
		}
	}
	authB := apptest.Auth(tokB)
	held("mall redemption", h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil, append(authB, "Idempotency-Key", "m1")...))
	held("paid draw", h.Do("POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", paid), nil, append(authB, "Idempotency-Key", "d1")...))
	held("make-up sign-in", h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"2026-11-22"}`, authB...))
	held("tier upgrade", h.Do("POST", "/api/v1/shopper/tier/upgrade", nil, append(authB, "Idempotency-Key", "t1")...))
	held("checkout hold", signedHold(h, b, "c1"))
	if r := signedHold(h, a, "c2"); r.ErrorCode() == "ACCOUNT_HELD" {
		t.Errorf("member A is not held: %d %s", r.Status, r.Body)
	}
	after, err := h.App.Ledger.Balance(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if after.Available != before.Available || after.Held != before.Held {
		t.Fatalf("refused spends moved points: %+v → %+v", before, after)
	}
	// Earning goes on: a free draw, tomorrow's sign-in.
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", free), nil, append(authB, "Idempotency-Key", "d2")...); r.Status != 201 {
		t.Errorf("free draw by a held member: %d %s", r.Status, r.Body)
	}
	h.Clock.Advance(24 * time.Hour)
	tokB, _, _ = h.Login(userB)
	tokA, _, _ = h.Login(userA)
	marketer, auditor = apptest.Auth(h.ConsoleLogin("marketer")), apptest.Auth(h.ConsoleLogin("auditor"))
	authB = apptest.Auth(tokB)
	if r := h.Do("POST", "/api/v1/shopper/signin", nil, authB...); r.Status != 201 {
		t.Errorf("held member's sign-in: %d %s", r.Status, r.Body)
	}

	mr := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/risk", b), nil, auditor...)
	if mr.Status != 200 || mr.JSON()["hold"] == nil || len(mr.JSON()["flags"].([]any)) != 1 {
		t.Fatalf("member risk: %d %s", mr.Status, mr.Body)
	}
	decide := fmt.Sprintf("/api/v1/console/risk/flags/%d/decision", flag)
	if r := h.Do("POST", decide, `{"decision":"clear"}`, auditor...); r.Status != 403 {
		t.Fatalf("auditor decides: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", decide, `{"decision":"clear","note":"家人共用手机"}`, marketer...); r.Status != 200 || r.JSON()["flag"].(map[string]any)["status"] != "cleared" {
		t.Fatalf("clear: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", decide, `{"decision":"confirm"}`, marketer...); r.Status != 409 {
		t.Fatalf("decided twice: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil, append(authB, "Idempotency-Key", "m2")...); r.Status != 201 {
		t.Fatalf("released member's redemption: %d %s", r.Status, r.Body)
	}

	// By hand: hold A, refuse a second hold, release.
	hold := fmt.Sprintf("/api/v1/console/members/%d/hold", a)
	if r := h.Do("POST", hold, `{"reason":"chargeback"}`, auditor...); r.Status != 403 {
		t.Fatalf("auditor holds: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", hold, `{"reason":"chargeback"}`, marketer...); r.Status != 201 {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", hold, `{"reason":"again"}`, marketer...); r.Status != 409 {
		t.Fatalf("second hold: %d %s", r.Status, r.Body)
	}
	held("mall redemption (manual hold)", h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil, append(apptest.Auth(tokA), "Idempotency-Key", "m3")...))
	if r := h.Do("POST", hold+"/release", `{"note":"resolved"}`, marketer...); r.Status != 200 {
		t.Fatalf("release: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", hold+"/release", `{}`, marketer...); r.Status != 404 {
		t.Fatalf("release twice: %d %s", r.Status, r.Body)
	}

	var actions []string
	for _, m := range []int64{b, a} {
		r := h.Do("GET", fmt.Sprintf("/api/v1/console/audit?target=member:%d", m), nil, auditor...)
		var out struct {
			Entries []struct{ Actor, Action string } `json:"entries"`
		}
		r.Decode(t, &out)
		for i := len(out.Entries) - 1; i >= 0; i-- {
			actions = append(actions, out.Entries[i].Actor+":"+out.Entries[i].Action)
		}
	}
	want := "[risk:risk.hold.place marketer:risk.flag.clear marketer:risk.hold.release marketer:risk.hold.place marketer:risk.hold.release]"
	if fmt.Sprint(actions) != want {
		t.Fatalf("audit %v, want %s", actions, want)
	}
}

// Refusals: no token, a shopper's token, malformed JSON, wrong types,
// unknown fields, bad values, unknown ids. Nothing changes.
func TestRiskConsoleRefusals(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	shopper, _, mid := h.Login(apptest.UniqueUser("riskbad"))
	hold := fmt.Sprintf("/api/v1/console/members/%d/hold", mid)
	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		code               string
		specValid          bool // the spec allows the request; the server refuses it
	}{
		{"no token", "GET", "/api/v1/console/risk/flags", nil, nil, 401, "UNAUTHORIZED", true},
		{"shopper token", "GET", "/api/v1/console/risk/flags", nil, apptest.Auth(shopper), 401, "UNAUTHORIZED", true},
		{"bad status", "GET", "/api/v1/console/risk/flags?status=x", nil, marketer, 400, "INVALID", false},
		{"bad cursor", "GET", "/api/v1/console/risk/flags?cursor=abc", nil, marketer, 400, "INVALID", false},
		{"malformed", "POST", "/api/v1/console/risk/flags/1/decision", `{"decision":`, marketer, 400, "INVALID", false},
		{"wrong type", "POST", "/api/v1/console/risk/flags/1/decision", `{"decision":1}`, marketer, 400, "INVALID", false},
		{"unknown field", "POST", "/api/v1/console/risk/flags/1/decision", `{"decision":"clear","x":1}`, marketer, 400, "INVALID", false},
		{"bad decision", "POST", "/api/v1/console/risk/flags/1/decision", `{"decision":"maybe"}`, marketer, 400, "INVALID", false},
		{"bad id", "POST", "/api/v1/console/risk/flags/abc/decision", `{"decision":"clear"}`, marketer, 404, "NOT_FOUND", true},
		{"unknown flag", "POST", "/api/v1/console/risk/flags/99999/decision", `{"decision":"clear"}`, marketer, 404, "NOT_FOUND", true},
		{"empty reason", "POST", hold, `{"reason":""}`, marketer, 400, "INVALID", false},
		{"unknown member", "POST", "/api/v1/console/members/99999/hold", `{"reason":"x"}`, marketer, 404, "NOT_FOUND", true},
		{"unknown member risk", "GET", "/api/v1/console/members/99999/risk", nil, marketer, 404, "NOT_FOUND", true},
		{"policy wrong type", "PUT", "/api/v1/console/risk/policy", `{"version":"1","rules":[]}`, marketer, 400, "INVALID", false},
		{"policy bad rule", "PUT", "/api/v1/console/risk/policy", onlyRule(1, "signin_per_ip", 0, false), marketer, 400, "INVALID", false},
		{"policy no rules", "PUT", "/api/v1/console/risk/policy", `{"version":1}`, marketer, 400, "INVALID", false},
		{"policy empty rules", "PUT", "/api/v1/console/risk/policy", `{"version":1,"rules":[]}`, marketer, 400, "INVALID", false},
	}
	for _, c := range cases {
		r := h.Send(c.specValid, c.method, c.path, c.body, c.headers...)
		if r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
	}
	p := h.Do("GET", "/api/v1/console/risk/policy", nil, marketer...)
	if p.Status != 200 || p.JSON()["policy"].(map[string]any)["version"] != 1.0 {
		t.Fatalf("policy changed: %s", p.Body)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/risk", mid), nil, marketer...); r.Status != 200 || r.JSON()["hold"] != nil {
		t.Fatalf("member changed: %s", r.Body)
	}
}

func createItem(t *testing.T, h *apptest.Harness, auth []string, body string) int64 {
	t.Helper()
	r := h.Do("POST", "/api/v1/console/mall/items", body, auth...)
	if r.Status != 201 {
		t.Fatalf("create item: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON()["item"].(map[string]any)["id"].(float64))
}

func createCampaignID(t *testing.T, h *apptest.Harness, auth []string, cost int) int64 {
	t.Helper()
	body := fmt.Sprintf(`{"name":"抽奖","starts_at":"2026-11-23T00:00:00+08:00","ends_at":"2026-12-23T00:00:00+08:00",
"cost_points":%d,"free_per_day":%d,"limit_daily":3,"prizes":[{"name":"谢谢参与","kind":"nothing","weight":1}]}`, cost, map[bool]int{true: 0, false: 3}[cost > 0])
	r := h.Do("POST", "/api/v1/console/lottery/campaigns", body, auth...)
	if r.Status != 201 {
		t.Fatalf("create campaign: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON()["campaign"].(map[string]any)["id"].(float64))
}

// A device id is the shopper's to send: one longer than risk.MaxKeyLen
// whose cut falls inside a character, or one that is not UTF-8 at all,
// still raises its flag (MySQL's utf8mb4 column refuses a broken
// character, and the flag was lost with it), keyed by the id cut at a
// character boundary.
func TestRiskFlagKeyFromABrokenDeviceID(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	if r := h.Do("PUT", "/api/v1/console/risk/policy", onlyRule(1, "signin_per_device", 1, false), marketer...); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
	long := strings.Repeat("d", risk.MaxKeyLen-1) + "中" // the cut at 64 bytes splits 中
	for _, c := range []struct{ device, key string }{
		{long, strings.Repeat("d", risk.MaxKeyLen-1)},
		{"dev-\xff\xfe", "dev-\uFFFD"},
	} {
		for i := 0; i < 2; i++ {
			tok, _, _ := h.Login(apptest.UniqueUser("brokendev"))
			if r := h.Do("POST", "/api/v1/shopper/signin", nil, append(apptest.Auth(tok), "X-Device-Id", c.device)...); r.Status != 201 {
				t.Fatalf("sign in: %d %s", r.Status, r.Body)
			}
		}
		q := h.Do("GET", "/api/v1/console/risk/flags?status=open", nil, marketer...)
		var queue struct {
			Flags []struct {
				Key string `json:"key"`
			} `json:"flags"`
		}
		q.Decode(t, &queue)
		if q.Status != 200 || len(queue.Flags) == 0 || queue.Flags[0].Key != c.key {
			t.Fatalf("device %q: want a flag keyed %q, got %d %s", c.device, c.key, q.Status, q.Body)
		}
	}
}
