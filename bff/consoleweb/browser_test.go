package consoleweb_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
)

// One headless Chromium (Debian's chromium package) per test binary; each
// test gets its own browser context (its own cookies) in it.
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	dir    string
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
		os.RemoveAll(browser.dir)
	}
	os.Exit(code)
}

func chromiumPath() string {
	if p := os.Getenv("JIFEN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// inCI: CI=true or the real backends named — where a missing browser is a
// broken machine, not a developer's laptop.
func inCI() bool {
	return os.Getenv("CI") == "true" || os.Getenv("JIFEN_TEST_MYSQL_DSN") != "" || os.Getenv("JIFEN_TEST_REDIS_ADDR") != ""
}

func startBrowser(path string) {
	browser.dir, browser.err = os.MkdirTemp("", "jifen-chromium-")
	if browser.err != nil {
		return
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(browser.dir), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	bctx, bcancel := chromedp.NewContext(actx)
	browser.ctx = bctx
	browser.cancel = func() { bcancel(); acancel() }
	browser.err = chromedp.Do(bctx) // starts the browser, with no deadline of its own
}

// tab returns a fresh, isolated browser context (no cookies) with a deadline.
func tab(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if inCI() {
			t.Fatal("the console's browser tests need Chromium: apt-get install -y chromium (or set JIFEN_CHROMIUM to its path)")
		}
		t.Skip("no Chromium on this machine (apt-get install -y chromium); the browser journeys are skipped outside CI")
	}
	browser.once.Do(func() { startBrowser(path) })
	if browser.err != nil {
		t.Fatalf("start Chromium %s: %v", path, browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	tctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { tcancel(); cancel() })
	if err := chromedp.Do(ctx); err != nil { // opens the tab outside the deadline's context
		t.Fatal(err)
	}
	watchConsole(t, ctx)
	return tctx
}

// watchConsole fails the test on a Content-Security-Policy violation, an
// uncaught script error or an htmx selector that finds nothing: the pages
// must work under their own CSP, as written.
func watchConsole(t *testing.T, ctx context.Context) {
	msgs := chromedp.Console(ctx)
	var mu sync.Mutex
	var bad []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			// htmx names a selector of the page that finds nothing.
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "returned no matches") {
				mu.Lock()
				bad = append(bad, m.String())
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(bad) > 0 {
			t.Errorf("browser console: %s", strings.Join(bad, "\n"))
		}
	})
}

// shot saves a full-page PNG under $JIFEN_SCREENSHOTS (default
// artifacts/screenshots at the repository root), one folder per backend.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("JIFEN_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts", "screenshots")
	}
	backend := "embedded"
	if os.Getenv("JIFEN_TEST_MYSQL_DSN") != "" {
		backend = "mariadb"
	}
	dir = filepath.Join(dir, backend)
	// A screenshot taken while a form's navigation is still landing fails
	// with "Not attached to an active page": wait for the document to be
	// complete, and try again once the new page is there.
	var png []byte
	var err error
	for try := 0; try < 5; try++ {
		if _, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.readyState === "complete"`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			continue
		}
		if png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// waitJS waits until the page's predicate js is true: a check made in the
// page, holding no node a swap could take away meanwhile.
func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	// A navigation under way destroys the page's context a poll runs in
	// ("Cannot find context with specified id"): poll again in the new one
	// until the deadline.
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(5*time.Second)))
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			loc, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Location())
			t.Fatalf("%s (at %s): %v", what, loc, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	// A node a page swap takes away mid-read ("No node with given id")
	// is read again from the page that replaced it.
	var s string
	var err error
	for try := 0; try < 10; try++ {
		if s, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel))); err == nil {
			return strings.TrimSpace(s)
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("text of %s: %v", sel, err)
	return ""
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func browserSignIn(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	do(t, ctx, "sign in as "+user,
		chromedp.Navigate(base+"/console/members"), // to the sign-in page and back
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=username]`), user),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=password]`), user+"123"),
	)
	if user == "marketer" {
		shot(t, ctx, "01-login")
	}
	do(t, ctx, "submit sign-in", chromedp.Click(chromedp.CSS(`#login button`)), chromedp.WaitVisible(chromedp.CSS("#search")))
}

