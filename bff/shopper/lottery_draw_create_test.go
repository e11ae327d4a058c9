package shopper_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/ledger"
)

const campaignBody = `{"name":"周末抽奖","starts_at":"2026-11-23T00:00:00+08:00","ends_at":"2026-12-23T00:00:00+08:00",
"cost_points":20,"free_per_day":1,"limit_daily":3,"pity_after":2,"consolation_name":"安慰积分","consolation_points":2,
"prizes":[{"name":"100积分","kind":"points","points":100,"weight":10,"stock":5},
{"name":"优惠券","kind":"coupon","coupon_code":"SAVE10","weight":10},
{"name":"谢谢参与","kind":"nothing","weight":80}]}`

func createCampaign(t *testing.T, h *apptest.Harness, body string) int64 {
	t.Helper()
	r := h.Do("POST", "/api/v1/console/lottery/campaigns", body, apptest.Auth(h.ConsoleLogin("marketer"))...)
	if r.Status != 201 {
		t.Fatalf("create campaign: %d %s", r.Status, r.Body)
	}
	var out struct {
		Campaign struct{ ID int64 } `json:"campaign"`
	}
	r.Decode(t, &out)
	return out.Campaign.ID
}

func TestLotteryDrawFlow(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createCampaign(t, h, campaignBody)
	tok, _, mid := h.Login(apptest.UniqueUser("lot"))
	base := fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d", id)

	r := h.Do("GET", base, nil, apptest.Auth(tok)...)
	if r.Status != 200 || strings.Contains(string(r.Body), "weight") || strings.Contains(string(r.Body), "stock") {
		t.Fatalf("campaign for shoppers: %d %s", r.Status, r.Body)
	}
	if ch := r.JSON()["campaign"].(map[string]any)["chances"].(map[string]any); ch["free_left"] != 1.0 || ch["draws_left"] != 3.0 {
		t.Fatalf("chances: %v", ch)
	}
	draw := func(key string) *apptest.Response {
		return h.Do("POST", base+"/draws", nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
	}
	// The free draw works without points; the second needs 20.
	if r := draw("d1"); r.Status != 201 || r.JSON()["draw"].(map[string]any)["free"] != true {
		t.Fatalf("free draw: %d %s", r.Status, r.Body)
	}
	// The free draw may have won points (prizes are random): spend them so
	// the next, paid draw really has nothing to pay with.
	if bal, err := h.App.Ledger.Balance(context.Background(), mid); err != nil {
		t.Fatal(err)
	} else if bal.Available > 0 {
		if _, err := h.App.Ledger.Spend(context.Background(), ledger.SpendInput{MemberID: mid, Points: bal.Available, Key: "drain",
			Ref: ledger.Ref{Type: "test", ID: "drain"}}); err != nil {
			t.Fatal(err)
		}
	}
	before := countRows(t, h, "lottery_draws")
	if r := draw("d2"); r.Status != 422 || r.ErrorCode() != "POINTS_INSUFFICIENT" {
		t.Fatalf("draw without points: %d %s", r.Status, r.Body)
	}
	if countRows(t, h, "lottery_draws") != before {
		t.Fatal("a refused draw wrote a row")
	}
	if _, err := h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: mid, Points: 100, Key: "seed", Ref: ledger.Ref{Type: "seed", ID: "1"}}); err != nil {
		t.Fatal(err)
	}
	first := draw("d2")
	if first.Status != 201 {
		t.Fatalf("paid draw: %d %s", first.Status, first.Body)
	}
	again := draw("d2")
	if again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" ||
		fmt.Sprint(again.JSON()["draw"]) != fmt.Sprint(first.JSON()["draw"]) {
		t.Fatalf("replay differs: %s vs %s", again.Body, first.Body)
	}
	if r := draw("d3"); r.Status != 201 {
		t.Fatalf("third draw: %d %s", r.Status, r.Body)
	}
	// Limit: 3 a day → 422 RULE_VIOLATION.
	if r := draw("d4"); r.Status != 422 || r.ErrorCode() != "RULE_VIOLATION" {
		t.Fatalf("fourth draw today: %d %s", r.Status, r.Body)
	}
	r = h.Do("GET", base+"/draws/mine?limit=2", nil, apptest.Auth(tok)...)
	if r.Status != 200 || len(r.JSON()["draws"].([]any)) != 2 || r.JSON()["next_cursor"] == nil {
		t.Fatalf("my draws: %d %s", r.Status, r.Body)
	}
	// Another member sees none of them.
	tok2, _, _ := h.Login(apptest.UniqueUser("lot2"))
	r = h.Do("GET", base+"/draws/mine", nil, apptest.Auth(tok2)...)
	if r.Status != 200 || len(r.JSON()["draws"].([]any)) != 0 {
		t.Fatalf("other member's draws: %s", r.Body)
	}
	if v, _ := h.App.Ledger.Check(context.Background(), mid); len(v) > 0 {
		t.Fatalf("ledger: %v", v)
	}
	// Outside the window → 422.
	h.Clock.Advance(40 * 24 * 3600e9)
	tok3, _, _ := h.Login(apptest.UniqueUser("lot3"))
	if r := h.Do("POST", base+"/draws", nil, append(apptest.Auth(tok3), "Idempotency-Key", "late")...); r.Status != 422 {
		t.Fatalf("closed campaign: %d %s", r.Status, r.Body)
	}
}

