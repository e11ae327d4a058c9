package shopper_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/mall"
)

const couponItem = `{"kind":"coupon","name":"星巴克中杯券","images":["https://cdn.example.com/sb.png"],"description":"任意中杯饮品",
"category":"coffee","points":300,"stock":2,"limit_total":1,"sort":10,"enabled":true}`

func createMallItem(t *testing.T, h *apptest.Harness, tok, body string) int64 {
	t.Helper()
	r := h.Do("POST", "/api/v1/console/mall/items", body, apptest.Auth(tok)...)
	if r.Status != 201 {
		t.Fatalf("create item: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON()["item"].(map[string]any)["id"].(float64))
}

func earn(t *testing.T, h *apptest.Harness, member, points int64) {
	t.Helper()
	if _, err := h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: member, Points: points, Key: fmt.Sprint("seed-", member),
		Ref: ledger.Ref{Type: "seed", ID: "1"}}); err != nil {
		t.Fatal(err)
	}
}

func TestMallRedeemCouponFlow(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := h.ConsoleLogin("marketer")
	id := createMallItem(t, h, marketer, couponItem)
	createMallItem(t, h, marketer, `{"kind":"physical","name":"保温杯","category":"home","points":900,"stock":5,"sort":5,"enabled":true}`)
	createMallItem(t, h, marketer, `{"kind":"virtual","name":"下架","category":"coffee","points":1,"stock":5,"enabled":false}`)

	codes := h.Do("POST", fmt.Sprintf("/api/v1/console/mall/items/%d/codes", id), "code\nSB-001\nSB-002\nSB-001\n\n",
		append(apptest.Auth(marketer), "Content-Type", "text/csv")...)
	if codes.Status != 200 || codes.JSON()["added"] != 2.0 || codes.JSON()["skipped"] != 1.0 {
		t.Fatalf("import: %d %s", codes.Status, codes.Body)
	}
	again := h.Do("POST", fmt.Sprintf("/api/v1/console/mall/items/%d/codes", id), "SB-002\n", append(apptest.Auth(marketer), "Content-Type", "text/csv")...)
	if again.Status != 200 || again.JSON()["added"] != 0.0 {
		t.Fatalf("re-import: %d %s", again.Status, again.Body)
	}

	tok, _, mid := h.Login(apptest.UniqueUser("mall"))
	earn(t, h, mid, 1000)
	list := h.Do("GET", "/api/v1/shopper/mall/items?limit=1", nil, apptest.Auth(tok)...)
	items := list.JSON()["items"].([]any)
	if list.Status != 200 || len(items) != 1 || items[0].(map[string]any)["name"] != "星巴克中杯券" || list.JSON()["next_cursor"] == nil {
		t.Fatalf("browse page 1: %d %s", list.Status, list.Body)
	}
	page2 := h.Do("GET", "/api/v1/shopper/mall/items?limit=5&cursor="+list.JSON()["next_cursor"].(string), nil, apptest.Auth(tok)...)
	if p2 := page2.JSON()["items"].([]any); page2.Status != 200 || len(p2) != 1 || p2[0].(map[string]any)["name"] != "保温杯" {
		t.Fatalf("browse page 2 (disabled item hidden): %d %s", page2.Status, page2.Body)
	}
	if r := h.Do("GET", "/api/v1/shopper/mall/items?category=home", nil, apptest.Auth(tok)...); len(r.JSON()["items"].([]any)) != 1 {
		t.Fatalf("by category: %s", r.Body)
	}
	base := fmt.Sprintf("/api/v1/shopper/mall/items/%d", id)
	d := h.Do("GET", base, nil, apptest.Auth(tok)...)
	if d.Status != 200 || d.JSON()["limit_left"] != 1.0 || d.JSON()["affordable"] != true || d.JSON()["can_redeem"] != true ||
		d.JSON()["item"].(map[string]any)["left"] != 2.0 {
		t.Fatalf("detail: %d %s", d.Status, d.Body)
	}
	redeem := func(tok, key string) *apptest.Response {
		return h.Do("POST", base+"/redemptions", nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
	}
	first := redeem(tok, "r1")
	red := first.JSON()["redemption"].(map[string]any)
	if first.Status != 201 || red["status"] != "fulfilled" || !strings.HasPrefix(red["coupon_code"].(string), "SB-00") {
		t.Fatalf("redeem: %d %s", first.Status, first.Body)
	}
	replay := redeem(tok, "r1")
	if replay.Status != 201 || replay.Header.Get("Idempotent-Replayed") != "true" || fmt.Sprint(replay.JSON()) != fmt.Sprint(first.JSON()) {
		t.Fatalf("replay: %s vs %s", replay.Body, first.Body)
	}
	if r := redeem(tok, "r2"); r.Status != 422 || r.ErrorCode() != "RULE_VIOLATION" {
		t.Fatalf("over the limit: %d %s", r.Status, r.Body)
	}
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 700 {
		t.Fatalf("balance %d, want 700", b.Available)
	}
	mine := h.Do("GET", "/api/v1/shopper/mall/redemptions", nil, apptest.Auth(tok)...)
	if rs := mine.JSON()["redemptions"].([]any); mine.Status != 200 || len(rs) != 1 || rs[0].(map[string]any)["coupon_code"] != red["coupon_code"] {
		t.Fatalf("mine: %d %s", mine.Status, mine.Body)
	}
	// Another member sees none of them, and cannot afford the item.
	tok2, _, _ := h.Login(apptest.UniqueUser("mall2"))
	if r := h.Do("GET", "/api/v1/shopper/mall/redemptions", nil, apptest.Auth(tok2)...); len(r.JSON()["redemptions"].([]any)) != 0 {
		t.Fatalf("other member's redemptions: %s", r.Body)
	}
	if r := h.Do("GET", base, nil, apptest.Auth(tok2)...); r.JSON()["affordable"] != false || r.JSON()["can_redeem"] != false ||
		r.JSON()["refusal"].(map[string]any)["code"] != "POINTS_INSUFFICIENT" {
		t.Fatalf("detail without points: %s", r.Body)
	}
	if r := redeem(tok2, "x"); r.Status != 422 || r.ErrorCode() != "POINTS_INSUFFICIENT" {
		t.Fatalf("without points: %d %s", r.Status, r.Body)
	}
	vs, n, err := mall.Check(context.Background(), mallAuditor(h), 100)
	if err != nil || len(vs) > 0 || n != 3 {
		t.Fatalf("mall check: %d %v %v", n, vs, err)
	}
}

func TestMallBadInput(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	auditor := apptest.Auth(h.ConsoleLogin("auditor"))
	id := createMallItem(t, h, h.ConsoleLogin("admin"), couponItem)
	tok, _, mid := h.Login(apptest.UniqueUser("mallbad"))
	earn(t, h, mid, 1000)
	st := h.Do("POST", "/api/v1/console/stores", `{"name":"静安店","robot_key":"robot-jingan"}`, apptest.Auth(h.ConsoleLogin("admin"))...)
	if st.Status != 201 {
		t.Fatalf("create store: %d %s", st.Status, st.Body)
	}
	store := int64(st.JSON()["store"].(map[string]any)["id"].(float64))
	pickup := fmt.Sprintf(`{"kind":"pickup","name":"礼盒","category":"c","points":3,"stock":1,"stores":[%d]}`, store)
	pickupID := createMallItem(t, h, h.ConsoleLogin("admin"), pickup)
	items, codes, reds := countRows(t, h, "mall_items"), countRows(t, h, "mall_codes"), countRows(t, h, "mall_redemptions")
	big := `{"kind":"coupon","name":"` + strings.Repeat("x", 2<<20) + `"}`
	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		code               string
	}{
		{"malformed JSON", "POST", "/api/v1/console/mall/items", `{"kind":`, marketer, 400, "INVALID"},
		{"wrong type", "POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"x","category":"c","points":"300","stock":1}`, marketer, 400, "INVALID"},
		{"float points", "POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"x","category":"c","points":300.5,"stock":1}`, marketer, 400, "INVALID"},
		{"points past int64", "POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"x","category":"c","points":9223372036854775808,"stock":1}`, marketer, 400, "INVALID"},
		{"unknown field", "POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"x","category":"c","points":3,"stock":1,"price":3}`, marketer, 400, "INVALID"},
		{"bad kind", "POST", "/api/v1/console/mall/items", `{"kind":"gift","name":"x","category":"c","points":3,"stock":1}`, marketer, 400, "INVALID"},
		{"zero points", "POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"x","category":"c","points":0,"stock":1}`, marketer, 400, "INVALID"},
		{"negative stock", "POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"x","category":"c","points":3,"stock":-1}`, marketer, 400, "INVALID"},
		{"bad image", "POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"x","category":"c","points":3,"stock":1,"images":["javascript:1"]}`, marketer, 400, "INVALID"},
		{"window backwards", "POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"x","category":"c","points":3,"stock":1,"starts_at":"2026-12-01T00:00:00Z","ends_at":"2026-11-01T00:00:00Z"}`, marketer, 400, "INVALID"},
		{"oversized", "POST", "/api/v1/console/mall/items", big, marketer, 413, "BODY_TOO_LARGE"},
		{"auditor writes", "POST", "/api/v1/console/mall/items", couponItem, auditor, 403, "FORBIDDEN"},
		{"no token", "POST", "/api/v1/console/mall/items", couponItem, nil, 401, "UNAUTHORIZED"},
		{"shopper token on console", "POST", "/api/v1/console/mall/items", couponItem, apptest.Auth(tok), 401, "UNAUTHORIZED"},
		{"forged token", "GET", "/api/v1/shopper/mall/items", nil, apptest.Auth(tok + "x"), 401, "UNAUTHORIZED"},
		{"unknown tier", "POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"x","category":"c","points":3,"stock":1,"tiers":["gold","glod"]}`, marketer, 400, "INVALID"},
		{"duplicate tier", "POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"x","category":"c","points":3,"stock":1,"tiers":["gold","silver","gold"]}`, marketer, 400, "INVALID"},
		{"duplicate store", "POST", "/api/v1/console/mall/items", `{"kind":"pickup","name":"x","category":"c","points":3,"stock":1,"stores":[1,1]}`, marketer, 400, "INVALID"},
		{"duplicate tier on update", "PUT", fmt.Sprintf("/api/v1/console/mall/items/%d", id), strings.Replace(couponItem, `"kind"`, `"tiers":["gold","gold"],"kind"`, 1), marketer, 400, "INVALID"},
		{"unknown pickup store", "POST", "/api/v1/console/mall/items", `{"kind":"pickup","name":"礼盒","category":"c","points":3,"stock":1,"stores":[999999]}`, marketer, 400, "INVALID"},
		{"unknown pickup store on update", "PUT", fmt.Sprintf("/api/v1/console/mall/items/%d", pickupID), fmt.Sprintf(`{"kind":"pickup","name":"礼盒","category":"c","points":3,"stock":1,"stores":[%d,999999]}`, store), marketer, 400, "INVALID"},
		{"kind change", "PUT", fmt.Sprintf("/api/v1/console/mall/items/%d", id), strings.Replace(couponItem, "coupon", "virtual", 1), marketer, 400, "INVALID"},
		{"unknown item", "PUT", "/api/v1/console/mall/items/999999", couponItem, marketer, 404, "NOT_FOUND"},
		{"codes as JSON", "POST", fmt.Sprintf("/api/v1/console/mall/items/%d/codes", id), `{"codes":["A"]}`, marketer, 400, "INVALID"},
		{"empty CSV", "POST", fmt.Sprintf("/api/v1/console/mall/items/%d/codes", id), "code\n", append(append([]string{}, marketer...), "Content-Type", "text/csv"), 400, "INVALID"},
		{"codes for unknown item", "POST", "/api/v1/console/mall/items/999999/codes", "A\n", append(append([]string{}, marketer...), "Content-Type", "text/csv"), 404, "NOT_FOUND"},
		{"bad cursor", "GET", "/api/v1/shopper/mall/items?cursor=abc", nil, apptest.Auth(tok), 400, "INVALID"},
		{"bad limit", "GET", "/api/v1/shopper/mall/items?limit=0", nil, apptest.Auth(tok), 400, "INVALID"},
		{"unknown item detail", "GET", "/api/v1/shopper/mall/items/999999", nil, apptest.Auth(tok), 404, "NOT_FOUND"},
		{"bad item id", "GET", "/api/v1/shopper/mall/items/abc", nil, apptest.Auth(tok), 404, "NOT_FOUND"},
		{"redeem without key", "POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", id), nil, apptest.Auth(tok), 400, "INVALID"},
		{"redeem unknown item", "POST", "/api/v1/shopper/mall/items/999999/redemptions", nil, append(apptest.Auth(tok), "Idempotency-Key", "k"), 404, "NOT_FOUND"},
		{"redeem with console token", "POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", id), nil, append(append([]string{}, marketer...), "Idempotency-Key", "k"), 401, "UNAUTHORIZED"},
		{"redeem sold out (no codes)", "POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", id), nil, append(apptest.Auth(tok), "Idempotency-Key", "k2"), 422, "RULE_VIOLATION"},
		{"event on unknown redemption", "POST", "/api/v1/console/mall/redemptions/999999/events", `{"event":"cancel"}`, marketer, 404, "NOT_FOUND"},
		{"bad event", "POST", "/api/v1/console/mall/redemptions/1/events", `{"event":"explode"}`, marketer, 400, "INVALID"},
		{"auditor moves a redemption", "POST", "/api/v1/console/mall/redemptions/1/events", `{"event":"cancel"}`, auditor, 403, "FORBIDDEN"},
	}
	// Requests the spec itself forbids; the others are refused for what it
	// cannot express (auth, state, ids, cross-field rules).
	specInvalid := map[string]bool{"malformed JSON": true, "wrong type": true, "float points": true, "points past int64": true, "unknown field": true, "bad kind": true,
		"zero points": true, "negative stock": true, "duplicate tier": true, "duplicate tier on update": true, "duplicate store": true, "oversized": true, "codes as JSON": true, "bad limit": true,
		"redeem without key": true, "bad event": true}
	for _, c := range cases {
		r := h.Send(!specInvalid[c.name], c.method, c.path, c.body, c.headers...)
		if r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("%s: got %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
		// A repeated tier is named where it repeats.
		if f := map[string]string{"duplicate tier": "tiers[2]", "duplicate tier on update": "tiers[1]", "duplicate store": "stores[1]"}[c.name]; f != "" && r.Fields()[f] == nil {
			t.Errorf("%s: %s does not name %s", c.name, r.Body, f)
		}
		// A number that is no integer is named for what the field takes.
		if strings.HasPrefix(c.name, "float") || strings.HasSuffix(c.name, "int64") {
			if got := r.Fields()["points"]; got != "must be an integer" {
				t.Errorf("%s: points %q, want \"must be an integer\"", c.name, got)
			}
		}
	}
	if countRows(t, h, "mall_items") != items || countRows(t, h, "mall_codes") != codes || countRows(t, h, "mall_redemptions") != reds {
		t.Fatal("a refused request wrote rows")
	}
	if it, err := h.App.Mall.Item(context.Background(), pickupID); err != nil || len(it.Stores) != 1 || it.Stores[0] != store {
		t.Fatalf("a refused update changed the pickup item's stores: %+v %v", it, err)
	}
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 1000 {
		t.Fatalf("a refused redemption charged: %d", b.Available)
	}
}

func TestMallConsoleCancelGivesPointsAndStockBack(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	id := createMallItem(t, h, h.ConsoleLogin("admin"), `{"kind":"physical","name":"保温杯","category":"home","points":400,"stock":1,"enabled":true}`)
	tok, _, mid := h.Login(apptest.UniqueUser("mallcancel"))
	earn(t, h, mid, 1000)
	r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", id), nil, append(apptest.Auth(tok), "Idempotency-Key", "a")...)
	if r.Status != 201 {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	rid := int64(r.JSON()["redemption"].(map[string]any)["id"].(float64))
	ev := func(body string) *apptest.Response {
		return h.Do("POST", fmt.Sprintf("/api/v1/console/mall/redemptions/%d/events", rid), body, marketer...)
	}
	if r := ev(`{"event":"deliver"}`); r.Status != 409 {
		t.Fatalf("deliver before shipping: %d %s", r.Status, r.Body)
	}
	if r := ev(`{"event":"cancel","note":"缺货"}`); r.Status != 200 || r.JSON()["redemption"].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 1000 {
		t.Fatalf("points not back: %d", b.Available)
	}
	if it := h.Do("GET", fmt.Sprintf("/api/v1/console/mall/items/%d", id), nil, marketer...); it.JSON()["item"].(map[string]any)["sold"] != 0.0 {
		t.Fatalf("stock not back: %s", it.Body)
	}
	if r := ev(`{"event":"cancel"}`); r.Status != 409 {
		t.Fatalf("second cancel: %d %s", r.Status, r.Body)
	}
	// The unit is redeemable again; shipped, it needs a carrier and a number.
	r = h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", id), nil, append(apptest.Auth(tok), "Idempotency-Key", "b")...)
	if r.Status != 201 {
		t.Fatalf("redeem again: %d %s", r.Status, r.Body)
	}
	rid = int64(r.JSON()["redemption"].(map[string]any)["id"].(float64))
	if r := ev(`{"event":"ship","carrier":"顺丰"}`); r.Status != 400 {
		t.Fatalf("ship without number: %d %s", r.Status, r.Body)
	}
	if r := ev(`{"event":"ship","carrier":"顺丰","tracking_no":"SF1001"}`); r.Status != 200 || r.JSON()["redemption"].(map[string]any)["tracking_no"] != "SF1001" {
		t.Fatalf("ship: %d %s", r.Status, r.Body)
	}
	mine := h.Do("GET", "/api/v1/shopper/mall/redemptions", nil, apptest.Auth(tok)...)
	if rs := mine.JSON()["redemptions"].([]any); rs[0].(map[string]any)["status"] != "shipped" || rs[0].(map[string]any)["carrier"] != "顺丰" {
		t.Fatalf("shopper sees: %s", mine.Body)
	}
	if r := ev(`{"event":"deliver"}`); r.Status != 200 || r.JSON()["redemption"].(map[string]any)["status"] != "fulfilled" {
		t.Fatalf("deliver: %d %s", r.Status, r.Body)
	}
	if v, _ := h.App.Ledger.Check(context.Background(), mid); len(v) > 0 {
		t.Fatalf("ledger: %v", v)
	}
}

func TestMallReport(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	coupon := createMallItem(t, h, h.ConsoleLogin("admin"), couponItem)
	cup := createMallItem(t, h, h.ConsoleLogin("admin"), `{"kind":"physical","name":"保温杯","category":"home","points":400,"stock":50,"enabled":true}`)
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/mall/items/%d/codes", coupon), "A1\nA2\nA3\n", append(append([]string{}, marketer...), "Content-Type", "text/csv")...); r.Status != 200 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	tok, _, mid := h.Login(apptest.UniqueUser("mallrep"))
	earn(t, h, mid, 5000)
	for i, id := range []int64{coupon, cup, cup} {
		if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", id), nil, append(apptest.Auth(tok), "Idempotency-Key", fmt.Sprint("k", i))...); r.Status != 201 {
			t.Fatalf("redeem: %d %s", r.Status, r.Body)
		}
	}
	r := h.Do("GET", "/api/v1/console/mall/report?from=2026-11-23&to=2026-11-23&low_stock=1", nil, marketer...)
	if r.Status != 200 || r.JSON()["points_spent"] != 1100.0 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	days := r.JSON()["by_item_day"].([]any)
	if len(days) != 2 || days[1].(map[string]any)["redemptions"] != 2.0 || days[1].(map[string]any)["day"] != "2026-11-23" {
		t.Fatalf("by item and day: %s", r.Body)
	}
	pools := r.JSON()["code_pools"].([]any)
	if len(pools) != 1 || pools[0].(map[string]any)["codes_left"] != 2.0 {
		t.Fatalf("pools: %s", r.Body)
	}
	// The coupon item has 1 unit left (stock 2): low at threshold 1; the cup is not.
	low := r.JSON()["low_stock"].([]any)
	if len(low) != 1 || low[0].(map[string]any)["item_id"] != float64(coupon) {
		t.Fatalf("low stock: %s", r.Body)
	}
	for _, q := range []string{"from=2026-13-01", "from=2026-11-23&to=2026-11-01", "from=2026-01-01&to=2026-12-01", "low_stock=x", "low_stock=-1"} {
		if r := h.Send(!strings.HasPrefix(q, "low_stock"), "GET", "/api/v1/console/mall/report?"+q, nil, marketer...); r.Status != 400 {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	if r := h.Do("GET", "/api/v1/console/mall/report", nil, apptest.Auth(tok)...); r.Status != 401 {
		t.Fatalf("shopper token: %d", r.Status)
	}
}

// Per-member limits hold under concurrency (#18): one shopper sending many
// redemptions of one item at once, each with its own key, gets exactly the
// daily limit, then on the next day only what is left of the total; the
// refused are charged nothing. Another shopper's same keys are their own.
func TestMallLimitsHoldUnderConcurrentRedemptions(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createMallItem(t, h, h.ConsoleLogin("admin"),
		`{"kind":"physical","name":"限购杯","category":"home","points":100,"stock":100,"limit_daily":2,"limit_total":3,"enabled":true}`)
	user, other := apptest.UniqueUser("limits"), apptest.UniqueUser("limits2")
	tok, _, mid := h.Login(user)
	tok2, _, mid2 := h.Login(other)
	earn(t, h, mid, 1000)
	earn(t, h, mid2, 1000)
	rush := func(tok, round string, n int) map[int]int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		out := map[int]int{}
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", id), nil,
					append(apptest.Auth(tok), "Idempotency-Key", fmt.Sprint(round, "-", i))...)
				if r.Status != 201 && r.ErrorCode() != "RULE_VIOLATION" {
					t.Errorf("redeem %s-%d: %d %s", round, i, r.Status, r.Body)
				}
				mu.Lock()
				out[r.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		return out
	}
	if got := rush(tok, "day1", 20); got[201] != 2 || got[422] != 18 {
		t.Fatalf("day 1: %v; want 2 redeemed (limit_daily 2), 18 refused", got)
	}
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 800 {
		t.Fatalf("day 1 charged %d points, want 200", 1000-b.Available)
	}
	// The same keys are the other shopper's own.
	if got := rush(tok2, "day1", 3); got[201] != 2 || got[422] != 1 {
		t.Fatalf("another shopper with the same keys: %v", got)
	}
	h.Clock.Advance(24 * time.Hour)
	tok, _, _ = h.Login(user) // the access token expired meanwhile
	if got := rush(tok, "day2", 20); got[201] != 1 || got[422] != 19 {
		t.Fatalf("day 2: %v; want 1 redeemed (limit_total 3), 19 refused", got)
	}
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 700 {
		t.Fatalf("charged %d points in all, want 300", 1000-b.Available)
	}
	if rs, _, _ := h.App.Mall.MyRedemptions(context.Background(), mid, 100, 0); len(rs) != 3 {
		t.Fatalf("%d redemptions, want 3", len(rs))
	}
	if vs, _, err := mall.Check(context.Background(), mallAuditor(h), 100); err != nil || len(vs) > 0 {
		t.Fatalf("mall check: %v %v", vs, err)
	}
	for _, m := range []int64{mid, mid2} {
		if v, err := h.App.Ledger.Check(context.Background(), m); err != nil || len(v) > 0 {
			t.Fatalf("ledger check %d: %v %v", m, v, err)
		}
	}
}

// A refund from the console after shipping (before delivery) puts the
// points back into the very lots they came from, with their original
// expiry, gives the unit back and frees the member's limit; a refunded
// redemption moves no further and is not in the report.
func TestMallConsoleRefundAfterShippingGivesPointsBackToTheSameLots(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	id := createMallItem(t, h, h.ConsoleLogin("admin"),
		`{"kind":"physical","name":"退款杯","category":"home","points":250,"stock":1,"limit_total":1,"enabled":true}`)
	tok, _, mid := h.Login(apptest.UniqueUser("mallrefund"))
	ctx := context.Background()
	for i, days := range []int{30, 300} { // the first to expire is spent first
		if _, err := h.App.Ledger.Earn(ctx, ledger.EarnInput{MemberID: mid, Points: 200, Key: fmt.Sprint("refund-lot-", i),
			Ref: ledger.Ref{Type: "seed", ID: fmt.Sprint("refund-", i)}, ExpiresAt: h.Clock.Now().Add(time.Duration(days) * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := h.App.Ledger.Lots(ctx, mid, 10)
	if err != nil || len(before) != 2 {
		t.Fatalf("lots: %+v %v", before, err)
	}
	r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", id), nil, append(apptest.Auth(tok), "Idempotency-Key", "rf1")...)
	if r.Status != 201 {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	rid := int64(r.JSON()["redemption"].(map[string]any)["id"].(float64))
	ev := func(body string) *apptest.Response {
		return h.Do("POST", fmt.Sprintf("/api/v1/console/mall/redemptions/%d/events", rid), body, admin...)
	}
	if r := ev(`{"event":"ship","carrier":"顺丰","tracking_no":"SF2002"}`); r.Status != 200 {
		t.Fatalf("ship: %d %s", r.Status, r.Body)
	}
	if r := ev(`{"event":"cancel"}`); r.Status != 409 {
		t.Fatalf("cancel after shipping: %d %s", r.Status, r.Body)
	}
	if r := ev(`{"event":"refund","note":"退货"}`); r.Status != 200 || r.JSON()["redemption"].(map[string]any)["status"] != "refunded" {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	after, err := h.App.Ledger.Lots(ctx, mid, 10)
	if err != nil || len(after) != 2 {
		t.Fatalf("lots after refund: %+v %v", after, err)
	}
	for i := range before {
		if after[i].ID != before[i].ID || after[i].Remaining != before[i].Remaining || !after[i].ExpiresAt.Equal(before[i].ExpiresAt) {
			t.Fatalf("lot %d after refund %+v, before %+v", i, after[i], before[i])
		}
	}
	for _, e := range []string{`{"event":"refund"}`, `{"event":"deliver"}`, `{"event":"cancel"}`} {
		if r := ev(e); r.Status != 409 {
			t.Fatalf("%s after refund: %d %s", e, r.Status, r.Body)
		}
	}
	if b, _ := h.App.Ledger.Balance(ctx, mid); b.Available != 400 {
		t.Fatalf("balance after refund: %+v", b)
	}
	day := domain.DayOf(h.Clock.Now()).String()
	if r := h.Do("GET", "/api/v1/console/mall/report?from="+day+"&to="+day, nil, admin...); r.Status != 200 ||
		r.JSON()["points_spent"] != 0.0 || len(r.JSON()["by_item_day"].([]any)) != 0 {
		t.Fatalf("report after refund: %d %s", r.Status, r.Body)
	}
	// The unit and the member's limit are free again.
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", id), nil, append(apptest.Auth(tok), "Idempotency-Key", "rf2")...); r.Status != 201 {
		t.Fatalf("redeem after refund: %d %s", r.Status, r.Body)
	}
	if vs, _, err := mall.Check(ctx, mallAuditor(h), 100); err != nil || len(vs) > 0 {
		t.Fatalf("mall check: %v %v", vs, err)
	}
	if v, err := h.App.Ledger.Check(ctx, mid); err != nil || len(v) > 0 {
		t.Fatalf("ledger check: %v %v", v, err)
	}
}

// The catalogue shows what may still be redeemed: an item whose sales
// window has ended leaves it (its detail still answers, and says until
// when it was on sale); one not on sale yet is shown, its detail says from
// when.
func TestMallBrowseHidesItemsWhoseWindowEnded(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := h.ConsoleLogin("admin")
	now := h.Clock.Now()
	at := func(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }
	ending := createMallItem(t, h, admin, `{"kind":"virtual","name":"限时","category":"w","points":10,"stock":5,"enabled":true,"ends_at":"`+at(time.Hour)+`"}`)
	createMallItem(t, h, admin, `{"kind":"virtual","name":"常驻","category":"w","points":10,"stock":5,"enabled":true}`)
	createMallItem(t, h, admin, `{"kind":"virtual","name":"预告","category":"w","points":10,"stock":5,"enabled":true,"starts_at":"`+at(time.Hour)+`","ends_at":"`+at(48*time.Hour)+`"}`)
	user := apptest.UniqueUser("mallwin")
	tok, _, mid := h.Login(user)
	earn(t, h, mid, 100)
	names := func() []string {
		t.Helper()
		r := h.Do("GET", "/api/v1/shopper/mall/items?category=w", nil, apptest.Auth(tok)...)
		if r.Status != 200 {
			t.Fatalf("browse: %d %s", r.Status, r.Body)
		}
		var out []string
		for _, it := range r.JSON()["items"].([]any) {
			out = append(out, it.(map[string]any)["name"].(string))
		}
		return out
	}
	if got := fmt.Sprint(names()); got != "[预告 常驻 限时]" {
		t.Fatalf("before the end: %s", got)
	}
	h.Clock.Advance(2 * time.Hour)
	tok, _, _ = h.Login(user) // the access token expired meanwhile
	if got := fmt.Sprint(names()); got != "[预告 常驻]" {
		t.Fatalf("after the end: %s", got)
	}
	d := h.Do("GET", fmt.Sprintf("/api/v1/shopper/mall/items/%d", ending), nil, apptest.Auth(tok)...)
	if d.Status != 200 || d.JSON()["can_redeem"] != false || !strings.Contains(fmt.Sprint(d.JSON()["refusal"]), "until") {
		t.Fatalf("detail of the ended item: %d %s", d.Status, d.Body)
	}
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", ending), nil, append(apptest.Auth(tok), "Idempotency-Key", "late")...); r.Status != 422 {
		t.Fatalf("redeem the ended item: %d %s", r.Status, r.Body)
	}
	// The console still lists it.
	if r := h.Do("GET", "/api/v1/console/mall/items", nil, apptest.Auth(h.ConsoleLogin("admin"))...); r.Status != 200 || len(r.JSON()["items"].([]any)) != 3 {
		t.Fatalf("console list: %d %s", r.Status, r.Body)
	}
}

// The console finds the redemptions it fulfils: by status (paid: the
// queue to ship), item or member, newest first, keyset paged; any console
// role reads it, and bad filters are 400.
func TestMallConsoleListsRedemptionsToFulfil(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	cup := createMallItem(t, h, h.ConsoleLogin("admin"), `{"kind":"physical","name":"杯","category":"home","points":100,"stock":10,"enabled":true}`)
	gift := createMallItem(t, h, h.ConsoleLogin("admin"), `{"kind":"virtual","name":"权益","category":"home","points":10,"stock":10,"enabled":true}`)
	var toks []string
	var mids []int64
	for i := range 3 {
		tok, _, mid := h.Login(apptest.UniqueUser(fmt.Sprint("fulfil", i)))
		earn(t, h, mid, 1000)
		toks, mids = append(toks, tok), append(mids, mid)
	}
	redeem := func(tok string, item int64, key string) int64 {
		t.Helper()
		r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
		if r.Status != 201 {
			t.Fatalf("redeem: %d %s", r.Status, r.Body)
		}
		return int64(r.JSON()["redemption"].(map[string]any)["id"].(float64))
	}
	shipped, waiting, cancelled, virtual := redeem(toks[0], cup, "a"), redeem(toks[1], cup, "b"), redeem(toks[2], cup, "c"), redeem(toks[0], gift, "d")
	event := func(id int64, body string) {
		t.Helper()
		if r := h.Do("POST", fmt.Sprintf("/api/v1/console/mall/redemptions/%d/events", id), body, marketer...); r.Status != 200 {
			t.Fatalf("event %s: %d %s", body, r.Status, r.Body)
		}
	}
	event(shipped, `{"event":"ship","carrier":"顺丰","tracking_no":"SF3003"}`)
	event(cancelled, `{"event":"cancel"}`)
	list := func(query string, auth []string) (ids []int64, next any) {
		t.Helper()
		r := h.Do("GET", "/api/v1/console/mall/redemptions"+query, nil, auth...)
		if r.Status != 200 {
			t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
		}
		for _, x := range r.JSON()["redemptions"].([]any) {
			ids = append(ids, int64(x.(map[string]any)["id"].(float64)))
		}
		return ids, r.JSON()["next_cursor"]
	}
	want := func(query string, ids ...int64) {
		t.Helper()
		if got, _ := list(query, marketer); fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Errorf("%s: %v, want %v", query, got, ids)
		}
	}
	want("", virtual, cancelled, waiting, shipped)
	want(fmt.Sprintf("?status=paid&item_id=%d", cup), waiting)
	want("?status=shipped", shipped)
	want("?status=cancelled", cancelled)
	want(fmt.Sprintf("?member_id=%d", mids[0]), virtual, shipped)
	want(fmt.Sprintf("?item_id=%d&member_id=%d", gift, mids[1]))
	page1, next := list("?limit=3", apptest.Auth(h.ConsoleLogin("auditor")))
	if len(page1) != 3 || next == nil {
		t.Fatalf("page 1: %v %v", page1, next)
	}
	if page2, next2 := list(fmt.Sprintf("?limit=3&cursor=%v", next), marketer); fmt.Sprint(page2) != fmt.Sprint([]int64{shipped}) || next2 != nil {
		t.Fatalf("page 2: %v %v", page2, next2)
	}
	for _, c := range []struct {
		query     string
		auth      []string
		specValid bool
		status    int
	}{
		{"?status=lost", marketer, false, 400},
		{"?item_id=abc", marketer, false, 400},
		{"?member_id=0", marketer, false, 400},
		{"?cursor=abc", marketer, false, 400},
		{"", apptest.Auth(toks[0]), true, 401},
		{"", nil, true, 401},
	} {
		if r := h.Send(c.specValid, "GET", "/api/v1/console/mall/redemptions"+c.query, nil, c.auth...); r.Status != c.status {
			t.Errorf("%s: %d %s, want %d", c.query, r.Status, r.Body, c.status)
		}
	}
}