// shopper registers a member with phone and returns the member id.
func shopper(t *testing.T, s *site, phone string) int64 {
	t.Helper()
	tok, _, id := s.h.Login(apptest.UniqueUser("br"))
	if r := s.h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": s.h.PhoneCode(phone)}, apptest.Auth(tok)...); r.Status != 200 {
		t.Fatalf("bind phone: %d %s", r.Status, r.Body)
	}
	return id
}

// postForm submits the adjust form's fields twice at once from the page,
// as a double click or a network retry would.
const doubleSubmit = `(async () => {
  const f = document.getElementById('adjust-form');
  f.elements.delta.value = '50'; f.elements.reason.value = '双击测试';
  const body = () => new URLSearchParams(new FormData(f));
  const rs = await Promise.all([fetch(f.action, {method: 'POST', body: body(), redirect: 'manual'}),
                                fetch(f.action, {method: 'POST', body: body(), redirect: 'manual'})]);
  return rs.map(r => r.type === 'opaqueredirect' ? 303 : r.status).join(',');
})()`

func TestBrowserMarketerFindsAMemberAndAdjustsPoints(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	id := shopper(t, s, "13511118642")
	s.h.Clock.Advance(72 * time.Hour)
	other := shopper(t, s, "13722228642") // same last four digits, registered later
	browserSignIn(t, ctx, s.srv.URL, "marketer")

	// Live search (htmx under the CSP): both members whose phones end in 8642.
	// Each keystroke may swap #results (a slow machine spaces them past
	// the 400 ms debounce): wait, in the page, for the results of the
	// whole query, which nothing swaps afterwards.
	do(t, ctx, "search by the last 4 digits", chromedp.SendKeys(chromedp.CSS("#q"), "8642"))
	waitJS(t, ctx, "the results for 8642", fmt.Sprintf(`!!document.querySelector('#results[data-q="8642"] a[href="/console/members/%d"]') &&
		!!document.querySelector('#results[data-q="8642"] a[href="/console/members/%d"]')`, other, id))
	shot(t, ctx, "02-member-search")
	do(t, ctx, "open the member", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#results a[href="/console/members/%d"]`, id))),
		chromedp.WaitVisible(chromedp.CSS("#balance")))
	if got := text(t, ctx, "#bal-available"); got != "0" {
		t.Fatalf("available before = %q", got)
	}

	do(t, ctx, "adjust +200",
		chromedp.SendKeys(chromedp.CSS(`#adjust-form input[name=delta]`), "200"),
		chromedp.SendKeys(chromedp.CSS(`#adjust-form input[name=reason]`), "客服补偿"),
		chromedp.Click(chromedp.CSS("#adjust-submit")),
		chromedp.WaitVisible(chromedp.CSS("#adjusted")),
	)
	if got := text(t, ctx, "#bal-available"); got != "200" {
		t.Fatalf("available after +200 = %q", got)
	}
	if got := text(t, ctx, "#journal-body tr.entry:first-child td:nth-child(3)"); got != "+200" {
		t.Fatalf("journal's newest change = %q", got)
	}
	shot(t, ctx, "03-member-adjusted")

	if got := eval[string](t, ctx, doubleSubmit); got != "303,303" {
		t.Fatalf("double submit answered %s", got)
	}
	do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#balance")))
	rows := eval[int](t, ctx, `document.querySelectorAll('#journal-body tr.entry').length`)
	if got := text(t, ctx, "#bal-available"); got != "250" || rows != 2 {
		t.Fatalf("after a double submit of +50: available %q, %d journal rows (want 250, 2)", got, rows)
	}

	// The page's numbers are the JSON API's.
	api := s.h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d", id), nil, apptest.Auth(s.h.ConsoleLogin("auditor"))...)
	var out struct {
		Account map[string]int64 `json:"account"`
		Lots    []struct {
			Remaining int64 `json:"remaining"`
		} `json:"lots"`
	}
	api.Decode(t, &out)
	for _, k := range []string{"available", "pending", "held", "debt"} {
		shown := text(t, ctx, "#bal-"+k)
		if want := fmt.Sprint(out.Account[k]); strings.ReplaceAll(shown, ",", "") != want {
			t.Errorf("%s: page shows %q, API says %s", k, shown, want)
		}
	}
	lots := eval[int](t, ctx, `document.querySelectorAll('#lots tbody tr').length`)
	if lots != len(out.Lots) {
		t.Errorf("page lists %d lots, API %d", lots, len(out.Lots))
	}

	// Switch to English and back: the same numbers, other words.
	do(t, ctx, "English", chromedp.Click(chromedp.CSS("#lang")))
	waitJS(t, ctx, "the English page", `document.documentElement.lang === "en" && document.readyState === "complete" && !!document.querySelector("#balance")`)
	if h, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#balance h2"))); h != "Points balance" {
		t.Errorf("English heading %q", h)
	}
	shot(t, ctx, "04-member-english")
}

