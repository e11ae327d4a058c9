package shopper_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

// Make-up cards (补签卡): a virtual mall item credits them in the
// redemption's unit of work, and a make-up sign-in uses one before points.

func cardItem(qty, points int) string {
	return fmt.Sprintf(`{"kind":"virtual","name":"补签卡","category":"benefits","points":%d,"stock":100,"benefit":"makeup_card","benefit_qty":%d,"enabled":true}`, points, qty)
}

type makeupResp struct {
	Date        string `json:"date"`
	Streak      int    `json:"streak"`
	Balance     int64  `json:"balance"`
	PaidWith    string `json:"paid_with"`
	PointsSpent int64  `json:"points_spent"`
	MakeupCards int    `json:"makeup_cards"`
}

func makeupCards(t *testing.T, h *apptest.Harness, tok string) int {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/signin/calendar", nil, apptest.Auth(tok)...)
	if r.Status != http.StatusOK {
		t.Fatalf("calendar: %d %s", r.Status, r.Body)
	}
	return int(r.JSON()["makeup_cards"].(float64))
}

func redeemKey(h *apptest.Harness, tok string, item int64, key string) *apptest.Response {
	return h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
}

// Redeeming a card item spends the points and credits the cards once,
// however often (and however concurrently) the same key is sent; the
// redemption is fulfilled at once and cannot be cancelled or refunded.
func TestMallMakeupCardItemCreditsCardsOnce(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	id := createMallItem(t, h, h.ConsoleLogin("admin"), cardItem(3, 100))
	got := h.Do("GET", fmt.Sprintf("/api/v1/console/mall/items/%d", id), nil, marketer...)
	if it := got.JSON()["item"].(map[string]any); it["benefit"] != "makeup_card" || it["benefit_qty"] != 3.0 {
		t.Fatalf("console item: %s", got.Body)
	}
	tok, _, mid := h.Login(apptest.UniqueUser("cards"))
	earn(t, h, mid, 1000)
	detail := h.Do("GET", fmt.Sprintf("/api/v1/shopper/mall/items/%d", id), nil, apptest.Auth(tok)...)
	if it := detail.JSON()["item"].(map[string]any); detail.Status != 200 || it["benefit"] != "makeup_card" || it["benefit_qty"] != 3.0 {
		t.Fatalf("shopper item: %d %s", detail.Status, detail.Body)
	}
	if n := makeupCards(t, h, tok); n != 0 {
		t.Fatalf("cards before: %d", n)
	}

	var wg sync.WaitGroup
	answers := make([]*apptest.Response, 6)
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = redeemKey(h, tok, id, "card-1") }()
	}
	wg.Wait()
	var rid any
	for _, r := range answers {
		red, _ := r.JSON()["redemption"].(map[string]any)
		if r.Status != 201 || red["status"] != "fulfilled" {
			t.Fatalf("redeem: %d %s", r.Status, r.Body)
		}
		if rid != nil && red["id"] != rid {
			t.Fatalf("same key, two redemptions: %v and %v", rid, red["id"])
		}
		rid = red["id"]
	}
	if r := redeemKey(h, tok, id, "card-1"); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	if n := makeupCards(t, h, tok); n != 3 {
		t.Fatalf("cards after one redemption sent 7 times: %d, want 3", n)
	}
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 900 {
		t.Fatalf("balance: %d, want 900", b.Available)
	}
	if n := countRows(t, h, "mall_redemptions"); n != 1 {
		t.Fatalf("%d redemptions", n)
	}
	// A second key is a second unit: three more cards.
	if r := redeemKey(h, tok, id, "card-2"); r.Status != 201 {
		t.Fatalf("second redemption: %d %s", r.Status, r.Body)
	}
	if n := makeupCards(t, h, tok); n != 6 {
		t.Fatalf("cards after two: %d, want 6", n)
	}
	// Fulfilled at once: never cancelled or refunded, the cards stay.
	for _, ev := range []string{"cancel", "refund"} {
		r := h.Do("POST", fmt.Sprintf("/api/v1/console/mall/redemptions/%v/events", rid), `{"event":"`+ev+`"}`, marketer...)
		if r.Status != 409 || r.ErrorCode() != "CONFLICT" {
			t.Fatalf("%s a card redemption: %d %s", ev, r.Status, r.Body)
		}
	}
	if n := makeupCards(t, h, tok); n != 6 {
		t.Fatalf("cards after refused refund: %d", n)
	}
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 800 {
		t.Fatalf("balance: %d, want 800", b.Available)
	}
	// The benefit item never went through a group, even with group commit on.
	if _, grouped := h.App.Mall.GroupStats(); grouped != 0 {
		t.Fatalf("%d card redemptions grouped", grouped)
	}
	if v, _ := h.App.Ledger.Check(context.Background(), mid); len(v) > 0 {
		t.Fatalf("ledger: %v", v)
	}
}

