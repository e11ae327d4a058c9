package consoleweb_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A form sent after the session ended (auth.access_ttl) goes to the
// sign-in page, which says the form was not saved and comes back to the
// form's page; it was a 401 error page with no way on.
func TestFormsAfterTheSessionEndedGoToSignIn(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	m := s.client()
	m.signIn("marketer")
	p := m.get("/console/rules/new")
	csrf := field(t, csrfRe, p)
	s.h.Clock.Advance(s.h.Config.Auth.AccessTTL + time.Minute)

	form := ruleForm(csrf, map[string]string{"name": "过期后保存"})
	r, err := m.send("POST", "/console/rules", form, "Referer", s.srv.URL+"/console/rules/new")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || loc == nil || loc.Path != "/console/login" || loc.Query().Get("next") != "/console/rules/new" ||
		loc.Query().Get("unsaved") != "1" {
		t.Fatalf("save after the session: %d %q %.300s", r.status, r.header.Get("Location"), r.body)
	}
	if n := count(t, s.h, "rules"); n != 0 {
		t.Fatalf("%d rules saved without a session", n)
	}
	login := m.get(loc.RequestURI())
	if login.status != 200 || !strings.Contains(login.body, `id="login-unsaved"`) || !strings.Contains(login.body, `name="next" value="/console/rules/new"`) {
		t.Fatalf("the sign-in page: %d %.2000s", login.status, mainOf(login.body))
	}
	back := m.do("POST", "/console/login", url.Values{"csrf_token": {field(t, csrfRe, login)}, "username": {"marketer"},
		"password": {"marketer123"}, "next": {"/console/rules/new"}})
	if back.status != http.StatusSeeOther || back.header.Get("Location") != "/console/rules/new" {
		t.Fatalf("sign in again: %d %q", back.status, back.header.Get("Location"))
	}

	// Without a Referer (or with another site's) the sign-in goes on to
	// the dashboard.
	s.h.Clock.Advance(s.h.Config.Auth.AccessTTL + time.Minute)
	for _, ref := range []string{"", "https://evil.example/console/rules"} {
		r, err := m.send("POST", "/console/campaigns", campaignForm(csrf, nil), "Referer", ref)
		if err != nil {
			t.Fatal(err)
		}
		if loc, _ := url.Parse(r.header.Get("Location")); r.status != http.StatusSeeOther || loc == nil || loc.Query().Get("next") != "/console/dashboard" {
			t.Errorf("Referer %q: %d %q", ref, r.status, r.header.Get("Location"))
		}
	}
}

// Signing out with an ended session simply goes to the sign-in page (it
// was a 401 error page).
func TestSignOutAfterTheSessionEnded(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	m := s.client()
	m.signIn("marketer")
	csrf := field(t, csrfRe, m.get("/console/dashboard"))
	s.h.Clock.Advance(s.h.Config.Auth.AccessTTL + time.Minute)
	out := m.do("POST", "/console/logout", url.Values{"csrf_token": {csrf}})
	if out.status != http.StatusSeeOther || out.header.Get("Location") != "/console/login" {
		t.Fatalf("sign out with an ended session: %d %q %.300s", out.status, out.header.Get("Location"), out.body)
	}
	cleared := false
	for _, ck := range (&http.Response{Header: out.header}).Cookies() {
		cleared = cleared || ck.Name == "jifen_console" && ck.MaxAge < 0
	}
	if !cleared {
		t.Errorf("sign out did not clear the session cookie: %v", out.header["Set-Cookie"])
	}
}
