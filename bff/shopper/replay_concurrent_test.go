package shopper_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo/ledgerstore"
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

// holdAccount keeps the member's ledger account locked (on SQLite: the
// database's write lock) until the returned function is called, so that a
// draw or redemption that has passed the Redis gate stays in flight, its
// unit of work waiting for the lock, for as long as the test likes.
func holdAccount(t *testing.T, h *apptest.Harness, member int64) (release func()) {
	t.Helper()
	locked, done, ended := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	st := &ledgerstore.Store{DB: h.Env.DB}
	go func() {
		ended <- h.Env.DB.InTx(context.Background(), func(ctx context.Context) error {
			return st.UpdateAccount(ctx, member, false, func(context.Context, *ledger.Account, ledger.LiveRead) error {
				close(locked)
				<-done
				return errHeld // rolled back: nothing changes
			})
		})
	}()
	select {
	case <-locked:
	case err := <-ended:
		t.Fatalf("lock the account of member %d: %v", member, err)
	}
	return func() {
		close(done)
		if err := <-ended; !errors.Is(err, errHeld) {
			t.Errorf("the account lock of member %d ended with %v", member, err)
		}
	}
}

var errHeld = errors.New("held for the test, rolled back")

// Two instances of the service over one database and one Redis (as three
// `jifen serve` behind a load balancer): copies of one request, one per
// instance, each guarded only by its own instance's per-process lock. The
// copy that reaches the Redis gate first holds the member's last draw (or
// unit) while its transaction waits; the other is turned away by that
// reservation and used to look for the key's record before the first had
// committed, find none and answer 422 "you have used all 1 draws" for a
// request that succeeded. Now it waits for the copy in flight and answers
// its replay.
func TestCopiesOfOneKeyOnTwoInstancesAnswerTheFirstAtTheLimit(t *testing.T) {
	t.Parallel()
	h1 := apptest.New(t)
	h2 := apptest.NewOn(t, h1.Env) // a second instance: its own services, the same stores
	admin := h1.ConsoleLogin("admin")
	item := createMallItem(t, h1, admin, `{"kind":"virtual","name":"一人一件","category":"c","points":10,"stock":1000,"limit_total":1,"enabled":true}`)
	camp := createCampaign(t, h1, `{"name":"一次机会","starts_at":"2026-11-23T00:00:00+08:00","ends_at":"2026-12-23T00:00:00+08:00",
"cost_points":10,"limit_total":1,"prizes":[{"name":"谢谢参与","kind":"nothing","weight":1}]}`)
	for round := 0; round < 3; round++ {
		tok, _, member := h1.Login(apptest.UniqueUser("copies2"))
		earn(t, h1, member, 1000)
		for _, c := range []struct{ what, path, field string }{
			{"redemption", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), "redemption"},
			{"draw", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", camp), "draw"},
		} {
			headers := append(apptest.Auth(tok), "Idempotency-Key", "same-"+c.what)
			release := holdAccount(t, h1, member)
			out := make([]*apptest.Response, 4)
			var wg sync.WaitGroup
			for i := range out {
				h := []*apptest.Harness{h1, h2}[i%2]
				wg.Add(1)
				go func() {
					defer wg.Done()
					out[i] = h.Do("POST", c.path, nil, headers...)
				}()
			}
			// Every copy has reached the gate by now: the first holds the
			// member's one chance, its transaction waiting for the lock.
			time.Sleep(300 * time.Millisecond)
			release()
			wg.Wait()
			var first float64
			for i, r := range out {
				if r.Status != 201 && r.Status != 200 {
					t.Fatalf("round %d, copy %d of the %s (instance %d): %d %s", round, i, c.what, i%2+1, r.Status, r.Body)
				}
				id := r.JSON()[c.field].(map[string]any)["id"].(float64)
				if first == 0 {
					first = id
				} else if id != first {
					t.Fatalf("round %d: two %ss (%v, %v) for one key", round, c.what, first, id)
				}
			}
		}
		me := h2.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
		if got := me.JSON()["points"].(map[string]any)["available"]; got != 980.0 {
			t.Fatalf("round %d: %v points left, want 980 (each charged once)", round, got)
		}
	}

	// A first copy that fails gives its reservation back, and the copy
	// waiting for it is then decided on its own at once: too few points
	// for both, not a wait of domain.CopyWindow ending in 409.
	tok, _, member := h1.Login(apptest.UniqueUser("copies2poor"))
	earn(t, h1, member, 5)
	for _, path := range []string{fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", camp)} {
		headers := append(apptest.Auth(tok), "Idempotency-Key", "poor")
		release := holdAccount(t, h1, member)
		out := make([]*apptest.Response, 2)
		var wg sync.WaitGroup
		start := time.Now()
		for i, h := range []*apptest.Harness{h1, h2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = h.Do("POST", path, nil, headers...)
			}()
		}
		time.Sleep(300 * time.Millisecond)
		release()
		wg.Wait()
		for i, r := range out {
			if r.Status != 422 || r.ErrorCode() != "POINTS_INSUFFICIENT" {
				t.Fatalf("%s, the copy sent to instance %d: %d %s, want 422 POINTS_INSUFFICIENT", path, i+1, r.Status, r.Body)
			}
		}
		if took := time.Since(start); took > domain.CopyWindow/2 {
			t.Fatalf("%s: the copies took %v: the one turned away waited for a copy that had failed", path, took)
		}
	}
}

