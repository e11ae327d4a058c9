package consoleweb_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// auditHistory: the marketer adjusts member a on day one, the admin
// adjusts member b on day two (Asia/Shanghai), and the admin creates a rule.
func auditHistory(t *testing.T, s *site) (a, b int64, day1, day2 string) {
	t.Helper()
	_, _, a = s.h.Login(apptest.UniqueUser("auda"))
	_, _, b = s.h.Login(apptest.UniqueUser("audb"))
	adjust := func(user string, id int64, key string) {
		r := s.h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), `{"delta":30,"reason":"补偿"}`,
			append(apptest.Auth(s.h.ConsoleLogin(user)), "Idempotency-Key", key)...)
		if r.Status != 201 && r.Status != 200 {
			t.Fatalf("adjust: %d %s", r.Status, r.Body)
		}
	}
	day1 = s.h.Clock.Now().In(shanghai).Format("2006-01-02")
	adjust("marketer", a, "aud-1")
	s.h.Clock.Advance(24 * time.Hour)
	day2 = s.h.Clock.Now().In(shanghai).Format("2006-01-02")
	adjust("admin", b, "aud-2")
	r := s.h.Do("POST", "/api/v1/console/rules", `{"name":"审计规则","trigger":"order_paid","priority":1,"effect":{"kind":"multiplier","per_mille":1200}}`,
		apptest.Auth(s.h.ConsoleLogin("admin"))...)
	if r.Status != 201 {
		t.Fatalf("create rule: %d %s", r.Status, r.Body)
	}
	return a, b, day1, day2
}

var (
	shanghai, _ = time.LoadLocation("Asia/Shanghai")
	auditRowRe  = regexp.MustCompile(`<tr class="audit-row" data-id="(\d+)">`)
)

