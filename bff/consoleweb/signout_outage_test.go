package consoleweb_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/repo/testenv"
)

// siteOn serves h on a real listener.
func siteOn(t *testing.T, h *apptest.Harness) *site {
	srv := httptest.NewServer(h.App.Handler)
	t.Cleanup(srv.Close)
	return &site{t: t, h: h, srv: srv}
}

// sessionCookie is the console session cookie a page answer sets ("" when
// it sets none; a sign-out's expired one counts as none).
func sessionCookie(p page) string {
	for _, ck := range (&http.Response{Header: p.header}).Cookies() {
		if ck.Name == "jifen_console" && ck.MaxAge >= 0 {
			return ck.Value
		}
	}
	return ""
}

// refusedPage fails the test unless the page sent the cookie's holder to
// the sign-in page without renewing the session.
func refusedPage(t *testing.T, when string, p page) {
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/console/login") {
		t.Errorf("%s: %d (Location %q); want 303 to the sign-in page", when, p.status, p.header.Get("Location"))
	}
	if ck := sessionCookie(p); ck != "" {
		t.Errorf("%s: the signed-out session was renewed (a new jifen_console cookie)", when)
	}
}

// A console session signed out on an instance that cannot reach Redis is
// not renewed by another instance (which reaches Redis and may not hold
// the sign-out's copy yet) when a copy of its cookie comes back past half
// the token's life: a renewed token would outlive the sign-out's denial
// and open the console again once the denial expired.
func TestSignOutWithoutRedisIsNeverRenewed(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.WithProxies())
	ha := apptest.NewOn(t, env)
	hb := ha.Instance(env.Instance(t))
	a, b := siteOn(t, ha), siteOn(t, hb)
	c := a.client()
	c.signIn("marketer")
	onB := &client{s: b, c: c.c} // cookies are the host's, whatever the port
	if r := onB.get("/console/members"); r.status != http.StatusOK {
		t.Fatalf("the session on b: %d", r.status)
	}
	token := field(t, csrfRe, c.get("/console/members"))
	ua, _ := url.Parse(a.srv.URL + "/console/")
	jar := c.c.Jar.Cookies(ua) // a copy of the cookie, taken before the sign-out

	env.RedisProxy.Cut()
	if r := c.do("POST", "/console/logout", url.Values{"csrf_token": {token}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign out on a without Redis: %d %s", r.status, r.body)
	}
	ha.Clock.Advance(ha.Config.Auth.AccessTTL/2 + time.Second)
	thief := b.client()
	ub, _ := url.Parse(b.srv.URL + "/") // path "/", as the service sets them: a renewal replaces them
	thief.c.Jar.SetCookies(ub, jar)
	refusedPage(t, "the signed-out cookie on b past half its life", thief.get("/console/members"))
	time.Sleep(1500 * time.Millisecond) // the denial's copy has reached Redis
	refusedPage(t, "the signed-out cookie on b a second later", thief.get("/console/members"))
}

// Renewal asks the database, never Redis alone: Redis that misses a
// sign-out's denial while its ready key says it holds them all (the
// moment before a failed copy lands, or a key lost) lets the cookie's
// current token through until it expires, but never gives it a new one.
func TestSignedOutSessionIsNotRenewedFromRedisAlone(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	c.signIn("auditor")
	u, _ := url.Parse(s.srv.URL + "/console/")
	jar := c.c.Jar.Cookies(u)
	token := field(t, csrfRe, c.get("/console/members"))
	if r := c.do("POST", "/console/logout", url.Values{"csrf_token": {token}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.status)
	}
	ctx := context.Background()
	keys, err := s.h.Env.Redis.C.Keys(ctx, s.h.Env.Redis.Key("deny", "s:*")).Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("the sign-out's denial in Redis: %v %v", keys, err)
	}
	if err := s.h.Env.Redis.C.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	s.h.Clock.Advance(s.h.Config.Auth.AccessTTL/2 + time.Second)
	thief := s.client()
	root, _ := url.Parse(s.srv.URL + "/") // path "/", as the service sets them: a renewal replaces them
	thief.c.Jar.SetCookies(root, jar)
	refusedPage(t, "the signed-out cookie past half its life", thief.get("/console/members"))
	// Past the denial's end (and the cookie's token's): had it been
	// renewed, the new token would still be valid.
	s.h.Clock.Advance(s.h.Config.Auth.AccessTTL/2 + time.Minute)
	refusedPage(t, "the cookie once the denial has expired", thief.get("/console/members"))
}
