package consoleweb_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

// site is the service on a real listener with a browser-like client that
// keeps cookies and does not follow redirects.
type site struct {
	t   *testing.T
	h   *apptest.Harness
	srv *httptest.Server
}

func newSite(t *testing.T, mutate ...func(*configs.Config)) *site {
	return newSiteWith(t, nil, mutate...)
}

// newSiteWith serves the service through wrap (nil: as it is), which
// sees every request first.
func newSiteWith(t *testing.T, wrap func(http.Handler) http.Handler, mutate ...func(*configs.Config)) *site {
	h := apptest.New(t, mutate...)
	handler := h.App.Handler
	if wrap != nil {
		handler = wrap(handler)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &site{t: t, h: h, srv: srv}
}

type client struct {
	s *site
	c *http.Client
}

func (s *site) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, form url.Values) page {
	c.s.t.Helper()
	p, err := c.send(method, path, form)
	if err != nil {
		c.s.t.Fatal(err)
	}
	return p
}

// send is do for any goroutine, with headers as name, value pairs.
func (c *client) send(method, path string, form url.Values, headers ...string) (page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.s.srv.URL+path, body)
	if err != nil {
		return page{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

func (c *client) get(path string) page { return c.do("GET", path, nil) }

var (
	csrfRe = regexp.MustCompile(`name="csrf_token" value="([0-9a-f]+)"`)
	keyRe  = regexp.MustCompile(`name="idempotency_key" value="([0-9a-f]+)"`)
	// formKeyRe is the key every form that writes is rendered with.
	formKeyRe = regexp.MustCompile(`name="form_key" value="([0-9a-f]+)"`)
)

// freshKey is the form key of a rendering of its own: a form sent with
// one writes (formkey_test.go sends one rendering twice).
func freshKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func field(t *testing.T, re *regexp.Regexp, p page) string {
	t.Helper()
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no %s in page (%d): %.2000s", re, p.status, p.body)
	}
	return m[1]
}

// signIn signs user in (demo password user+"123") through the form.
func (c *client) signIn(user string) {
	c.s.t.Helper()
	form := c.get("/console/login")
	r := c.do("POST", "/console/login", url.Values{"csrf_token": {field(c.s.t, csrfRe, form)}, "username": {user},
		"password": {user + "123"}, "next": {"/console/members"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/members" {
		c.s.t.Fatalf("sign in %s: %d %s", user, r.status, r.body)
	}
}

func TestPagesNeedASessionAndCarrySecurityHeaders(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	r := c.get("/console/members/1")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/console/login?next=") {
		t.Fatalf("anonymous member page: %d %v", r.status, r.header)
	}
	login := c.get("/console/login")
	csp := login.header.Get("Content-Security-Policy")
	if login.status != 200 || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("login page: %d CSP %q", login.status, csp)
	}
	if !strings.Contains(login.body, `lang="zh-CN"`) || !strings.Contains(login.body, "用户名") {
		t.Fatalf("login page is not Chinese by default: %.500s", login.body)
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|style="|\son[a-z]+=`).MatchString(login.body) {
		t.Fatalf("inline script or style in the page: %s", login.body)
	}
	token := field(t, csrfRe, login)
	bad := c.do("POST", "/console/login", url.Values{"csrf_token": {token}, "username": {"marketer"}, "password": {"nope"}})
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, "用户名或密码错误") {
		t.Fatalf("wrong password: %d %.300s", bad.status, bad.body)
	}
	if r := c.do("POST", "/console/login", url.Values{"username": {"marketer"}, "password": {"marketer123"}}); r.status != http.StatusForbidden {
		t.Fatalf("sign in without CSRF token: %d", r.status)
	}
	ok := c.do("POST", "/console/login", url.Values{"csrf_token": {token}, "username": {"marketer"}, "password": {"marketer123"}, "next": {"//evil.example/"}})
	if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/console/dashboard" {
		t.Fatalf("sign in: %d %v", ok.status, ok.header)
	}
	var session *http.Cookie
	for _, ck := range (&http.Response{Header: ok.header}).Cookies() {
		if ck.Name == "jifen_console" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure {
		t.Fatalf("session cookie %+v (embedded mode: HttpOnly, SameSite=Strict, not Secure)", session)
	}
	en := c.get("/console/lang/en?next=/console/members")
	if en.status != http.StatusSeeOther {
		t.Fatalf("language switch: %d", en.status)
	}
	if r := c.get("/console/members"); !strings.Contains(r.body, `lang="en"`) || !strings.Contains(r.body, "Find a member") {
		t.Fatalf("English page: %.500s", r.body)
	}
	out := c.do("POST", "/console/logout", url.Values{"csrf_token": {token}})
	if out.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", out.status)
	}
	if r := c.get("/console/members"); r.status != http.StatusSeeOther {
		t.Fatalf("after sign out: %d", r.status)
	}
}

