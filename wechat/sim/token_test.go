package sim

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *client) stable(appID string, force bool) map[string]any {
	c.t.Helper()
	_, m := c.do("POST", "", "/_sim/cgi-bin/stable_token",
		fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":"s","force_refresh":%t}`, appID, force))
	return m
}

// phone makes a call that needs tok, with a fresh phone code each time.
func (c *client) phone(tok string) int {
	c.t.Helper()
	code := c.sim.PhoneCode("13800001111", time.Time{})
	_, m := c.do("POST", "", "/_sim/wxa/business/getuserphonenumber?access_token="+tok, `{"code":"`+code+`"}`)
	return errcode(m)
}

// A new token from /cgi-bin/token retires the previous one after five
// minutes, as WeChat does: the old one answers 40001 afterwards.
func TestTokenRotationRetiresThePreviousTokenAfterTheGrace(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	c := newClient(t, clock.Now)
	old := c.token("wx1")
	other := c.token("wx2") // another appid's token lives on its own
	fresh := c.token("wx1")
	if old == fresh {
		t.Fatal("/cgi-bin/token answered the same token twice")
	}
	clock.advance(tokenGrace - time.Second)
	if got := c.phone(old); got != 0 {
		t.Fatalf("within the grace: errcode %d", got)
	}
	clock.advance(time.Second)
	if got := c.phone(old); got != 40001 {
		t.Fatalf("after the grace: errcode %d, want 40001", got)
	}
	if c.phone(fresh) != 0 || c.phone(other) != 0 {
		t.Fatal("the current tokens stopped working")
	}
}

func TestStableTokenIsStableAndForcedRefreshesAreLimited(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	c := newClient(t, clock.Now)
	first := c.stable("wx1", false)
	again := c.stable("wx1", false)
	if first["access_token"] == nil || first["access_token"] != again["access_token"] {
		t.Fatalf("stable_token changed without force: %v then %v", first, again)
	}
	forced := c.stable("wx1", true)
	if forced["access_token"] == first["access_token"] {
		t.Fatalf("force_refresh kept the token: %v", forced)
	}
	if got := errcode(c.stable("wx1", true)); got != 45011 {
		t.Fatalf("second force within 30 s: errcode %d, want 45011", got)
	}
	for i := 1; i < stableForcePerDay; i++ {
		clock.advance(stableForceGap)
		if m := c.stable("wx1", true); errcode(m) != 0 {
			t.Fatalf("force #%d: %v", i+1, m)
		}
	}
	clock.advance(stableForceGap)
	if got := errcode(c.stable("wx1", true)); got != 45009 {
		t.Fatalf("force #21 of the day: errcode %d, want 45009", got)
	}
	if got := errcode(c.stable("wx1", false)); got != 0 {
		t.Fatalf("plain stable_token after the force quota: errcode %d", got)
	}
	if _, m := c.do("GET", "", "/_sim/cgi-bin/stable_token", ""); errcode(m) != 43002 {
		t.Fatalf("GET stable_token: %v", m)
	}
}

func TestTokenDailyQuotaPerAppID(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	c := newClient(t, clock.Now)
	c.sim.mu.Lock()
	c.sim.app(HostWeChat, "wx1", clock.Now()).fetches = tokenDailyQuota - 1
	c.sim.mu.Unlock()
	c.token("wx1")
	path := "/_sim/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s"
	if _, m := c.do("GET", "", path, ""); errcode(m) != 45009 {
		t.Fatalf("call %d of the day: %v, want 45009", tokenDailyQuota+1, m)
	}
	c.token("wx2")
	clock.advance(24 * time.Hour)
	c.token("wx1")
}

func TestWeComTokenIsTheSameWhileValid(t *testing.T) {
	c := newClient(t, nil)
	get := func() any {
		_, m := c.do("GET", HostWeCom, "/_sim/cgi-bin/gettoken?corpid=ww1&corpsecret=s", "")
		return m["access_token"]
	}
	if a, b := get(), get(); a == nil || a != b {
		t.Fatalf("gettoken answered %v then %v", a, b)
	}
}
