package console_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/ledger"
)

// auditTrail is GET /api/v1/console/audit for query (as the auditor),
// newest first.
func auditTrail(t *testing.T, h *apptest.Harness, query url.Values) []map[string]any {
	t.Helper()
	r := h.Do("GET", "/api/v1/console/audit?"+query.Encode(), nil, apptest.Auth(h.ConsoleLogin("auditor"))...)
	if r.Status != 200 {
		t.Fatalf("audit %s: %d %s", query.Encode(), r.Status, r.Body)
	}
	var out []map[string]any
	for _, e := range r.JSON()["entries"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// wantTrail checks the trail of target, newest first: its actions, each
// by actor in that role, and that each detail holds its substrings.
func wantTrail(t *testing.T, h *apptest.Harness, target, actor string, actions []string, details ...[]string) []map[string]any {
	t.Helper()
	got := auditTrail(t, h, url.Values{"target": {target}})
	var acts []string
	for _, e := range got {
		acts = append(acts, e["action"].(string))
		if e["actor"] != actor || e["actor_role"] != actor {
			t.Errorf("%s %s by %v (%v), want %s", target, e["action"], e["actor"], e["actor_role"], actor)
		}
	}
	if strings.Join(acts, " ") != strings.Join(actions, " ") {
		t.Fatalf("trail of %s = %v, want %v", target, acts, actions)
	}
	for i, want := range details {
		for _, s := range want {
			if d := got[i]["detail"].(string); !strings.Contains(d, s) {
				t.Errorf("%s %s detail %s lacks %s", target, got[i]["action"], d, s)
			}
		}
	}
	return got
}

// TestMallItemEditsAreAudited: creating and updating an item and
// importing codes write one audit row each, naming the console user and
// the item; a refused update and a re-import that adds nothing write none.
func TestMallItemEditsAreAudited(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	cup := `{"kind":"physical","name":"保温杯","category":"home","points":%d,"stock":%d,"enabled":true}`
	r := h.Do("POST", "/api/v1/console/mall/items", fmt.Sprintf(cup, 400, 5), marketer...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := int64(r.JSON()["item"].(map[string]any)["id"].(float64))
	path := fmt.Sprintf("/api/v1/console/mall/items/%d", id)
	if r := h.Do("PUT", path, fmt.Sprintf(cup, 350, 8), marketer...); r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	// Refused: the kind cannot change, the points must be positive.
	if r := h.Do("PUT", path, `{"kind":"coupon","name":"保温杯","category":"home","points":350,"stock":8,"enabled":true}`, marketer...); r.Status != 400 {
		t.Fatalf("kind change: %d %s", r.Status, r.Body)
	}
	if r := h.DoInvalid("PUT", path, fmt.Sprintf(cup, 0, 8), marketer...); r.Status != 400 {
		t.Fatalf("zero points: %d %s", r.Status, r.Body)
	}
	target := fmt.Sprintf("mall_item:%d", id)
	wantTrail(t, h, target, "marketer", []string{"mall_item.update", "mall_item.create"},
		[]string{`"points":[400,350]`, `"stock":[5,8]`}, []string{`"points":400`, `"stock":5`})

	coupon := h.Do("POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"咖啡券","category":"coffee","points":300,"stock":2,"enabled":true}`, marketer...)
	if coupon.Status != 201 {
		t.Fatalf("create coupon: %d %s", coupon.Status, coupon.Body)
	}
	cid := int64(coupon.JSON()["item"].(map[string]any)["id"].(float64))
	imp := func() *apptest.Response {
		return h.Do("POST", fmt.Sprintf("/api/v1/console/mall/items/%d/codes", cid), "code\nSB-001\nSB-002\n", append(marketer, "Content-Type", "text/csv")...)
	}
	if r := imp(); r.Status != 200 || r.JSON()["added"] != 2.0 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	if r := imp(); r.Status != 200 || r.JSON()["added"] != 0.0 {
		t.Fatalf("re-import: %d %s", r.Status, r.Body)
	}
	got := wantTrail(t, h, fmt.Sprintf("mall_item:%d", cid), "marketer", []string{"mall_codes.import", "mall_item.create"}, []string{`"added":2`})
	if strings.Contains(got[0]["detail"].(string), "SB-00") {
		t.Fatalf("the codes reached the audit trail: %v", got[0])
	}
}

// TestMallRedemptionEventsAreAudited: every event the console drives on a
// redemption is audited on the member, a cancel with the points it gave
// back; an event the redemption refuses writes nothing.
func TestMallRedemptionEventsAreAudited(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	r := h.Do("POST", "/api/v1/console/mall/items", `{"kind":"physical","name":"保温杯","category":"home","points":400,"stock":3,"enabled":true}`, admin...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	item := int64(r.JSON()["item"].(map[string]any)["id"].(float64))
	tok, _, mid := h.Login(apptest.UniqueUser("mallaudit"))
	if _, err := h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: mid, Points: 1000, Key: "seed", Ref: ledger.Ref{Type: "seed", ID: "1"}}); err != nil {
		t.Fatal(err)
	}
	redeem := func(key string) int64 {
		t.Helper()
		r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
		if r.Status != 201 {
			t.Fatalf("redeem: %d %s", r.Status, r.Body)
		}
		return int64(r.JSON()["redemption"].(map[string]any)["id"].(float64))
	}
	event := func(rid int64, body string, status int) {
		t.Helper()
		if r := h.Do("POST", fmt.Sprintf("/api/v1/console/mall/redemptions/%d/events", rid), body, marketer...); r.Status != status {
			t.Fatalf("%s on %d: %d %s", body, rid, r.Status, r.Body)
		}
	}
	member := fmt.Sprintf("member:%d", mid)

	first := redeem("a")
	event(first, `{"event":"deliver"}`, 409)
	event(first, `{"event":"cancel","note":"缺货"}`, 200)
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 1000 {
		t.Fatalf("points not back: %d", b.Available)
	}
	event(first, `{"event":"cancel"}`, 409)
	wantTrail(t, h, member, "marketer", []string{"mall_redemption.cancel"},
		[]string{fmt.Sprintf(`"redemption_id":%d`, first), `"points_back":400`, `"from":"paid"`, `"to":"cancelled"`, `"note":"缺货"`})

	second, third := redeem("b"), redeem("c")
	event(second, `{"event":"ship","carrier":"顺丰"}`, 400)
	event(second, `{"event":"ship","carrier":"顺丰","tracking_no":"SF1001"}`, 200)
	event(second, `{"event":"refund"}`, 200)
	event(third, `{"event":"ship","carrier":"顺丰","tracking_no":"SF1002"}`, 200)
	event(third, `{"event":"deliver"}`, 200)
	wantTrail(t, h, member, "marketer",
		[]string{"mall_redemption.deliver", "mall_redemption.ship", "mall_redemption.refund", "mall_redemption.ship", "mall_redemption.cancel"},
		[]string{fmt.Sprintf(`"redemption_id":%d`, third), `"to":"fulfilled"`}, []string{`"tracking_no":"SF1002"`},
		[]string{fmt.Sprintf(`"redemption_id":%d`, second), `"points_back":400`, `"to":"refunded"`})
}

// TestLotteryEditsAreAudited: creating and updating a campaign and its
// prizes write one audit row each on the campaign; a refused edit writes
// none.
func TestLotteryEditsAreAudited(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	r := h.Do("POST", "/api/v1/console/lottery/campaigns", `{"name":"审计抽奖","starts_at":"2026-11-23T00:00:00+08:00",
		"ends_at":"2026-12-23T00:00:00+08:00","cost_points":20,"free_per_day":1,
		"prizes":[{"name":"5积分","kind":"points","points":5,"weight":100,"stock":50}]}`, marketer...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	camp := r.JSON()["campaign"].(map[string]any)
	id := int64(camp["id"].(float64))
	prize := int64(camp["prizes"].([]any)[0].(map[string]any)["id"].(float64))
	path := fmt.Sprintf("/api/v1/console/lottery/campaigns/%d", id)
	edit := `{"name":"审计抽奖","starts_at":"2026-11-23T00:00:00+08:00","ends_at":"%s","cost_points":30,"free_per_day":1}`
	if r := h.Do("PUT", path, fmt.Sprintf(edit, "2026-12-23T00:00:00+08:00"), marketer...); r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if r := h.Do("PUT", path, fmt.Sprintf(edit, "2026-11-01T00:00:00+08:00"), marketer...); r.Status != 400 {
		t.Fatalf("update ending before it starts: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", path+"/prizes", `{"name":"咖啡券","kind":"coupon","coupon_code":"C1","weight":10,"stock":5}`, marketer...); r.Status != 201 {
		t.Fatalf("add prize: %d %s", r.Status, r.Body)
	}
	if r := h.Do("PUT", fmt.Sprintf("%s/prizes/%d", path, prize), `{"name":"5积分","kind":"points","points":5,"weight":80,"stock":50}`, marketer...); r.Status != 200 {
		t.Fatalf("update prize: %d %s", r.Status, r.Body)
	}
	if r := h.DoInvalid("PUT", fmt.Sprintf("%s/prizes/%d", path, prize), `{"name":"5积分","kind":"points","points":5,"weight":0,"stock":50}`, marketer...); r.Status != 400 {
		t.Fatalf("update prize with no weight: %d %s", r.Status, r.Body)
	}
	got := wantTrail(t, h, fmt.Sprintf("lottery_campaign:%d", id), "marketer",
		[]string{"lottery_prize.update", "lottery_prize.create", "lottery_campaign.update", "lottery_campaign.create"},
		[]string{fmt.Sprintf(`"prize_id":%d`, prize), `"weight":[100,80]`}, []string{`"name":"咖啡券"`},
		[]string{`"cost_points":[20,30]`}, []string{`"name":"审计抽奖"`, `"prizes":1`})
	if strings.Contains(got[1]["detail"].(string), "C1") {
		t.Fatalf("the coupon code reached the audit trail: %v", got[1])
	}
	if strings.Contains(got[2]["detail"].(string), "ends_at") {
		t.Fatalf("an unchanged field is listed as changed: %v", got[2])
	}
}

// TestTaskEditsAreAudited: creating, updating and deleting a task write
// one audit row each on the task; a refused create and a second delete
// write none.
func TestTaskEditsAreAudited(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	if r := h.DoInvalid("POST", "/api/v1/console/tasks", `{"type":"browse","title":"逛新品页","period":"daily","target":0,"reward_points":15}`, admin...); r.Status != 400 {
		t.Fatalf("create with no target: %d %s", r.Status, r.Body)
	}
	if got := auditTrail(t, h, url.Values{"action": {"task."}}); len(got) != 0 {
		t.Fatalf("a refused create was audited: %v", got)
	}
	r := h.Do("POST", "/api/v1/console/tasks", browseTask, admin...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := int64(r.JSON()["task"].(map[string]any)["id"].(float64))
	path := fmt.Sprintf("/api/v1/console/tasks/%d", id)
	if r := h.Do("PUT", path, strings.Replace(browseTask, `"reward_points":15`, `"reward_points":20`, 1), admin...); r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	for _, want := range []int{204, 404} {
		if r := h.Do("DELETE", path, nil, admin...); r.Status != want {
			t.Fatalf("delete: %d %s, want %d", r.Status, r.Body, want)
		}
	}
	wantTrail(t, h, fmt.Sprintf("task:%d", id), "admin", []string{"task.delete", "task.update", "task.create"},
		[]string{`"title":"逛新品页"`}, []string{`"reward_points":[15,20]`}, []string{`"reward_points":15`, `"status":"active"`})
	if got := auditTrail(t, h, url.Values{"action": {"task."}}); len(got) != 3 {
		t.Fatalf("%d task rows in the trail, want 3", len(got))
	}
}
