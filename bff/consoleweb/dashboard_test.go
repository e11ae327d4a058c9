package consoleweb_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// dashboardHistory gives the site a day of activity: a shopper's sign-in,
// a console credit and debit, and a campaign whose reminder the dispatcher
// delivers; then the analytics job runs past its lag.
func dashboardHistory(t *testing.T, s *site) {
	t.Helper()
	start := s.h.Clock.Now()
	token, _, id := s.h.Login(apptest.UniqueUser("dash"))
	if r := s.h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(token)...); r.Status != 201 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	admin := s.h.ConsoleLogin("admin")
	for i, delta := range []int{1200, -300} {
		r := s.h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), map[string]any{"delta": delta, "reason": "看板"},
			append(apptest.Auth(admin), "Idempotency-Key", fmt.Sprint("dash-", i))...)
		if r.Status != 201 {
			t.Fatalf("adjust %d: %d %s", delta, r.Status, r.Body)
		}
	}
	expiring(t, s, "dash-alice", 1500, start.AddDate(0, 0, 3), true)
	body := `{"name":"看板提醒","audience":{"expiring_within_days":7,"min_points":100},"channels":["subscribe"],
		"templates":{"subscribe":"expiry_subscribe"},"schedule":{"once_at":"` + start.Add(5*time.Minute).Format(time.RFC3339) + `"}}`
	r := s.h.Do("POST", "/api/v1/console/campaigns", body, apptest.Auth(admin)...)
	if r.Status != 201 {
		t.Fatalf("campaign: %d %s", r.Status, r.Body)
	}
	cid := int64(r.JSON()["campaign"].(map[string]any)["id"].(float64))
	if r := s.h.Do("POST", fmt.Sprintf("/api/v1/console/campaigns/%d/schedule", cid), nil, apptest.Auth(admin)...); r.Status != 200 {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	s.h.Clock.Advance(6 * time.Minute)
	s.h.App.Reminder.Scheduler.Tick(context.Background())
	s.h.Clock.Advance(10 * time.Minute) // past analytics.lag
	if _, err := s.h.App.Analytics.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// apiFigures are the JSON API's answers the dashboard must agree with.
type apiFigures struct {
	Points struct {
		Days []struct {
			Day    string
			Totals map[string]int64
			By     map[string]map[string]int64 `json:"by_source"`
			Active int64                       `json:"active_members"`
		}
	}
	Outstanding struct {
		Total    int64 `json:"total"`
		ValueFen int64 `json:"value_fen"`
		Expiring []struct {
			Month  string
			Points int64
		} `json:"expiring_by_month"`
	}
	Reminders struct {
		Days []struct {
			ByStatus map[string]int `json:"by_status"`
		}
	}
}

func readAPIFigures(t *testing.T, s *site) apiFigures {
	t.Helper()
	auditor := s.h.ConsoleLogin("auditor")
	var f apiFigures
	for path, into := range map[string]any{"points": &f.Points, "outstanding": &f.Outstanding, "reminders": &f.Reminders} {
		r := s.h.Do("GET", "/api/v1/console/analytics/"+path, nil, apptest.Auth(auditor)...)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		r.Decode(t, into)
	}
	return f
}

// The dashboard's visible numbers are the JSON analytics API's: today's
// points by kind and source, the 30 days' sums, active members, the
// liability and its months, the reminders' outcomes.
func TestBrowserDashboardShowsTheAPIsFigures(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	dashboardHistory(t, s)
	api := readAPIFigures(t, s)
	today := api.Points.Days[len(api.Points.Days)-1]
	if today.Totals["issued"] < 1200 || today.Totals["spent"] != 300 || api.Outstanding.Total == 0 || api.Reminders.Days[29].ByStatus["sent"] != 1 {
		t.Fatalf("the history did not reach the API: today %+v, outstanding %+v, reminders %+v", today, api.Outstanding, api.Reminders.Days[29])
	}

	do(t, ctx, "sign in and land on the dashboard",
		chromedp.Navigate(s.srv.URL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=username]`), "marketer"),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=password]`), "marketer123"),
		chromedp.Click(chromedp.CSS(`#login button`)),
		chromedp.WaitVisible(chromedp.CSS("#points-chart")),
	)
	shot(t, ctx, "11-dashboard")
	num := func(sel string) string {
		t.Helper()
		return strings.ReplaceAll(text(t, ctx, sel), ",", "")
	}
	check := func(what, shown string, want int64) {
		t.Helper()
		if shown != fmt.Sprint(want) {
			t.Errorf("%s: page shows %q, API says %d", what, shown, want)
		}
	}
	check("issued today", num("#dash-issued-today"), today.Totals["issued"])
	check("spent today", num("#dash-spent-today"), today.Totals["spent"])
	check("expired today", num("#dash-expired-today"), today.Totals["expired"])
	check("active today", num("#dash-active-today"), today.Active)
	check("reminders sent today", num("#dash-sent-today"), int64(api.Reminders.Days[29].ByStatus["sent"]))
	for src, n := range today.By["issued"] {
		check("issued today from "+src, eval[string](t, ctx, fmt.Sprintf(
			`document.querySelector('#dash-sources-today .source[data-source=%q]').innerText.split(' ').pop().replaceAll(',', '')`, src)), n)
	}
	period := map[string]int64{}
	for _, d := range api.Points.Days {
		for k, n := range d.Totals {
			period[k] += n
		}
	}
	for _, k := range []string{"issued", "spent", "expired", "clawed_back", "returned"} {
		check("30 days "+k, num(fmt.Sprintf(`#dash-period tr[data-kind=%s] td.period`, k)), period[k])
	}
	check("outstanding", num("#dash-outstanding"), api.Outstanding.Total)
	if got, want := text(t, ctx, "#dash-value"), fmt.Sprintf("¥%d.%02d", api.Outstanding.ValueFen/100, api.Outstanding.ValueFen%100); got != want {
		t.Errorf("liability's worth: page %q, API %s", got, want)
	}
	months := eval[[]string](t, ctx, `[...document.querySelectorAll('#dash-expiring tr.month')].map(r => r.dataset.month + '=' + r.cells[1].innerText.replaceAll(',', ''))`)
	var want []string
	for _, m := range api.Outstanding.Expiring {
		want = append(want, fmt.Sprintf("%s=%d", m.Month, m.Points))
	}
	if strings.Join(months, " ") != strings.Join(want, " ") {
		t.Errorf("expiring months: page %v, API %v", months, want)
	}
	var sent30 int
	for _, d := range api.Reminders.Days {
		sent30 += d.ByStatus["sent"]
	}
	check("reminders sent in 30 days", num(`#dash-reminder-table tr[data-status=sent] td.period`), int64(sent30))
	if n := eval[int](t, ctx, `document.querySelectorAll('#points-chart polyline').length`); n != 3 {
		t.Errorf("%d lines in the points chart", n)
	}

	do(t, ctx, "English", chromedp.Click(chromedp.CSS("#lang")))
	waitJS(t, ctx, "the English page", `document.documentElement.lang === "en" && document.readyState === "complete" && !!document.querySelector("#points-chart")`)
	if h := text(t, ctx, "#dash-today h2"); h != "Today" {
		t.Errorf("English heading %q", h)
	}
	check("issued today (English)", num("#dash-issued-today"), today.Totals["issued"])
	shot(t, ctx, "12-dashboard-english")
}

// Before the analytics job's first snapshot the dashboard says so instead
// of failing, every role may read it, and it needs a session.
func TestDashboardBeforeTheFirstSnapshot(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	anon := s.client()
	if r := anon.get("/console/dashboard"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/console/login") {
		t.Fatalf("without a session: %d %v", r.status, r.header)
	}
	c := s.client()
	c.signIn("auditor")
	r := c.get("/console/dashboard")
	if r.status != 200 || !strings.Contains(r.body, `id="dash-no-snapshot"`) || !strings.Contains(r.body, "数据概览") ||
		!strings.Contains(r.body, `id="dash-issued-today" data-value="0"`) {
		t.Fatalf("dashboard: %d %.3000s", r.status, r.body)
	}
	if r := c.get("/console/"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/dashboard" {
		t.Fatalf("/console/: %d %v", r.status, r.header)
	}
}