func TestAdjustFormPaysOnceAndOnlyForWriters(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	tok, _, id := s.h.Login(apptest.UniqueUser("web"))
	if r := s.h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": s.h.PhoneCode("13600003579")}, apptest.Auth(tok)...); r.Status != 200 {
		t.Fatalf("bind phone: %d", r.Status)
	}
	m := s.client()
	m.signIn("marketer")
	found := m.get("/console/members?by=phone_last4&q=3579")
	if found.status != http.StatusSeeOther || found.header.Get("Location") != fmt.Sprintf("/console/members/%d", id) {
		t.Fatalf("search by last 4 digits: %d %v %.500s", found.status, found.header, found.body)
	}
	memberPath := fmt.Sprintf("/console/members/%d", id)
	p := m.get(memberPath)
	if p.status != 200 || !strings.Contains(p.body, "136****3579") {
		t.Fatalf("member page: %d %.1000s", p.status, p.body)
	}
	form := url.Values{"csrf_token": {field(t, csrfRe, p)}, "idempotency_key": {field(t, keyRe, p)}, "delta": {"200"}, "reason": {"客服补偿"}}
	for i := 0; i < 2; i++ { // a double click posts the same form twice
		if r := m.do("POST", memberPath+"/adjustments", form); r.status != http.StatusSeeOther {
			t.Fatalf("adjust %d: %d %.1000s", i, r.status, r.body)
		}
	}
	api := s.h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/ledger", id), nil, apptest.Auth(s.h.ConsoleLogin("auditor"))...)
	var out struct {
		Account struct{ Available int64 } `json:"account"`
		Entries []struct{ Delta int64 }   `json:"entries"`
	}
	api.Decode(t, &out)
	if out.Account.Available != 200 || len(out.Entries) != 1 {
		t.Fatalf("after a double submit: %s", api.Body)
	}
	if r := m.get(memberPath); !strings.Contains(r.body, `id="bal-available" data-value="200"`) || !strings.Contains(r.body, `data-delta="200"`) {
		t.Fatalf("member page after adjusting: %.3000s", r.body)
	}
	noToken := url.Values{"idempotency_key": {"k2"}, "delta": {"5"}, "reason": {"x"}}
	if r := m.do("POST", memberPath+"/adjustments", noToken); r.status != http.StatusForbidden {
		t.Fatalf("adjust without CSRF token: %d", r.status)
	}
	bad := url.Values{"csrf_token": form["csrf_token"], "idempotency_key": {"k3"}, "delta": {"1.5"}, "reason": {"x"}}
	if r := m.do("POST", memberPath+"/adjustments", bad); r.status != http.StatusBadRequest || !strings.Contains(r.body, `role="alert"`) {
		t.Fatalf("adjust 1.5 points: %d", r.status)
	}
	if r := m.do("POST", "/console/members/999999/adjustments", url.Values{"csrf_token": form["csrf_token"], "idempotency_key": {"k4"}, "delta": {"5"}, "reason": {"x"}}); r.status != http.StatusNotFound {
		t.Fatalf("adjust an unknown member: %d", r.status)
	}

	a := s.client()
	a.signIn("auditor")
	ap := a.get(memberPath)
	if ap.status != 200 || strings.Contains(ap.body, "adjust-form") || !strings.Contains(ap.body, `id="readonly"`) {
		t.Fatalf("auditor's member page shows the adjust form: %.2000s", ap.body)
	}
	forged := url.Values{"csrf_token": {field(t, csrfRe, ap)}, "idempotency_key": {"k5"}, "delta": {"1000"}, "reason": {"x"}}
	if r := a.do("POST", memberPath+"/adjustments", forged); r.status != http.StatusForbidden {
		t.Fatalf("auditor's forged adjust: %d", r.status)
	}
	if n := count(t, s.h, "ledger_entries"); n != 1 {
		t.Fatalf("ledger entries = %d, want 1", n)
	}
}

