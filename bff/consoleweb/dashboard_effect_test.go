package consoleweb_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/reminder"
)

// effectHistory runs two campaigns to the same twelve members whose
// points expire in 3 days: "春季提醒" holds out 500‰ of them — exactly 8
// reached and 4 held out (members falling in a full group get points that
// expire outside the audience's 7 days) — and "周末提醒" holds out
// nobody. Two days after, three of the reached members and one held-out
// member redeem; six days later every 7-day window has closed and the
// analytics job settles the reaches. So:
//
//	春季提醒  reached 3 of 8 (37.50%), held out 1 of 4 (25.00%), difference +12.50% [-41.59%, +66.59%]
//	周末提醒  reached 4 of 12 (33.33%), no holdout
func effectHistory(t *testing.T, s *site) (spring, weekend int64) {
	t.Helper()
	ctx := context.Background()
	start := s.h.Clock.Now()
	admin := s.h.ConsoleLogin("admin")
	create := func(name string, holdout int) int64 {
		t.Helper()
		body := fmt.Sprintf(`{"name":%q,"audience":{"expiring_within_days":7,"min_points":100},"channels":["subscribe"],
			"templates":{"subscribe":"expiry_subscribe"},"holdout_permille":%d,"schedule":{"once_at":%q}}`,
			name, holdout, start.Add(5*time.Minute).Format(time.RFC3339))
		r := s.h.Do("POST", "/api/v1/console/campaigns", body, apptest.Auth(admin)...)
		if r.Status != 201 {
			t.Fatalf("campaign %s: %d %s", name, r.Status, r.Body)
		}
		return int64(r.JSON()["campaign"].(map[string]any)["id"].(float64))
	}
	spring, weekend = create("春季提醒", 500), create("周末提醒", 0)

	var reached, held []int64
	for i := 0; len(reached) < 8 || len(held) < 4; i++ {
		if i == 200 {
			t.Fatalf("200 members gave %d reached and %d held out", len(reached), len(held))
		}
		user := apptest.UniqueUser(fmt.Sprint("effect", i))
		token, _, id := s.h.Login(user)
		out := reminder.HeldOut(reminder.CampaignKeyPrefix(spring), id, 500)
		exp := start.AddDate(0, 0, 60) // outside the audience
		switch {
		case out && len(held) < 4:
			held, exp = append(held, id), start.AddDate(0, 0, 3)
		case !out && len(reached) < 8:
			reached, exp = append(reached, id), start.AddDate(0, 0, 3)
		}
		key := fmt.Sprintf("effect-seed-%d", id)
		if _, err := s.h.App.Ledger.Earn(ctx, ledger.EarnInput{MemberID: id, Points: 500, Key: key,
			Ref: ledger.Ref{Type: "test", ID: key}, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // one message of each campaign
			if r := s.h.Do("POST", "/api/v1/shopper/subscriptions", `{"results":{"sim-tmpl-expiry":"accept"}}`, apptest.Auth(token)...); r.Status != 200 {
				t.Fatalf("subscribe: %d %s", r.Status, r.Body)
			}
		}
		s.h.Sim.GrantSubscription("sim-openid-"+user, "sim-tmpl-expiry", 2)
	}
	for _, id := range []int64{spring, weekend} {
		if r := s.h.Do("POST", fmt.Sprintf("/api/v1/console/campaigns/%d/schedule", id), nil, apptest.Auth(admin)...); r.Status != 200 {
			t.Fatalf("schedule %d: %d %s", id, r.Status, r.Body)
		}
	}
	s.h.Clock.Advance(6 * time.Minute)
	s.h.App.Reminder.Scheduler.Tick(ctx)
	s.h.Clock.Advance(10 * time.Minute) // past analytics.lag
	if _, _, err := s.h.App.Analytics.ReachFacts(ctx); err != nil {
		t.Fatal(err)
	}

	s.h.Clock.Advance(2 * 24 * time.Hour)
	for i, id := range []int64{reached[0], reached[1], reached[2], held[0]} {
		key := fmt.Sprint("effect-buy-", i)
		if _, err := s.h.App.Ledger.Spend(ctx, ledger.SpendInput{MemberID: id, Points: 100, Key: key, Ref: ledger.Ref{Type: "mall", ID: key}}); err != nil {
			t.Fatal(err)
		}
	}
	s.h.Clock.Advance(6 * 24 * time.Hour)
	if _, err := s.h.App.Analytics.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return spring, weekend
}

var effectBar = regexp.MustCompile(`<rect class="(reached|holdout)" data-value="(\d+)" x="\d+" y="\d+" width="\d+" height="(\d+)">`)

// The dashboard charts each recent campaign's reached share against its
// holdout's, with the figures of GET /api/v1/console/analytics/reminder-effect.
func TestDashboardChartsTheReminderEffect(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	spring, weekend := effectHistory(t, s)

	// The API's answer, which the page must draw.
	var api struct {
		Reminders []struct {
			CampaignID int64 `json:"campaign_id"`
			Reached    struct{ Members, Converted, ShareBP int64 }
			Holdout    struct{ Members, Converted int64 }
			Open       int64
		}
	}
	r := s.h.Do("GET", "/api/v1/console/analytics/reminder-effect", nil, apptest.Auth(s.h.ConsoleLogin("auditor"))...)
	if r.Status != 200 {
		t.Fatalf("reminder effect: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &api)
	got := map[int64]string{}
	for _, e := range api.Reminders {
		got[e.CampaignID] = fmt.Sprintf("%d/%d %d/%d open %d", e.Reached.Converted, e.Reached.Members, e.Holdout.Converted, e.Holdout.Members, e.Open)
	}
	if got[spring] != "3/8 1/4 open 0" || got[weekend] != "4/12 0/0 open 0" {
		t.Fatalf("the API's effects: %v", got)
	}

	c := s.client()
	c.signIn("auditor")
	p := c.get("/console/dashboard")
	if p.status != 200 {
		t.Fatalf("dashboard: %d %.2000s", p.status, p.body)
	}
	i := strings.Index(p.body, `id="dash-effect"`)
	if i < 0 {
		t.Fatalf("no effect section: %.3000s", p.body)
	}
	sec := p.body[i:]
	rows := []string{
		fmt.Sprintf(`<tr class="effect" data-campaign="%d">`, spring),
		`<td class="r num reached" data-members="8" data-converted="3" data-value="3750">37.50% <span class="muted small">3/8</span></td>`,
		`<td class="r num holdout" data-members="4" data-converted="1" data-value="2500">25.00% <span class="muted small">1/4</span></td>`,
		`<td class="r num diff" data-value="1250" data-low="-4159" data-high="6659">12.50% <span class="muted small">[-41.59%, 66.59%]</span></td>`,
		fmt.Sprintf(`<tr class="effect" data-campaign="%d">`, weekend),
		`<td class="r num reached" data-members="12" data-converted="4" data-value="3333">33.33% <span class="muted small">4/12</span></td>`,
		`<td class="r num holdout" data-members="0" data-converted="0">—</td>`,
		`<td class="r num diff">—</td>`,
	}
	at := 0
	for _, want := range rows {
		j := strings.Index(sec[at:], want)
		if j < 0 {
			t.Fatalf("the effect table lacks, after what came before, %s:\n%.4000s", want, sec)
		}
		at += j + len(want)
	}
	// The chart: the older campaign on the left, reached then held out; a
	// 0–40% axis (the highest share is 37.50%), 180 px high.
	var bars []string
	for _, m := range effectBar.FindAllStringSubmatch(sec, -1) {
		bars = append(bars, m[1]+" "+m[2]+" "+m[3])
	}
	if want := "reached 3750 168, holdout 2500 112, reached 3333 149"; strings.Join(bars, ", ") != want {
		t.Errorf("bars %q, want %q", strings.Join(bars, ", "), want)
	}
	for _, label := range []string{">0%</text>", ">10%</text>", ">40%</text>", ">春季提醒</text>", ">周末提醒</text>"} {
		if !strings.Contains(sec, label) {
			t.Errorf("the chart lacks %s", label)
		}
	}
	if strings.Contains(sec, `id="dash-no-effect"`) {
		t.Error("the chart says there is no effect")
	}
}

// Without any campaign reach the dashboard says so instead of drawing an
// empty chart.
func TestDashboardWithoutCampaignReaches(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	c.signIn("auditor")
	p := c.get("/console/dashboard")
	if p.status != 200 || !strings.Contains(p.body, `id="dash-no-effect"`) || strings.Contains(p.body, `id="effect-chart"`) {
		t.Fatalf("dashboard without reaches: %d %.3000s", p.status, p.body)
	}
}

// In a browser, under the page's CSP, the effect chart shows both groups'
// columns and the table the shares the HTML test checks.
func TestBrowserDashboardReminderEffect(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	spring, _ := effectHistory(t, s)
	do(t, ctx, "sign in",
		chromedp.Navigate(s.srv.URL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=username]`), "marketer"),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=password]`), "marketer123"),
		chromedp.Click(chromedp.CSS(`#login button`)),
		chromedp.WaitVisible(chromedp.CSS("#effect-chart")), // only the dashboard has it
	)
	waitJS(t, ctx, "the dashboard loaded", `document.readyState === 'complete' && document.querySelectorAll('#dash-effect-table tr.effect').length === 2`)
	shot(t, ctx, "13-dashboard-effect")
	if n := eval[int](t, ctx, `document.querySelectorAll('#effect-chart rect.reached').length * 10 + document.querySelectorAll('#effect-chart rect.holdout').length`); n != 21 {
		t.Errorf("%d reached and %d held-out columns, want 2 and 1", n/10, n%10)
	}
	if h := eval[float64](t, ctx, `document.querySelector('#effect-chart rect.reached').getBoundingClientRect().height`); h <= 0 {
		t.Errorf("the first reached column is %v px high", h)
	}
	cells := eval[[]string](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('#dash-effect-table tr[data-campaign="%d"] td')].map(c => c.innerText.trim())`, spring))
	if strings.Join(cells, " | ") != "37.50% 3/8 | 25.00% 1/4 | 12.50% [-41.59%, 66.59%] | 0" {
		t.Errorf("春季提醒's row: %q", cells)
	}
}
