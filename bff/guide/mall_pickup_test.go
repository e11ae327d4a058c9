package guide_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/ledger"
)

// pickupWorld adds a second store with its own guide and a pickup item
// collected only in the first store, then redeems it for a shopper.
func pickupWorld(t *testing.T, mutate ...func(*configs.Config)) (w *world, otherTok, code string) {
	w = setup(t, 1000, mutate...)
	r := w.h.Do("POST", "/api/v1/console/stores", `{"name":"徐汇店","robot_key":"robot-xuhui"}`, apptest.Auth(w.admin)...)
	if r.Status != 201 {
		t.Fatalf("create store: %d %s", r.Status, r.Body)
	}
	other := int64(r.JSON()["store"].(map[string]any)["id"].(float64))
	body := fmt.Sprintf(`{"userid":%q,"name":"导购","store_id":%d,"monthly_budget":0}`, apptest.UniqueUser("gx"), other)
	r = w.h.Do("POST", "/api/v1/console/guides", body, apptest.Auth(w.admin)...)
	if r.Status != 201 {
		t.Fatalf("create guide: %d %s", r.Status, r.Body)
	}
	otherTok = w.login(r.JSON()["guide"].(map[string]any)["userid"].(string))

	item := fmt.Sprintf(`{"kind":"pickup","name":"门店礼盒","category":"gifts","points":200,"stock":3,"stores":[%d],"enabled":true}`, w.store)
	r = w.h.Do("POST", "/api/v1/console/mall/items", item, apptest.Auth(w.admin)...)
	if r.Status != 201 {
		t.Fatalf("create item: %d %s", r.Status, r.Body)
	}
	itemID := int64(r.JSON()["item"].(map[string]any)["id"].(float64))
	tok, _, mid := w.h.Login(apptest.UniqueUser("pick"))
	if _, err := w.h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: mid, Points: 500, Key: "seed", Ref: ledger.Ref{Type: "seed", ID: "1"}}); err != nil {
		t.Fatal(err)
	}
	r = w.h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", itemID), nil, append(apptest.Auth(tok), "Idempotency-Key", "p1")...)
	if r.Status != 201 {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	return w, otherTok, r.JSON()["redemption"].(map[string]any)["pickup_code"].(string)
}