func TestJournalCSVStreamsEveryPageWithBOM(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, _, id := s.h.Login(apptest.UniqueUser("csv"))
	admin := s.h.ConsoleLogin("admin")
	for i := 0; i < 105; i++ { // more than one page of 100
		reason := "补偿"
		if i == 0 {
			reason = "=HYPERLINK(\"x\")" // must not become a formula
		}
		body := fmt.Sprintf(`{"delta":%d,"reason":%q}`, i+1, reason)
		if r := s.h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), body, append(apptest.Auth(admin), "Idempotency-Key", fmt.Sprint("csv", i))...); r.Status != 201 {
			t.Fatalf("adjust %d: %d %s", i, r.Status, r.Body)
		}
	}
	c := s.client()
	c.signIn("auditor")
	r := c.get(fmt.Sprintf("/console/members/%d/journal.csv", id))
	if r.status != 200 || !strings.HasPrefix(r.body, "\uFEFF时间,") || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v %.200q", r.status, r.header, r.body)
	}
	lines := strings.Split(strings.TrimSpace(r.body), "\n")
	if len(lines) != 1+105 {
		t.Fatalf("csv has %d lines, want header + 105", len(lines))
	}
	if !strings.Contains(lines[1], ",105,") || !strings.Contains(lines[105], `'=HYPERLINK`) || !strings.Contains(lines[105], "人工调整") {
		t.Fatalf("first/last rows: %s / %s", lines[1], lines[105])
	}
	if r := c.get("/console/members/999999/journal.csv"); r.status != 404 {
		t.Fatalf("unknown member: %d", r.status)
	}
	if r := s.client().get(fmt.Sprintf("/console/members/%d/journal.csv", id)); r.status != http.StatusSeeOther {
		t.Fatalf("anonymous export: %d", r.status)
	}

	all := c.get("/console/audit")
	mine := c.get(fmt.Sprintf("/console/audit?target=member:%d", id))
	none := c.get("/console/audit?target=member:999999")
	rows := func(p page) int { return strings.Count(p.body, `class="audit-row"`) }
	if all.status != 200 || rows(all) != 50 || !strings.Contains(all.body, `id="audit-next"`) || rows(mine) != 50 || rows(none) != 0 {
		t.Fatalf("audit pages: %d rows %d/%d/%d", all.status, rows(all), rows(mine), rows(none))
	}
	if r := c.get("/console/audit?cursor=x"); r.status != 400 {
		t.Fatalf("bad cursor: %d", r.status)
	}
}

