package guide_test

import (
	"context"
	"fmt"
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