func TestLotteryBadInput(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createCampaign(t, h, campaignBody)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	auditor := apptest.Auth(h.ConsoleLogin("auditor"))
	tok, _, _ := h.Login(apptest.UniqueUser("lotbad"))
	campaigns, prizes := countRows(t, h, "lottery_campaigns"), countRows(t, h, "lottery_prizes")

	valid := `{"name":"x","starts_at":"2026-11-23T00:00:00Z","ends_at":"2026-12-23T00:00:00Z","prizes":[%s]}`
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		want                     int
	}{
		{"zero weight", "POST", "/api/v1/console/lottery/campaigns", fmt.Sprintf(valid, `{"name":"a","kind":"gift","weight":0}`), marketer, 400},
		{"negative weight", "POST", "/api/v1/console/lottery/campaigns", fmt.Sprintf(valid, `{"name":"a","kind":"gift","weight":-1}`), marketer, 400},
		{"negative stock", "POST", "/api/v1/console/lottery/campaigns", fmt.Sprintf(valid, `{"name":"a","kind":"gift","weight":1,"stock":-1}`), marketer, 400},
		{"no prizes (weights sum to zero)", "POST", "/api/v1/console/lottery/campaigns", fmt.Sprintf(valid, ``), marketer, 400},
		{"ends before start", "POST", "/api/v1/console/lottery/campaigns", `{"name":"x","starts_at":"2026-12-23T00:00:00Z","ends_at":"2026-11-23T00:00:00Z","prizes":[{"name":"a","kind":"gift","weight":1}]}`, marketer, 400},
		{"weight as string", "POST", "/api/v1/console/lottery/campaigns", fmt.Sprintf(valid, `{"name":"a","kind":"gift","weight":"9"}`), marketer, 400},
		{"unknown field", "POST", "/api/v1/console/lottery/campaigns", `{"name":"x","odds":1}`, marketer, 400},
		{"malformed", "POST", "/api/v1/console/lottery/campaigns", `{"name":`, marketer, 400},
		{"oversized", "POST", "/api/v1/console/lottery/campaigns", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, marketer, 413},
		{"auditor cannot write", "POST", "/api/v1/console/lottery/campaigns", fmt.Sprintf(valid, `{"name":"a","kind":"gift","weight":1}`), auditor, 403},
		{"shopper token on console", "POST", "/api/v1/console/lottery/campaigns", fmt.Sprintf(valid, `{"name":"a","kind":"gift","weight":1}`), apptest.Auth(tok), 401},
		{"no auth", "POST", "/api/v1/console/lottery/campaigns", fmt.Sprintf(valid, `{"name":"a","kind":"gift","weight":1}`), nil, 401},
		{"prize zero weight", "POST", fmt.Sprintf("/api/v1/console/lottery/campaigns/%d/prizes", id), `{"name":"a","kind":"gift","weight":0}`, marketer, 400},
		{"prize on unknown campaign", "POST", "/api/v1/console/lottery/campaigns/9999/prizes", `{"name":"a","kind":"gift","weight":1}`, marketer, 404},
		{"unknown campaign (console)", "GET", "/api/v1/console/lottery/campaigns/9999", "", marketer, 404},
		{"unknown campaign", "GET", "/api/v1/shopper/lottery/campaigns/9999", "", apptest.Auth(tok), 404},
		{"non-numeric campaign", "GET", "/api/v1/shopper/lottery/campaigns/abc", "", apptest.Auth(tok), 404},
		{"draw unknown campaign", "POST", "/api/v1/shopper/lottery/campaigns/9999/draws", "", append(apptest.Auth(tok), "Idempotency-Key", "k"), 404},
		{"draw without key", "POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", id), "", apptest.Auth(tok), 400},
		{"draw forged token", "POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", id), "", append(apptest.Auth(tok+"x"), "Idempotency-Key", "k"), 401},
		{"draw console token", "POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", id), "", append(marketer, "Idempotency-Key", "k"), 401},
	}
	// What docs/openapi.yaml itself forbids; the rest only the service can
	// refuse (auth, unknown ids, sums, dates).
	specForbids := map[string]bool{"zero weight": true, "negative weight": true, "negative stock": true, "weight as string": true,
		"unknown field": true, "malformed": true, "oversized": true, "prize zero weight": true, "draw without key": true}
	for _, tc := range cases {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		r := h.Send(!specForbids[tc.name], tc.method, tc.path, body, tc.hdr...)
		if r.Status != tc.want || r.ErrorCode() == "" {
			t.Errorf("%s: %d %s, want %d in the error shape", tc.name, r.Status, r.Body, tc.want)
		}
	}
	if countRows(t, h, "lottery_campaigns") != campaigns || countRows(t, h, "lottery_prizes") != prizes || countRows(t, h, "lottery_draws") != 0 {
		t.Fatal("bad input wrote rows")
	}
	// Stock below what was won → 422.
	c, _ := h.App.Lottery.Campaign(context.Background(), id)
	p := c.Prizes[0]
	path := fmt.Sprintf("/api/v1/console/lottery/campaigns/%d/prizes/%d", id, p.ID)
	if r := h.Do("PUT", path, `{"name":"100积分","kind":"points","points":100,"weight":10,"stock":3}`, marketer...); r.Status != 200 {
		t.Fatalf("lower stock: %d %s", r.Status, r.Body)
	}
	if r := h.Do("PUT", fmt.Sprintf("/api/v1/console/lottery/campaigns/%d/prizes/9999", id), `{"name":"a","kind":"gift","weight":1}`, marketer...); r.Status != 404 {
		t.Fatalf("unknown prize: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/console/lottery/campaigns/%d", id), nil, auditor...); r.Status != 200 || !strings.Contains(string(r.Body), `"stock":3`) {
		t.Fatalf("console get: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/lottery/campaigns", nil, auditor...); r.Status != 200 {
		t.Fatalf("console list: %d %s", r.Status, r.Body)
	}
	upd := `{"name":"改名","starts_at":"2026-11-23T00:00:00Z","ends_at":"2026-12-24T00:00:00Z","cost_points":30}`
	if r := h.Do("PUT", fmt.Sprintf("/api/v1/console/lottery/campaigns/%d", id), upd, marketer...); r.Status != 200 || r.JSON()["campaign"].(map[string]any)["cost_points"] != 30.0 {
		t.Fatalf("update campaign: %d %s", r.Status, r.Body)
	}
}