// The reviewer's run, as three `jifen serve` behind a load balancer: 16
// members at a time, each sending one draw and one redemption (limits of
// 1) three times with one key, one copy per instance. Every copy answers
// the member's one draw and one redemption, charged once. Before copies
// were marked in the gates this answered 422 to about half the copies.
func TestCopiesOfOneKeyOnThreeInstancesAtOnce(t *testing.T) {
	t.Parallel()
	h1 := apptest.New(t)
	hs := []*apptest.Harness{h1, apptest.NewOn(t, h1.Env), apptest.NewOn(t, h1.Env)}
	admin := h1.ConsoleLogin("admin")
	item := createMallItem(t, h1, admin, `{"kind":"virtual","name":"一人一件","category":"c","points":10,"stock":1000,"limit_total":1,"enabled":true}`)
	camp := createCampaign(t, h1, `{"name":"一次机会","starts_at":"2026-11-23T00:00:00+08:00","ends_at":"2026-12-23T00:00:00+08:00",
"cost_points":10,"limit_total":1,"prizes":[{"name":"谢谢参与","kind":"nothing","weight":1}]}`)
	kinds := []struct{ what, path, field string }{
		{"redemption", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), "redemption"},
		{"draw", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", camp), "draw"},
	}
	for round := 0; round < 2; round++ {
		const members = 16
		toks := make([]string, members)
		for m := range toks {
			var member int64
			toks[m], _, member = h1.Login(apptest.UniqueUser("copies3"))
			earn(t, h1, member, 1000)
		}
		out := make([][][]*apptest.Response, members) // member, kind, instance
		var wg sync.WaitGroup
		for m := range out {
			out[m] = make([][]*apptest.Response, len(kinds))
			for k, c := range kinds {
				out[m][k] = make([]*apptest.Response, len(hs))
				for i, h := range hs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						out[m][k][i] = h.Do("POST", c.path, nil, append(apptest.Auth(toks[m]), "Idempotency-Key", "one-"+c.what)...)
					}()
				}
			}
		}
		wg.Wait()
		for m := range out {
			for k, c := range kinds {
				var first float64
				for i, r := range out[m][k] {
					if r.Status != 201 {
						t.Fatalf("round %d, member %d, the copy of the %s sent to instance %d: %d %s", round, m, c.what, i+1, r.Status, r.Body)
					}
					id := r.JSON()[c.field].(map[string]any)["id"].(float64)
					if first == 0 {
						first = id
					} else if id != first {
						t.Fatalf("round %d, member %d: two %ss (%v, %v) for one key", round, m, c.what, first, id)
					}
				}
			}
			me := hs[m%len(hs)].Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(toks[m])...)
			if got := me.JSON()["points"].(map[string]any)["available"]; got != 980.0 {
				t.Fatalf("round %d, member %d: %v points left, want 980 (each charged once)", round, m, got)
			}
		}
	}
}
