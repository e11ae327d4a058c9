package consoleweb_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// htmx asks with method, from the page at current (a path of the site),
// as the pages' hx-get and hx-post do.
func (c *client) htmx(method, path, current string, form url.Values) page {
	c.s.t.Helper()
	p, err := c.send(method, path, form, "HX-Request", "true", "HX-Current-URL", c.s.srv.URL+current)
	if err != nil {
		c.s.t.Fatal(err)
	}
	return p
}

// An htmx request without a live session sends the whole page to the
// sign-in page, which comes back to the page the user was on: the 303 to
// /console/login swapped the sign-in page into #results (live search) or
// the journal's <tbody> (load more, whose next was the fragment's URL),
// and an htmx POST's 401 (试算, 预演) was dropped by htmx, so nothing
// happened.
func TestHtmxRequestsWithoutASessionGoToSignIn(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, _, id := s.h.Login(apptest.UniqueUser("hx"))
	anon := s.client()
	member := fmt.Sprintf("/console/members/%d", id)
	for _, c := range []struct {
		what, method, path, current string
		form                        url.Values
	}{
		{"live search", "GET", "/console/members?by=phone_last4&q=12", "/console/members?by=phone_last4&q=1", nil},
		{"load more", "GET", member + "/journal?cursor=5", member, nil},
		{"试算", "POST", "/console/rules/simulate", "/console/rules/new", url.Values{"name": {"x"}}},
		{"预演", "POST", "/console/campaigns/1/dry-run", "/console/campaigns/1", url.Values{}},
	} {
		r := anon.htmx(c.method, c.path, c.current, c.form)
		want := "/console/login?next=" + url.QueryEscape(c.current)
		if r.status != http.StatusUnauthorized || r.header.Get("HX-Redirect") != want || r.header.Get("Location") != "" ||
			strings.Contains(r.body, `id="login"`) {
			t.Errorf("%s: %d HX-Redirect %q (want %q) Location %q %.300s", c.what, r.status, r.header.Get("HX-Redirect"), want,
				r.header.Get("Location"), r.body)
		}
	}
	// Only a console path of the page comes back, as with ?next=.
	for _, current := range []string{"https://evil.example//evil.example/", "/api/v1/console/members", "/console\\evil"} {
		p, err := anon.send("GET", "/console/members?q=1", nil, "HX-Request", "true", "HX-Current-URL", current)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.header.Get("HX-Redirect"); got != "/console/login?next="+url.QueryEscape("/console/dashboard") {
			t.Errorf("from %q: HX-Redirect %q", current, got)
		}
	}
	// Without htmx, a page still answers with the redirect.
	if r := anon.get(member); r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/login?next="+url.QueryEscape(member) {
		t.Errorf("the member page: %d %q", r.status, r.header.Get("Location"))
	}
}

// An htmx request refused by the server shows why in the request's
// target: htmx drops 4xx and 5xx answers unless told to swap them, so a
// failed "load more" or 预演 did nothing visible.
func TestHtmxErrorsShowInTheTarget(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, _, id := s.h.Login(apptest.UniqueUser("hxerr"))
	m := s.client()
	m.signIn("marketer")
	member := fmt.Sprintf("/console/members/%d", id)
	p := m.get(member)
	if !strings.Contains(p.body, `"code":"[45]..","swap":true,"error":true`) {
		t.Errorf("the pages do not tell htmx to swap error answers: %.600s", p.body)
	}
	csrf := field(t, csrfRe, p)

	// load more replaces its table row: the error comes as that row.
	r := m.htmx("GET", member+"/journal?cursor=x", member, nil)
	if r.status != http.StatusBadRequest || r.header.Get("HX-Reswap") != "outerHTML" || strings.Contains(r.body, "<html") ||
		!strings.HasPrefix(strings.TrimSpace(r.body), `<tr id="journal-more"`) || !strings.Contains(r.body, `role="alert"`) ||
		!strings.Contains(r.body, "cursor: must be a next_cursor") {
		t.Errorf("load more, bad cursor: %d HX-Reswap %q %.600s", r.status, r.header.Get("HX-Reswap"), r.body)
	}
	// Elsewhere the error fills the target.
	r = m.htmx("POST", "/console/campaigns/999999/dry-run", "/console/campaigns/999999", url.Values{"csrf_token": {csrf}})
	if r.status != http.StatusNotFound || r.header.Get("HX-Reswap") != "innerHTML" || strings.Contains(r.body, "<html") ||
		!strings.Contains(r.body, `role="alert"`) || !strings.Contains(r.body, "NOT_FOUND") {
		t.Errorf("预演 of an unknown campaign: %d HX-Reswap %q %.600s", r.status, r.header.Get("HX-Reswap"), r.body)
	}
	r = m.htmx("POST", "/console/rules/simulate", "/console/rules/new", url.Values{"name": {"no token"}})
	if r.status != http.StatusForbidden || r.header.Get("HX-Reswap") != "innerHTML" || strings.Contains(r.body, "<html") ||
		!strings.Contains(r.body, `role="alert"`) {
		t.Errorf("试算 without the CSRF token: %d HX-Reswap %q %.600s", r.status, r.header.Get("HX-Reswap"), r.body)
	}
}
