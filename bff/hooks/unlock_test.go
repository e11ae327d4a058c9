package hooks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// guideOf creates a store and a guide and returns the guide's WeCom userid
// and binding scene.
func guideOf(h *apptest.Harness, admin string) (userID, scene string) {
	h.T.Helper()
	r := h.Do("POST", "/api/v1/console/stores", `{"name":"静安店"}`, apptest.Auth(admin)...)
	if r.Status != 201 {
		h.T.Fatalf("create store: %d %s", r.Status, r.Body)
	}
	store := int64(r.JSON()["store"].(map[string]any)["id"].(float64))
	userID = apptest.UniqueUser("guide")
	r = h.Do("POST", "/api/v1/console/guides", fmt.Sprintf(`{"userid":%q,"name":"导购","store_id":%d,"monthly_budget":100}`, userID, store), apptest.Auth(admin)...)
	if r.Status != 201 {
		h.T.Fatalf("create guide: %d %s", r.Status, r.Body)
	}
	return userID, r.JSON()["guide"].(map[string]any)["scene"].(string)
}

func guideLogin(h *apptest.Harness, userID string) string {
	h.T.Helper()
	r := h.Do("POST", "/api/v1/guide/login", fmt.Sprintf(`{"code":"sim-wecom:%s:%d"}`, userID, time.Now().UnixNano()))
	if r.Status != 200 {
		h.T.Fatalf("guide login: %d %s", r.Status, r.Body)
	}
	return r.JSON()["access_token"].(string)
}

func shopperLogin(h *apptest.Harness, user, scene string) (tok string, id int64) {
	h.T.Helper()
	r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(user), "scene": scene})
	if r.Status != 200 {
		h.T.Fatalf("shopper login: %d %s", r.Status, r.Body)
	}
	return r.JSON()["access_token"].(string), int64(r.JSON()["member"].(map[string]any)["id"].(float64))
}

// Order points become available when the return window ends, with nothing
// else happening: whoever reads the member's points — the shopper, the
// console, their guide — sees them available, and the journal says when.
func TestOrderPointsUnlockOnTheirOwnWhenTheReturnWindowEnds(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	admin := h.ConsoleLogin("admin")
	createRule(h, admin, baseRule)
	guide, scene := guideOf(h, admin)
	user := apptest.UniqueUser("window")
	_, id := shopperLogin(h, user, scene)
	paidAt := h.Clock.Now()
	if r := post(h, paid("ev-w", "O-W", byID(id), paidAt, 12000)); r.Status != 200 || r.JSON()["points_awarded"].(float64) != 120 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}

	h.Clock.Set(paidAt.Add(h.Config.Orders.ReturnWindow + time.Minute))
	tok, _ := shopperLogin(h, user, "")
	r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	pts := r.JSON()["points"].(map[string]any)
	if pts["available"].(float64) != 120 || pts["pending"].(float64) != 0 {
		t.Fatalf("/me a minute after the window: %v, want 120 available", pts)
	}

	r = h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/ledger", id), nil, apptest.Auth(h.ConsoleLogin("auditor"))...)
	if r.Status != 200 {
		t.Fatalf("console ledger: %d %s", r.Status, r.Body)
	}
	var led struct {
		Account struct{ Available, Pending int64 }
		Entries []struct {
			Kind      string
			Amount    int64
			CreatedAt time.Time `json:"created_at"`
		}
	}
	r.Decode(t, &led)
	if led.Account.Available != 120 || led.Account.Pending != 0 || len(led.Entries) == 0 ||
		led.Entries[0].Kind != "unlock" || led.Entries[0].Amount != 120 {
		t.Fatalf("console ledger %s, want 120 available and the unlock entry first", r.Body)
	}

	r = h.Do("GET", fmt.Sprintf("/api/v1/guide/customers/%d", id), nil, apptest.Auth(guideLogin(h, guide))...)
	if r.Status != 200 {
		t.Fatalf("guide customer: %d %s", r.Status, r.Body)
	}
	if got := r.JSON()["customer"].(map[string]any)["available"]; got != 120.0 {
		t.Fatalf("guide sees %v available, want 120: %s", got, r.Body)
	}
}

// Members nobody looks at get their points too: serve's scheduler releases
// them within its next tick, so the expiry reminders count them.
func TestServeSchedulerReleasesPendingPointsNobodyReads(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("admin"), baseRule)
	ids := make([]int64, 3)
	paidAt := h.Clock.Now()
	for i := range ids {
		_, _, ids[i] = h.Login(apptest.UniqueUser("quiet"))
		if r := post(h, paid(fmt.Sprintf("ev-q%d", i), fmt.Sprintf("O-Q%d", i), byID(ids[i]), paidAt, 10000)); r.Status != 200 {
			t.Fatalf("paid: %d %s", r.Status, r.Body)
		}
	}
	h.Clock.Set(paidAt.Add(h.Config.Orders.ReturnWindow + time.Minute))
	ctx := context.Background()
	h.App.Reminder.Scheduler.Tick(ctx)

	now := h.Clock.Now()
	audience, err := h.App.Ledger.ExpiringBetween(ctx, now, now.AddDate(3, 0, 0), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]int64{}
	for _, m := range audience {
		got[m.MemberID] = m.Amount
	}
	for _, id := range ids {
		if got[id] != 100 {
			t.Fatalf("member %d counts %d expiring points after the scheduler's tick, want 100 (audience %v)", id, got[id], audience)
		}
	}
}

// A guide sees the customer's real tier, not a placeholder.
func TestGuideSeesTheCustomersRealTier(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	admin := h.ConsoleLogin("admin")
	guide, scene := guideOf(h, admin)
	_, id := shopperLogin(h, apptest.UniqueUser("tiered"), scene)
	if r := post(h, paid("ev-t", "O-T", byID(id), h.Clock.Now(), 110000)); r.Status != 200 { // 1,100 元 → 银卡
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	r := h.Do("GET", fmt.Sprintf("/api/v1/guide/customers/%d", id), nil, apptest.Auth(guideLogin(h, guide))...)
	if r.Status != 200 || r.JSON()["customer"].(map[string]any)["tier"] != "silver" {
		t.Fatalf("guide's customer view: %d %s, want tier silver", r.Status, r.Body)
	}
}