// The sign-in form goes through the console's one throttle: after five
// wrong passwords the right one is 429 with Retry-After.
func TestSignInFormIsThrottled(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	token := field(t, csrfRe, c.get("/console/login"))
	for i := 0; i < 5; i++ {
		if r := c.do("POST", "/console/login", url.Values{"csrf_token": {token}, "username": {"auditor"}, "password": {"nope"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, r.status)
		}
	}
	r := c.do("POST", "/console/login", url.Values{"csrf_token": {token}, "username": {"auditor"}, "password": {"auditor123"}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "60" {
		t.Fatalf("right password while locked: %d Retry-After=%q", r.status, r.header.Get("Retry-After"))
	}
}

// Signing out ends the session on the server: a copy of the cookie taken
// before — the current token or one renewed away — no longer opens a page.
func TestSignOutEndsTheCookiesSession(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	c.signIn("marketer")
	u, _ := url.Parse(s.srv.URL + "/console/")
	early := c.c.Jar.Cookies(u)
	// Past half the token's life the session is renewed with a new token.
	s.h.Clock.Advance(s.h.Config.Auth.AccessTTL/2 + time.Second)
	if r := c.get("/console/members"); r.status != 200 {
		t.Fatalf("members page: %d", r.status)
	}
	current := c.c.Jar.Cookies(u)
	session := func(jar []*http.Cookie) string {
		for _, ck := range jar {
			if ck.Name == "jifen_console" {
				return ck.Value
			}
		}
		return ""
	}
	if session(early) == "" || session(early) == session(current) {
		t.Fatal("the session was not renewed: the test would not tell a renewed-away token apart")
	}
	token := field(t, csrfRe, c.get("/console/members"))
	if r := c.do("POST", "/console/logout", url.Values{"csrf_token": {token}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.status)
	}
	for name, jar := range map[string][]*http.Cookie{"current": current, "renewed-away": early} {
		thief := s.client()
		thief.c.Jar.SetCookies(u, jar)
		if r := thief.get("/console/members"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/console/login") {
			t.Errorf("the %s cookie after sign-out: %d %v", name, r.status, r.header.Get("Location"))
		}
	}
	other := s.client()
	other.signIn("marketer")
	if r := other.get("/console/members"); r.status != 200 {
		t.Errorf("a new sign-in after the sign-out: %d", r.status)
	}
}

// A browser sends the console's forms as UTF-8. A form value that is not
// (a hand-made POST) is 400 and writes nothing: MySQL's utf8mb4 columns
// refused it, a 500 after the form had been worked (an adjustment's
// reason or key, a store's name or robot key, a campaign's name).
func TestFormsRefuseTextThatIsNotUTF8(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, _, id := s.h.Login(apptest.UniqueUser("webutf8"))
	m := s.client()
	m.signIn("admin")
	memberPath := fmt.Sprintf("/console/members/%d", id)
	p := m.get(memberPath)
	csrf, key := field(t, csrfRe, p), field(t, keyRe, p)
	const bad = "x\xff\xfe"
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{memberPath + "/adjustments", url.Values{"idempotency_key": {key}, "delta": {"5"}, "reason": {bad}}},
		{memberPath + "/adjustments", url.Values{"idempotency_key": {bad}, "delta": {"5"}, "reason": {"r"}}},
		{"/console/stores", url.Values{"name": {bad}}},
		{"/console/stores", url.Values{"name": {"静安店"}, "robot_key": {bad}}},
		{"/console/campaigns", url.Values{"name": {bad}, "channel": {"subscribe"}, "expiring_within_days": {"30"}}},
	} {
		c.form.Set("csrf_token", csrf)
		if r := m.do("POST", c.path, c.form); r.status != http.StatusBadRequest || !strings.Contains(r.body, `role="alert"`) {
			t.Fatalf("POST %s %v: %d %.500s", c.path, c.form, r.status, r.body)
		}
	}
	for _, table := range []string{"ledger_entries", "stores", "reminder_campaigns"} {
		if n := count(t, s.h, table); n != 0 {
			t.Fatalf("%s has %d rows", table, n)
		}
	}
}

// The page session is renewed while its user works, from the console
// users the service has now: after a restart with a console.users that no
// longer names a user, that user's cookie is signed out at the next page,
// and a user given another role works with that role. Renewal used to
// copy the old token's subject and role, so a removed marketer kept
// writing for as long as they kept a page open.
func TestSessionFollowsTheConsoleUsers(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	gone, demoted := s.client(), s.client()
	gone.signIn("marketer")
	demoted.signIn("admin")

	hash, err := bcrypt.GenerateFromPassword([]byte("admin123"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := apptest.NewOn(t, s.h.Env, func(c *configs.Config) {
		c.Console.Users = []configs.ConsoleUser{{Username: "admin", Role: "auditor", PasswordHash: configs.Secret(hash)}}
	})
	srv := httptest.NewServer(h.App.Handler)
	t.Cleanup(srv.Close)
	restarted := &site{t: t, h: h, srv: srv}
	gone, demoted = &client{s: restarted, c: gone.c}, &client{s: restarted, c: demoted.c}
	for i := 0; i < 3; i++ {
		h.Clock.Advance(h.Config.Auth.AccessTTL/2 + time.Second)
		if r := gone.get("/console/members"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/console/login") {
			t.Fatalf("removed user's page %d: %d %s", i, r.status, r.header.Get("Location"))
		}
		p := demoted.get("/console/members")
		if p.status != http.StatusOK {
			t.Fatalf("demoted user's page %d: %d", i, p.status)
		}
		form := url.Values{"csrf_token": {field(t, csrfRe, p)}, "name": {fmt.Sprintf("店%d", i)}}
		if r := demoted.do("POST", "/console/stores", form); r.status != http.StatusForbidden {
			t.Fatalf("demoted user's write %d: %d", i, r.status)
		}
	}
}

// The static assets are served by name; their folder is no listing (it
// named the vendored files to anyone, signed in or not).
func TestStaticFolderIsNotListed(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	if r := c.get("/console/static/htmx.min.js"); r.status != http.StatusOK {
		t.Fatalf("htmx: %d", r.status)
	}
	// (The 404 is the console's error page, whose layout loads htmx: a
	// listing would name the folder's other files.)
	if r := c.get("/console/static/"); r.status != http.StatusNotFound || strings.Contains(r.body, "VERSIONS") || strings.Contains(r.body, `href="htmx.min.js"`) {
		t.Fatalf("static folder: %d %.300s", r.status, r.body)
	}
}