func TestPickupCodeOnceAndOnlyInItsStore(t *testing.T) {
	t.Parallel()
	w, otherTok, code := pickupWorld(t)
	verify := func(tok, body string) *apptest.Response {
		bad := body == `{"code":` || body == `{"code":123}` || body == `{}`
		return w.h.Send(!bad, "POST", "/api/v1/guide/mall/pickups", body, apptest.Auth(tok)...)
	}
	for _, c := range []struct {
		name, tok, body string
		status          int
		code            string
	}{
		{"malformed", w.aTok, `{"code":`, 400, "INVALID"},
		{"wrong type", w.aTok, `{"code":123}`, 400, "INVALID"},
		{"missing code", w.aTok, `{}`, 400, "INVALID"},
		{"unknown code", w.aTok, `{"code":"0000000000"}`, 404, "NOT_FOUND"},
		{"no token", "", fmt.Sprintf(`{"code":%q}`, code), 401, "UNAUTHORIZED"},
		{"console token", w.admin, fmt.Sprintf(`{"code":%q}`, code), 401, "UNAUTHORIZED"},
		{"other store's guide", otherTok, fmt.Sprintf(`{"code":%q}`, code), 403, "FORBIDDEN"},
	} {
		if r := verify(c.tok, c.body); r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
	}
	r := verify(w.aTok, fmt.Sprintf(`{"code":%q}`, code))
	if r.Status != 200 || r.JSON()["pickup"].(map[string]any)["status"] != "fulfilled" {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	if r := verify(w.bTok, fmt.Sprintf(`{"code":%q}`, code)); r.Status != 409 {
		t.Fatalf("second use: %d %s", r.Status, r.Body)
	}
}

func TestPickupCodeInAnyStoreWhenConfigured(t *testing.T) {
	t.Parallel()
	w, otherTok, code := pickupWorld(t, func(c *configs.Config) { c.Mall.PickupAnyStore = true })
	r := w.h.Do("POST", "/api/v1/guide/mall/pickups", fmt.Sprintf(`{"code":%q}`, code), apptest.Auth(otherTok)...)
	if r.Status != 200 {
		t.Fatalf("verify in another store: %d %s", r.Status, r.Body)
	}
}

// A guide disabled in the console keeps their token until it expires, but
// it no longer verifies pickup codes (核销), as it no longer reads /me or
// grants points: the code stays unused and the redemption unchanged.
func TestPickupCodeRefusedToADisabledGuide(t *testing.T) {
	t.Parallel()
	w, _, code := pickupWorld(t)
	if r := w.h.Do("PATCH", fmt.Sprintf("/api/v1/console/guides/%d", w.a.ID), `{"status":"disabled"}`, apptest.Auth(w.admin)...); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	r := w.h.Do("POST", "/api/v1/guide/mall/pickups", fmt.Sprintf(`{"code":%q}`, code), apptest.Auth(w.aTok)...)
	if r.Status != 403 || r.ErrorCode() != "FORBIDDEN" {
		t.Fatalf("disabled guide verifies: %d %s", r.Status, r.Body)
	}
	// The code is still good for an active guide of the store.
	r = w.h.Do("POST", "/api/v1/guide/mall/pickups", fmt.Sprintf(`{"code":%q}`, code), apptest.Auth(w.bTok)...)
	if r.Status != 200 || r.JSON()["pickup"].(map[string]any)["status"] != "fulfilled" {
		t.Fatalf("active guide after the refusal: %d %s", r.Status, r.Body)
	}
}

// The code works once even when the shopper shows it to every guide of the
// store at the same moment: one verification, every other answer 409, and
// a code whose redemption the console cancelled works for nobody.
func TestPickupCodeOnceUnderConcurrentVerifications(t *testing.T) {
	t.Parallel()
	w, _, code := pickupWorld(t)
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	body := fmt.Sprintf(`{"code":%q}`, code)
	for i := range n {
		tok := w.aTok
		if i%2 == 1 {
			tok = w.bTok
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := w.h.Do("POST", "/api/v1/guide/mall/pickups", body, apptest.Auth(tok)...)
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[200] != 1 || statuses[409] != n-1 {
		t.Fatalf("%d concurrent verifications of one code answered %v; want one 200, the rest 409", n, statuses)
	}

	// A second pickup redemption, cancelled in the console before pickup.
	item := fmt.Sprintf(`{"kind":"pickup","name":"礼盒二","category":"gifts","points":100,"stock":3,"stores":[%d],"enabled":true}`, w.store)
	r := w.h.Do("POST", "/api/v1/console/mall/items", item, apptest.Auth(w.admin)...)
	if r.Status != 201 {
		t.Fatalf("create item: %d %s", r.Status, r.Body)
	}
	tok, _, mid := w.h.Login(apptest.UniqueUser("pickc"))
	if _, err := w.h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: mid, Points: 100, Key: "seed-cancelled", Ref: ledger.Ref{Type: "seed", ID: "2"}}); err != nil {
		t.Fatal(err)
	}
	r = w.h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%v/redemptions", r.JSON()["item"].(map[string]any)["id"]), nil,
		append(apptest.Auth(tok), "Idempotency-Key", "c1")...)
	if r.Status != 201 {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	red := r.JSON()["redemption"].(map[string]any)
	if r := w.h.Do("POST", fmt.Sprintf("/api/v1/console/mall/redemptions/%v/events", red["id"]), `{"event":"cancel"}`, apptest.Auth(w.admin)...); r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if r := w.h.Do("POST", "/api/v1/guide/mall/pickups", fmt.Sprintf(`{"code":%q}`, red["pickup_code"]), apptest.Auth(w.aTok)...); r.Status != 409 {
		t.Fatalf("the code of a cancelled redemption: %d %s", r.Status, r.Body)
	}
	mine := w.h.Do("GET", "/api/v1/shopper/mall/redemptions", nil, apptest.Auth(tok)...)
	if rs := mine.JSON()["redemptions"].([]any); len(rs) != 1 || rs[0].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("after the refused verification: %s", mine.Body)
	}
	if b, _ := w.h.App.Ledger.Balance(context.Background(), mid); b.Available != 100 {
		t.Fatalf("points after cancel: %+v", b)
	}
}