// The audit page narrows by actor, action (or its prefix), target and
// days, and shows exactly the rows the JSON API answers for the same query.
func TestAuditLogFilters(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	a, b, day1, day2 := auditHistory(t, s)
	c := s.client()
	c.signIn("auditor")
	auditor := apptest.Auth(s.h.ConsoleLogin("auditor"))
	for _, q := range []struct {
		query string
		want  int
	}{
		{"actor=marketer&action=points.adjust", 1},
		{"actor=admin&action=points.adjust", 1},
		{"action=rule.", 1},
		{"action=rule", 0}, // not a prefix without the dot
		{"target=" + url.QueryEscape(fmt.Sprintf("member:%d", b)), 1},
		{"action=points.adjust&target=" + url.QueryEscape(fmt.Sprintf("member:%d", a)) + "&from=" + day1 + "&to=" + day1, 1},
		{"action=points.adjust&target=" + url.QueryEscape(fmt.Sprintf("member:%d", a)) + "&from=" + day2, 0},
		{"actor=admin&from=" + day2 + "&to=" + day2, 2},
		{"actor=admin&to=" + day1, 0},
		{"actor=nobody", 0},
	} {
		p := c.get("/console/audit?" + q.query)
		if p.status != 200 {
			t.Fatalf("%s: %d %.500s", q.query, p.status, p.body)
		}
		var page []string
		for _, m := range auditRowRe.FindAllStringSubmatch(p.body, -1) {
			page = append(page, m[1])
		}
		var api struct{ Entries []struct{ ID int64 } }
		s.h.Do("GET", "/api/v1/console/audit?"+q.query, nil, auditor...).Decode(t, &api)
		var want []string
		for _, e := range api.Entries {
			want = append(want, fmt.Sprint(e.ID))
		}
		if len(page) != q.want || strings.Join(page, ",") != strings.Join(want, ",") {
			t.Errorf("%s: page rows %v, API %v, want %d rows", q.query, page, want, q.want)
		}
	}
	// Bad filters: the form comes back with the problem, nothing listed;
	// the JSON API refuses them with the same 400.
	for _, b := range []struct {
		q         string
		specValid bool // the spec cannot say that to comes after from
	}{{"from=2026-13-01", false}, {"to=yesterday", false}, {"from=" + day2 + "&to=" + day1, true}, {"actor=" + strings.Repeat("x", 65), false}} {
		q := b.q
		p := c.get("/console/audit?" + q)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="audit-error"`) || auditRowRe.MatchString(p.body) {
			t.Errorf("%s: %d %.300s", q, p.status, p.body)
		}
		if r := s.h.Send(b.specValid, "GET", "/api/v1/console/audit?"+q, nil, auditor...); r.Status != http.StatusBadRequest {
			t.Errorf("API %s: %d", q, r.Status)
		}
	}
	if r := s.client().get("/console/audit"); r.status != http.StatusSeeOther {
		t.Fatalf("without a session: %d", r.status)
	}
}

// "Load more" keeps the filters: 56 adjustments by the marketer among 8
// of the admin's, 50 on the first page and 6 on the second, every one the
// marketer's.
func TestAuditLogPagesKeepTheFilters(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, _, id := s.h.Login(apptest.UniqueUser("audp"))
	for i := range 64 {
		user := "marketer"
		if i%8 == 0 {
			user = "admin"
		}
		r := s.h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), `{"delta":1,"reason":"批量"}`,
			append(apptest.Auth(s.h.ConsoleLogin(user)), "Idempotency-Key", fmt.Sprint("p", i))...)
		if r.Status != 201 {
			t.Fatalf("adjust: %d %s", r.Status, r.Body)
		}
	}
	c := s.client()
	c.signIn("marketer")
	first := c.get("/console/audit?actor=marketer&action=points.")
	next := regexp.MustCompile(`id="audit-next" href="([^"]+)"`).FindStringSubmatch(first.body)
	if n := len(auditRowRe.FindAllString(first.body, -1)); n != 50 || next == nil {
		t.Fatalf("first page: %d rows, next %v", n, next)
	}
	href := strings.ReplaceAll(next[1], "&amp;", "&")
	if !strings.Contains(href, "actor=marketer") || !strings.Contains(href, "action=points.") {
		t.Fatalf("the next page forgets the filters: %s", href)
	}
	second := c.get(href)
	if n := len(auditRowRe.FindAllString(second.body, -1)); n != 56-50 {
		t.Fatalf("second page: %d rows", n)
	}
	if strings.Contains(second.body, "(admin)") || strings.Contains(second.body, `id="audit-next"`) {
		t.Fatalf("second page shows the admin's rows or another page: %.2000s", second.body)
	}
}

// In the browser: filter by actor and action from the form.
func TestBrowserAuditLogFilter(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	a, _, _, _ := auditHistory(t, s)
	browserSignIn(t, ctx, s.srv.URL, "auditor")
	do(t, ctx, "filter the audit log",
		chromedp.Navigate(s.srv.URL+"/console/audit"),
		chromedp.WaitVisible(chromedp.CSS("#audit-filter")),
		chromedp.SendKeys(chromedp.CSS(`#audit-filter input[name=actor]`), "marketer"),
		chromedp.SendKeys(chromedp.CSS(`#audit-filter input[name=action]`), "points."),
		chromedp.Submit(chromedp.CSS(`#audit-filter input[name=actor]`)),
	)
	// The unfiltered page has rows too: wait for the filtered one to land.
	waitJS(t, ctx, "the filtered audit log", `location.search.includes("actor=marketer") && document.readyState === "complete" && document.querySelectorAll('#audit tr.audit-row').length > 0`)
	shot(t, ctx, "14-audit-filtered")
	if n := eval[int](t, ctx, `document.querySelectorAll('#audit tr.audit-row').length`); n != 1 {
		t.Fatalf("%d rows for the marketer's adjustments", n)
	}
	if got := text(t, ctx, "#audit tr.audit-row td.target"); got != fmt.Sprintf("member:%d", a) {
		t.Fatalf("target %q", got)
	}
}