func TestBrowserAuditorCannotAdjust(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	id := shopper(t, s, "13633331357")
	browserSignIn(t, ctx, s.srv.URL, "auditor")
	do(t, ctx, "open the member", chromedp.Navigate(fmt.Sprintf("%s/console/members/%d", s.srv.URL, id)),
		chromedp.WaitVisible(chromedp.CSS("#readonly")))
	if n := eval[int](t, ctx, `document.querySelectorAll('#adjust-form, #adjust-submit').length`); n != 0 {
		t.Fatalf("the auditor sees %d adjust controls", n)
	}
	shot(t, ctx, "05-member-auditor")
	// A forged POST with the auditor's own valid CSRF token (from the sign-out form).
	status := eval[int](t, ctx, fmt.Sprintf(`(async () => {
	  const token = document.querySelector('input[name=csrf_token]').value;
	  const body = new URLSearchParams({csrf_token: token, idempotency_key: 'forged', delta: '1000', reason: 'x'});
	  return (await fetch('/console/members/%d/adjustments', {method: 'POST', body, redirect: 'manual'})).status;
	})()`, id))
	if status != 403 {
		t.Fatalf("auditor's forged adjust: %d", status)
	}
	if n := count(t, s.h, "ledger_entries"); n != 0 {
		t.Fatalf("the forged adjust wrote %d entries", n)
	}
}

