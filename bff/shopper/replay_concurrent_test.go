package shopper_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// sendAtOnce sends one request n times at once and returns the answers.
func sendAtOnce(h *apptest.Harness, n int, path string, headers ...string) []*apptest.Response {
	out := make([]*apptest.Response, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = h.Do("POST", path, nil, headers...)
		}()
	}
	wg.Wait()
	return out
}

// A client that sends its request again while the first is still being
// worked (a double tap, a retry after a timeout) sends the same
// Idempotency-Key: every copy answers the one redemption or draw, even
// when that one used the member's last chance. The copies used to take
// the Redis gate's limit slots too, and those turned away answered 422
// "limit reached" for a request that had in fact succeeded.
func TestConcurrentCopiesOfOneKeyAnswerTheFirstEvenAtTheLimit(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := h.ConsoleLogin("admin")
	item := createMallItem(t, h, admin, `{"kind":"virtual","name":"会员日券","category":"c","points":10,"stock":1000,"limit_total":1,"enabled":true}`)
	camp := createCampaign(t, h, `{"name":"抽奖","starts_at":"2026-11-23T00:00:00+08:00","ends_at":"2026-12-23T00:00:00+08:00",
"cost_points":10,"limit_daily":1,"prizes":[{"name":"谢谢参与","kind":"nothing","weight":1}]}`)
	const copies = 30
	for round := 0; round < 5; round++ {
		tok, _, member := h.Login(apptest.UniqueUser("copies"))
		earn(t, h, member, 1000)
		for _, c := range []struct{ what, path, field string }{
			{"redemption", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), "redemption"},
			{"draw", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", camp), "draw"},
		} {
			var first float64
			for _, r := range sendAtOnce(h, copies, c.path, append(apptest.Auth(tok), "Idempotency-Key", "same-"+c.what)...) {
				if r.Status != 201 && r.Status != 200 {
					t.Fatalf("round %d, a copy of the %s: %d %s", round, c.what, r.Status, r.Body)
				}
				id := r.JSON()[c.field].(map[string]any)["id"].(float64)
				if first == 0 {
					first = id
				} else if id != first {
					t.Fatalf("round %d: two %ss (%v, %v) for one key", round, c.what, first, id)
				}
			}
		}
		me := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
		if got := me.JSON()["points"].(map[string]any)["available"]; got != 980.0 {
			t.Fatalf("round %d: %v points left, want 980 (each charged once)", round, got)
		}
	}
}
