package hooks_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

// orders.return_window: 0 means no return window: the points of a paid
// order are available at once (it used to fall back to 7 days silently).
func TestZeroReturnWindowMakesOrderPointsAvailableAtOnce(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret, func(c *configs.Config) { c.Orders.ReturnWindow = 0 })
	createRule(h, h.ConsoleLogin("admin"), baseRule)
	tok, _, id := h.Login(apptest.UniqueUser("rw0"))
	if r := post(h, paid("rw0-1", "O-RW0", byID(id), h.Clock.Now(), 12_300)); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	if b := balance(h, id); b.Available != 123 || b.Pending != 0 {
		t.Fatalf("balance %+v, want 123 available and nothing pending", b)
	}
	r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
	var me struct {
		Points struct{ Available, Pending int64 }
	}
	r.Decode(t, &me)
	if r.Status != 200 || me.Points.Available != 123 || me.Points.Pending != 0 {
		t.Fatalf("/me: %d %s", r.Status, r.Body)
	}
	// A window still delays: 1h keeps them pending until then.
	h2 := apptest.New(t, withSecret, func(c *configs.Config) { c.Orders.ReturnWindow = time.Hour })
	createRule(h2, h2.ConsoleLogin("admin"), baseRule)
	_, _, id2 := h2.Login(apptest.UniqueUser("rw1"))
	if r := post(h2, paid("rw1-1", "O-RW1", byID(id2), h2.Clock.Now(), 12_300)); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	if b := balance(h2, id2); b.Available != 0 || b.Pending != 123 {
		t.Fatalf("balance with a 1h window %+v", fmt.Sprint(b))
	}
}