func TestBrowserPostWithoutCSRFTokenIsRefused(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	id := shopper(t, s, "13744442468")
	browserSignIn(t, ctx, s.srv.URL, "marketer")
	do(t, ctx, "fill the form without its token",
		chromedp.Navigate(fmt.Sprintf("%s/console/members/%d", s.srv.URL, id)),
		chromedp.WaitVisible(chromedp.CSS("#adjust-form")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#adjust-form input[name=csrf_token]').remove()`),
		chromedp.SendKeys(chromedp.CSS(`#adjust-form input[name=delta]`), "200"),
		chromedp.SendKeys(chromedp.CSS(`#adjust-form input[name=reason]`), "no token"),
		chromedp.Click(chromedp.CSS("#adjust-submit")),
		chromedp.WaitVisible(chromedp.CSS("#error")),
	)
	if got := text(t, ctx, "#error .status"); got != "403" {
		t.Fatalf("status shown %q", got)
	}
	shot(t, ctx, "06-csrf-refused")
	if n := count(t, s.h, "ledger_entries"); n != 0 {
		t.Fatalf("a POST without token wrote %d entries", n)
	}
}

func TestBrowserMarketerCreatesARuleAndSimulatesAnOrder(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	gold := `{"name":"金卡 ×1.5","trigger":"order_paid","priority":5,"conditions":{"tiers":["gold"]},"effect":{"kind":"multiplier","per_mille":1500}}`
	if r := s.h.Do("POST", "/api/v1/console/rules", gold, apptest.Auth(s.h.ConsoleLogin("admin"))...); r.Status != 201 {
		t.Fatalf("create the gold rule: %d %s", r.Status, r.Body)
	}
	browserSignIn(t, ctx, s.srv.URL, "marketer")
	do(t, ctx, "create a rule from the form",
		chromedp.Navigate(s.srv.URL+"/console/rules"),
		chromedp.Click(chromedp.CSS("#rule-new")),
		chromedp.WaitVisible(chromedp.CSS("#rule-form")),
		chromedp.SendKeys(chromedp.CSS(`#rule-form input[name=name]`), "每元 1 分"),
		chromedp.SendKeys(chromedp.CSS(`#rule-form input[name=cap_day]`), "5000"),
		chromedp.Click(chromedp.CSS("#rule-save")),
		chromedp.WaitVisible(chromedp.CSS("#rule-saved")),
	)
	do(t, ctx, "simulate a gold member's order of 288.50 yuan",
		chromedp.SendKeys(chromedp.CSS("#sim-total"), "288.50"),
		chromedp.SendKeys(chromedp.CSS(`#simulate input[name=sim_tier]`), "gold"),
		chromedp.Click(chromedp.CSS("#simulate-submit")),
		chromedp.WaitVisible(chromedp.CSS("#sim-result")),
	)
	// 288 points at 1 per yuan (floored), gold ×1.5 adds 144.
	if got := text(t, ctx, "#sim-result"); got != "432" {
		t.Fatalf("simulated total %q", got)
	}
	lines := eval[[]string](t, ctx, `[...document.querySelectorAll('#breakdown tr.line')].map(r => r.cells[0].innerText.split(' ')[0] + '=' + r.dataset.points)`)
	if strings.Join(lines, ",") != "每元=288,金卡=144" {
		t.Fatalf("breakdown %v", lines)
	}
	if u := eval[string](t, ctx, `location.pathname`); !strings.HasPrefix(u, "/console/rules/") {
		t.Fatalf("the simulation left the page: %s", u) // htmx swapped the breakdown in place
	}
	shot(t, ctx, "07-rule-simulated")
	do(t, ctx, "the rule list", chromedp.Navigate(s.srv.URL+"/console/rules"), chromedp.WaitVisible(chromedp.CSS("#rules")))
	if n := eval[int](t, ctx, `document.querySelectorAll('#rules tr.rule-row[data-status=active]').length`); n != 2 {
		t.Fatalf("%d active rules listed", n)
	}
	shot(t, ctx, "08-rules")
}

// A hurried double click on Save sends the form once: its buttons are
// disabled as it goes (static/console.js). The forms' hx-disabled-elt did
// nothing (htmx does not handle a plain form), so the second click sent
// the form again while the first was on its way.
func TestBrowserDoubleClickSendsAFormOnce(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	var posts atomic.Int32
	s := newSiteWith(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/console/rules" {
				posts.Add(1)
				time.Sleep(600 * time.Millisecond) // still on its way when the second click comes
			}
			next.ServeHTTP(w, r)
		})
	})
	browserSignIn(t, ctx, s.srv.URL, "marketer")
	do(t, ctx, "fill in a new rule",
		chromedp.Navigate(s.srv.URL+"/console/rules/new"),
		chromedp.WaitVisible(chromedp.CSS("#rule-form")),
		chromedp.SendKeys(chromedp.CSS(`#rule-form input[name=name]`), "双击"),
	)
	eval[bool](t, ctx, `(() => { const b = document.getElementById('rule-save'); b.click(); setTimeout(() => b.click(), 150); return true })()`)
	do(t, ctx, "the saved rule", chromedp.WaitVisible(chromedp.CSS("#rule-saved")))
	if n := posts.Load(); n != 1 {
		t.Errorf("a double click sent the form %d times", n)
	}
	if n := count(t, s.h, "rules"); n != 1 {
		t.Errorf("%d rules after a double click", n)
	}
}