// A refused redemption credits nothing: without the points, no cards.
func TestMallMakeupCardItemWithoutPointsCreditsNothing(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createMallItem(t, h, h.ConsoleLogin("admin"), cardItem(2, 500))
	tok, _, mid := h.Login(apptest.UniqueUser("cardpoor"))
	earn(t, h, mid, 499)
	if r := redeemKey(h, tok, id, "k"); r.Status != 422 || r.ErrorCode() != "POINTS_INSUFFICIENT" {
		t.Fatalf("redeem without points: %d %s", r.Status, r.Body)
	}
	if n := makeupCards(t, h, tok); n != 0 {
		t.Fatalf("cards: %d", n)
	}
}

// A make-up uses a card before points; without one it pays points as
// before.
func TestSigninMakeupUsesCardBeforePoints(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createMallItem(t, h, h.ConsoleLogin("admin"), cardItem(1, 100))
	user := apptest.UniqueUser("cardmakeup")
	tok, _, mid := h.LoginJoined(user, apptest.MonthStart)
	earn(t, h, mid, 200)
	if r := redeemKey(h, tok, id, "k"); r.Status != 201 {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	cost := h.Config.Engage.Signin.MakeupCost
	mk := func(date string) makeupResp {
		t.Helper()
		r := h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"`+date+`"}`, apptest.Auth(tok)...)
		if r.Status != 201 {
			t.Fatalf("makeup %s: %d %s", date, r.Status, r.Body)
		}
		var m makeupResp
		r.Decode(t, &m)
		return m
	}
	if m := mk("2026-11-20"); m.PaidWith != "card" || m.PointsSpent != 0 || m.MakeupCards != 0 || m.Balance != 100 {
		t.Fatalf("makeup with a card: %+v", m)
	}
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 100 {
		t.Fatalf("a card make-up charged points: %d", b.Available)
	}
	if m := mk("2026-11-19"); m.PaidWith != "points" || m.PointsSpent != cost || m.MakeupCards != 0 || m.Balance != 100-cost {
		t.Fatalf("makeup without a card: %+v (cost %d)", m, cost)
	}
	c := calendar(t, h, tok, "")
	if n := makeupCards(t, h, tok); n != 0 || c.MakeupsLeft != h.Config.Engage.Signin.MakeupsPerMonth-2 {
		t.Fatalf("calendar: cards %d, %+v", n, c)
	}
	// The day is taken: a retry is 409 and uses nothing.
	if r := h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"2026-11-20"}`, apptest.Auth(tok)...); r.Status != 409 {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 100-cost {
		t.Fatalf("balance after retry: %d", b.Available)
	}
}

// Ten make-ups of different days at once with three cards: exactly three
// use a card, the rest pay points while they last and are refused after;
// the count never goes below zero.
func TestSigninConcurrentMakeupsShareThreeCards(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) { c.Engage.Signin.MakeupsPerMonth = 20 })
	id := createMallItem(t, h, h.ConsoleLogin("admin"), cardItem(3, 100))
	tok, _, mid := h.LoginJoined(apptest.UniqueUser("cardrace"), apptest.MonthStart)
	cost := h.Config.Engage.Signin.MakeupCost
	earn(t, h, mid, 100+5*cost) // the item, then five make-ups in points
	if r := redeemKey(h, tok, id, "k"); r.Status != 201 {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	var wg sync.WaitGroup
	answers := make([]*apptest.Response, 10)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = h.Do("POST", "/api/v1/shopper/signin/makeup", fmt.Sprintf(`{"date":"2026-11-%02d"}`, i+1), apptest.Auth(tok)...)
		}()
	}
	wg.Wait()
	cards, points, poor := 0, 0, 0
	for i, r := range answers {
		switch {
		case r.Status == 201 && r.JSON()["paid_with"] == "card":
			cards++
			if r.JSON()["points_spent"] != 0.0 || r.JSON()["makeup_cards"].(float64) < 0 {
				t.Errorf("day %d: %s", i+1, r.Body)
			}
		case r.Status == 201 && r.JSON()["paid_with"] == "points":
			points++
			if r.JSON()["points_spent"] != float64(cost) {
				t.Errorf("day %d: %s", i+1, r.Body)
			}
		case r.Status == 422 && r.ErrorCode() == "POINTS_INSUFFICIENT":
			poor++
		default:
			t.Errorf("day %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	if cards != 3 || points != 5 || poor != 2 {
		t.Fatalf("cards %d, points %d, refused %d; want 3, 5, 2", cards, points, poor)
	}
	if n := makeupCards(t, h, tok); n != 0 {
		t.Fatalf("cards left: %d", n)
	}
	if b, _ := h.App.Ledger.Balance(context.Background(), mid); b.Available != 0 {
		t.Fatalf("balance: %d", b.Available)
	}
	if c := calendar(t, h, tok, ""); len(c.SignedDays) != 8 {
		t.Fatalf("signed days: %v", c.SignedDays)
	}
	if v, _ := h.App.Ledger.Check(context.Background(), mid); len(v) > 0 {
		t.Fatalf("ledger: %v", v)
	}
}

// Invalid benefit fields are 400 naming the field, and write nothing.
func TestMallBenefitBadInput(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	id := createMallItem(t, h, h.ConsoleLogin("admin"), cardItem(1, 100))
	items := countRows(t, h, "mall_items")
	base := `"name":"x","category":"c","points":3,"stock":1`
	cases := []struct {
		name, body, field string
		specValid         bool
	}{
		{"unknown benefit", `{"kind":"virtual",` + base + `,"benefit":"lottery","benefit_qty":1}`, "benefit", false},
		{"benefit on a coupon", `{"kind":"coupon",` + base + `,"benefit":"makeup_card","benefit_qty":1}`, "benefit", true},
		{"no quantity", `{"kind":"virtual",` + base + `,"benefit":"makeup_card"}`, "benefit_qty", true},
		{"quantity too big", `{"kind":"virtual",` + base + `,"benefit":"makeup_card","benefit_qty":101}`, "benefit_qty", false},
		{"quantity without benefit", `{"kind":"virtual",` + base + `,"benefit_qty":2}`, "benefit_qty", true},
		{"benefit with cash", `{"kind":"virtual",` + base + `,"cash_fen":100,"benefit":"makeup_card","benefit_qty":1}`, "cash_fen", true},
	}
	for _, c := range cases {
		for _, method := range []string{"POST", "PUT"} {
			path := "/api/v1/console/mall/items"
			if method == "PUT" {
				path = fmt.Sprintf("%s/%d", path, id)
			}
			r := h.Send(c.specValid, method, path, c.body, marketer...)
			if r.Status != 400 || r.ErrorCode() != "INVALID" || r.Fields()[c.field] == nil {
				t.Errorf("%s (%s): %d %s, want 400 naming %s", c.name, method, r.Status, r.Body, c.field)
			}
		}
	}
	if countRows(t, h, "mall_items") != items {
		t.Fatal("a refused item was written")
	}
	it, err := h.App.Mall.Item(context.Background(), id)
	if err != nil || it.Benefit != "makeup_card" || it.BenefitQty != 1 {
		t.Fatalf("a refused update changed the item: %+v %v", it, err)
	}
	// A valid update changes the quantity.
	r := h.Do("PUT", fmt.Sprintf("/api/v1/console/mall/items/%d", id), cardItem(5, 100), marketer...)
	if r.Status != 200 || r.JSON()["item"].(map[string]any)["benefit_qty"] != 5.0 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
}
