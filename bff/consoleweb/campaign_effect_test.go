package consoleweb_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/reminder"
)

// TestCampaignPageHoldoutAndEffect: the campaign form sets the holdout
// share (refusing one past 500‰ as the API does), the delivery report
// counts the members held out, and once the analytics job has recorded the
// reaches the page shows the campaign's reached and held-out groups with
// the figures of GET /api/v1/console/analytics/reminder-effect.
func TestCampaignPageHoldoutAndEffect(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	now := s.h.Clock.Now()
	var members []int64
	for i := range 12 {
		members = append(members, expiring(t, s, fmt.Sprintf("holdout%d", i), 500, now.AddDate(0, 0, 3), true))
	}

	m := s.client()
	m.signIn("marketer")
	csrf := field(t, csrfRe, m.get("/console/campaigns/new"))
	onceAt := now.Add(5 * time.Minute).In(domain.Shanghai).Format("2006-01-02T15:04")
	before := count(t, s.h, "reminder_campaigns")
	for _, bad := range []string{"501", "-1", "half"} {
		r := m.do("POST", "/console/campaigns", campaignForm(csrf, map[string]string{"once_at": onceAt, "holdout_permille": bad}))
		if r.status/100 != 4 || !strings.Contains(r.body, `id="campaign-errors"`) {
			t.Errorf("holdout %q: %d", bad, r.status)
		}
	}
	if n := count(t, s.h, "reminder_campaigns"); n != before {
		t.Fatalf("refused forms wrote %d campaigns", n-before)
	}
	r := m.do("POST", "/console/campaigns", campaignForm(csrf, map[string]string{"once_at": onceAt, "holdout_permille": "500"}))
	loc := campaignLoc.FindStringSubmatch(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || loc == nil {
		t.Fatalf("create: %d %.2000s", r.status, r.body)
	}
	id, _ := strconv.ParseInt(loc[1], 10, 64)
	page := "/console/campaigns/" + loc[1]
	auditor := apptest.Auth(s.h.ConsoleLogin("auditor"))
	if got := s.h.Do("GET", fmt.Sprintf("/api/v1/console/campaigns/%d", id), nil, auditor...).JSON()["campaign"].(map[string]any); got["holdout_permille"] != float64(500) {
		t.Fatalf("the API reads holdout_permille %v", got["holdout_permille"])
	}
	p := m.get(page)
	if !strings.Contains(p.body, `name="holdout_permille" type="number" min="0" max="500" value="500"`) || !strings.Contains(p.body, `id="effect-none"`) {
		t.Fatalf("the page before any reach: %.3000s", p.body)
	}

	held := 0
	for _, mid := range members {
		if reminder.HeldOut(reminder.CampaignKeyPrefix(id), mid, 500) {
			held++
		}
	}
	if held == 0 || held == len(members) {
		t.Fatalf("%d of %d held out: the scenario needs both groups", held, len(members))
	}
	if r := m.do("POST", page+"/schedule", map[string][]string{"csrf_token": {csrf}, "form_key": {freshKey()}}); r.status != http.StatusSeeOther {
		t.Fatalf("schedule: %d", r.status)
	}
	s.h.Clock.Advance(6 * time.Minute)
	s.h.App.Reminder.Scheduler.Tick(context.Background())
	p = m.get(page)
	if got := field(t, dataValue("report-holdout"), p); got != strconv.Itoa(held) {
		t.Fatalf("report: %s held out, want %d", got, held)
	}
	if got := field(t, dataValue("report-sent"), p); got != strconv.Itoa(len(members)-held) {
		t.Fatalf("report: %s sent, want %d", got, len(members)-held)
	}

	// The analytics job records the reaches (after its lag); nobody has
	// converted yet and every 7-day window is open.
	s.h.Clock.Advance(10 * time.Minute)
	if _, _, err := s.h.App.Analytics.ReachFacts(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.h.App.Analytics.ReachFacts(context.Background()); err != nil {
		t.Fatal(err)
	}
	var api struct {
		Reminders []struct {
			CampaignID int64 `json:"campaign_id"`
			Reached    struct{ Members, Converted int64 }
			Holdout    struct{ Members, Converted int64 }
			Open       int64
			Difference *struct {
				BP int64 `json:"bp"`
			}
		}
	}
	day := domain.DayOf(s.h.Clock.Now()).String()
	effects := func() {
		t.Helper()
		r := s.h.Do("GET", "/api/v1/console/analytics/reminder-effect?from="+day+"&to="+day, nil, apptest.Auth(s.h.ConsoleLogin("auditor"))...)
		if r.Status != 200 {
			t.Fatalf("reminder effect: %d %s", r.Status, r.Body)
		}
		r.Decode(t, &api)
	}
	effects()
	if len(api.Reminders) != 1 || api.Reminders[0].CampaignID != id {
		t.Fatalf("the API's effects: %+v", api.Reminders)
	}
	e := api.Reminders[0]
	if e.Open != int64(len(members)) {
		t.Fatalf("open reaches %d, want %d", e.Open, len(members))
	}

	// A reached member redeems two days later: a conversion.
	var buyer int64
	for _, mid := range members {
		if !reminder.HeldOut(reminder.CampaignKeyPrefix(id), mid, 500) {
			buyer = mid
			break
		}
	}
	s.h.Clock.Advance(2 * 24 * time.Hour)
	if _, err := s.h.App.Ledger.Spend(context.Background(), ledger.SpendInput{MemberID: buyer, Points: 100, Key: "effect-buy",
		Ref: ledger.Ref{Type: "mall", ID: "effect-buy"}}); err != nil {
		t.Fatal(err)
	}

	// Six days more, the windows have closed: the windows have closed without a conversion: the
	// page's groups are the API's, both final.
	s.h.Clock.Advance(6 * 24 * time.Hour)
	if _, _, err := s.h.App.Analytics.ReachFacts(context.Background()); err != nil {
		t.Fatal(err)
	}
	effects()
	e = api.Reminders[0]
	if e.Reached.Members != int64(len(members)-held) || e.Reached.Converted != 1 || e.Holdout.Members != int64(held) || e.Holdout.Converted != 0 || e.Open != 0 {
		t.Fatalf("settled effect %+v, want %d reached and %d held out", e, len(members)-held, held)
	}
	m.signIn("marketer") // eight days outlive the console session
	p = m.get(page)
	for id, want := range map[string]int64{"effect-reached": e.Reached.Members, "effect-reached-converted": e.Reached.Converted,
		"effect-holdout": e.Holdout.Members, "effect-holdout-converted": e.Holdout.Converted} {
		if got := field(t, dataValue(id), p); got != strconv.FormatInt(want, 10) {
			t.Errorf("%s: page %s, API %d", id, got, want)
		}
	}
	if e.Difference == nil || e.Difference.BP <= 0 || !strings.Contains(p.body, fmt.Sprintf(`id="effect-diff" data-value="%d"`, e.Difference.BP)) {
		t.Errorf("the difference %+v is not the page's: %.3000s", e.Difference, p.body[strings.Index(p.body, `id="effect"`):])
	}
}