// htmx under an ended session and a refused request: the live search
// sends the page to the sign-in page, which comes back to the search (it
// swapped the sign-in page into the results); a "load more" the server
// refuses shows why in the journal (htmx dropped the 400).
func TestBrowserHtmxAfterTheSessionAndOnErrors(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSiteWith(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/journal") { // a cursor the server refuses
				r.URL.RawQuery = "cursor=x"
			}
			next.ServeHTTP(w, r)
		})
	})
	_, _, id := s.h.Login(apptest.UniqueUser("hxb"))
	admin := apptest.Auth(s.h.ConsoleLogin("admin"))
	for i := range 25 { // more than a page of the journal
		if r := s.h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), `{"delta":1,"reason":"补偿"}`,
			append(admin, "Idempotency-Key", fmt.Sprint("hxb", i))...); r.Status != 201 {
			t.Fatalf("adjust: %d %s", r.Status, r.Body)
		}
	}
	browserSignIn(t, ctx, s.srv.URL, "marketer")
	do(t, ctx, "the member", chromedp.Navigate(fmt.Sprintf("%s/console/members/%d", s.srv.URL, id)), chromedp.WaitVisible(chromedp.CSS("#journal-more a")))
	do(t, ctx, "load more", chromedp.Click(chromedp.CSS("#journal-more a")))
	waitJS(t, ctx, "the refusal in the journal", `!!document.querySelector('#journal-body #journal-more [role=alert][data-status="400"]')`)
	if got := text(t, ctx, "#journal-more [role=alert]"); !strings.Contains(got, "cursor") {
		t.Errorf("the refused load more says %q", got)
	}
	shot(t, ctx, "19-htmx-error")

	do(t, ctx, "the search", chromedp.Navigate(s.srv.URL+"/console/members"), chromedp.WaitVisible(chromedp.CSS("#q")))
	s.h.Clock.Advance(s.h.Config.Auth.AccessTTL + time.Minute) // the session ends
	// One keystroke, one request: keystrokes a slow machine spaces past the
	// debounce would each send the page to the sign-in page.
	do(t, ctx, "search after the session", chromedp.SendKeys(chromedp.CSS("#q"), "1"))
	waitJS(t, ctx, "the sign-in page", `location.pathname === "/console/login" && document.readyState === "complete" && !!document.querySelector("#login")`)
	if got := eval[string](t, ctx, `new URLSearchParams(location.search).get("next")`); got != "/console/members" {
		t.Errorf("sign in goes on to %q", got)
	}
	do(t, ctx, "sign in again",
		chromedp.SendKeys(chromedp.CSS(`#login input[name=username]`), "marketer"),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=password]`), "marketer123"),
		chromedp.Click(chromedp.CSS(`#login button`)),
		chromedp.WaitVisible(chromedp.CSS("#search")),
	)
	if got := eval[string](t, ctx, `location.pathname`); got != "/console/members" {
		t.Errorf("signed in again at %s", got)
	}
}

func TestBrowserMarketerRunsACampaign(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	now := s.h.Clock.Now()
	expiring(t, s, "alice", 1200, now.AddDate(0, 0, 3), true)
	expiring(t, s, "bob", 300, now.AddDate(0, 0, 3), false)
	browserSignIn(t, ctx, s.srv.URL, "marketer")
	onceAt := now.Add(5 * time.Minute).In(domain.Shanghai)
	do(t, ctx, "create a campaign",
		chromedp.Navigate(s.srv.URL+"/console/campaigns"),
		chromedp.Click(chromedp.CSS("#campaign-new")),
		chromedp.WaitVisible(chromedp.CSS("#campaign-form")),
		chromedp.SendKeys(chromedp.CSS(`#campaign-form input[name=name]`), "双11 积分提醒"),
		chromedp.SendKeys(chromedp.CSS(`#campaign-form input[name=min_points]`), "100"),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const f = document.getElementById('campaign-form');
		  f.elements.template_subscribe.value = 'expiry_subscribe'; f.elements.once_at.value = %q; f.elements.quiet_hours.value = ''; })()`,
			onceAt.Format("2006-01-02T15:04"))),
		chromedp.Click(chromedp.CSS("#campaign-save")),
		chromedp.WaitVisible(chromedp.CSS("#campaign-done")),
	)
	do(t, ctx, "dry-run", chromedp.Click(chromedp.CSS("#campaign-dry-run")), chromedp.WaitVisible(chromedp.CSS("#dry-audience")))
	if got := text(t, ctx, "#dry-audience"); got != "2" {
		t.Fatalf("dry-run audience %q", got)
	}
	if got := text(t, ctx, "#dry-samples"); !strings.Contains(got, "1,200 积分即将过期") {
		t.Fatalf("rendered sample %q", got)
	}
	shot(t, ctx, "09-campaign-dry-run")
	do(t, ctx, "schedule", chromedp.Click(chromedp.CSS("#campaign-schedule")), chromedp.WaitVisible(chromedp.CSS("#campaign-pause")))

	// The dispatcher's tick at once_at, as the scheduler would run it.
	s.h.Clock.Advance(6 * time.Minute)
	s.h.App.Reminder.Scheduler.Tick(context.Background())
	do(t, ctx, "the delivery report", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#report-chart")))
	sent, failed := text(t, ctx, "#report-sent"), text(t, ctx, "#report-failed")
	if sent != "1" || failed != "0" || text(t, ctx, "#campaign-status") != "已完成" {
		t.Fatalf("report: sent %q failed %q status %q", sent, failed, text(t, ctx, "#campaign-status"))
	}
	shot(t, ctx, "10-campaign-report")
}
