package consoleweb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// expiring gives a new shopper pts expiring at exp; with quota they have
// accepted the expiry subscribe message once. It returns the member id.
func expiring(t *testing.T, s *site, name string, pts int64, exp time.Time, quota bool) int64 {
	t.Helper()
	user := apptest.UniqueUser(name)
	token, _, id := s.h.Login(user)
	key := fmt.Sprintf("seed-%d", id)
	if _, err := s.h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: id, Points: pts, Key: key,
		Ref: ledger.Ref{Type: "test", ID: key}, ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	if quota {
		if r := s.h.Do("POST", "/api/v1/shopper/subscriptions", `{"results":{"sim-tmpl-expiry":"accept"}}`, apptest.Auth(token)...); r.Status != 200 {
			t.Fatalf("subscribe: %d %s", r.Status, r.Body)
		}
		s.h.Sim.GrantSubscription("sim-openid-"+user, "sim-tmpl-expiry", 1)
	}
	return id
}

// campaignForm is the campaign form as a browser posts it: points
// expiring within 7 days, at least 100, by subscribe message then WeCom;
// a rendering of its own (freshKey).
func campaignForm(csrf string, set map[string]string) url.Values {
	v := url.Values{"csrf_token": {csrf}, "form_key": {freshKey()}, "name": {"积分到期提醒"}, "expiring_within_days": {"7"}, "min_points": {"100"},
		"store_ids": {""}, "inactive_since_days": {""}, "channel": {"subscribe", "wecom", "", ""},
		"template_subscribe": {"expiry_subscribe"}, "var_key": {"", "", "", ""}, "var_value": {"", "", "", ""},
		"once_at": {""}, "cron": {""}, "quiet_hours": {""}}
	for k, val := range set {
		v[k] = []string{val}
	}
	return v
}

var (
	campaignLoc = regexp.MustCompile(`^/console/campaigns/(\d+)\?done=(\w+)$`)
	dataValue   = func(id string) *regexp.Regexp { return regexp.MustCompile(`id="` + id + `"[^>]* data-value="(\d+)"`) }
)

func TestCampaignPagesCreateDryRunScheduleAndReport(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	now := s.h.Clock.Now()
	alice := expiring(t, s, "alice", 1200, now.AddDate(0, 0, 3), true)
	expiring(t, s, "bob", 300, now.AddDate(0, 0, 3), false)
	expiring(t, s, "carol", 900, now.AddDate(0, 0, 60), true) // expires too late

	m := s.client()
	m.signIn("marketer")
	form := m.get("/console/campaigns/new")
	if form.status != 200 || !strings.Contains(form.body, `id="campaign-save"`) {
		t.Fatalf("new campaign form: %d", form.status)
	}
	csrf := field(t, csrfRe, form)
	onceAt := now.Add(5 * time.Minute).In(domain.Shanghai).Format("2006-01-02T15:04")
	for name, set := range map[string]map[string]string{
		"bad time":          {"once_at": "tomorrow"},
		"once and cron":     {"once_at": onceAt, "cron": "0 10 * * *"},
		"unknown template":  {"template_subscribe": "nope"},
		"negative minimum":  {"min_points": "-5"},
		"store id not a no": {"store_ids": "1, x"},
	} {
		if r := m.do("POST", "/console/campaigns", campaignForm(csrf, set)); r.status/100 != 4 || !strings.Contains(r.body, `id="campaign-errors"`) {
			t.Errorf("%s: %d", name, r.status)
		}
	}
	r := m.do("POST", "/console/campaigns", campaignForm(csrf, map[string]string{"once_at": onceAt, "var_key": "shop", "var_value": "南京西路店"}))
	loc := campaignLoc.FindStringSubmatch(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || loc == nil {
		t.Fatalf("create: %d %v %.2000s", r.status, r.header, r.body)
	}
	id := loc[1]
	page := "/console/campaigns/" + id
	api := fmt.Sprintf("/api/v1/console/campaigns/%s", id)
	auditor := apptest.Auth(s.h.ConsoleLogin("auditor"))
	if got := s.h.Do("GET", api, nil, auditor...).JSON()["campaign"].(map[string]any); got["status"] != "draft" ||
		got["variables"].(map[string]any)["shop"] != "南京西路店" || fmt.Sprint(got["channels"]) != "[subscribe wecom]" {
		t.Fatalf("the campaign as the API reads it: %v", got)
	}

	dry := m.do("POST", page+"/dry-run", url.Values{"csrf_token": {csrf}})
	if dry.status != 200 || field(t, dataValue("dry-audience"), dry) != "2" || strings.Count(dry.body, `class="sample"`) != 2 ||
		!strings.Contains(dry.body, "1,200 积分即将过期") {
		t.Fatalf("dry run: %d %.4000s", dry.status, dry.body)
	}
	if n := s.h.Do("POST", api+"/dry-run", nil, auditor...).JSON()["dry_run"].(map[string]any)["audience"]; n != float64(2) {
		t.Fatalf("the API's dry run counts %v", n)
	}
	if r := m.do("POST", page+"/schedule", url.Values{"csrf_token": {csrf}, "form_key": {freshKey()}}); r.status != http.StatusSeeOther {
		t.Fatalf("schedule: %d %.1000s", r.status, r.body)
	}
	if r := m.do("POST", page+"/schedule", url.Values{"csrf_token": {csrf}, "form_key": {freshKey()}}); r.status != http.StatusConflict || !strings.Contains(r.body, `id="campaign-errors"`) {
		t.Fatalf("schedule twice: %d", r.status)
	}

	// The dispatcher runs at once_at and delivers through the simulator.
	s.h.Clock.Advance(6 * time.Minute)
	s.h.App.Reminder.Scheduler.Tick(context.Background())
	rep := m.get(page)
	var want struct {
		Report struct {
			ByStatus map[string]int `json:"by_status"`
		} `json:"report"`
	}
	s.h.Do("GET", api+"/report", nil, apptest.Auth(s.h.ConsoleLogin("auditor"))...).Decode(t, &want)
	for _, st := range []string{"sent", "failed", "uncertain", "skipped", "pending"} {
		if got := field(t, dataValue("report-"+st), rep); got != fmt.Sprint(want.Report.ByStatus[st]) {
			t.Errorf("report %s: page %s, API %d", st, got, want.Report.ByStatus[st])
		}
	}
	if want.Report.ByStatus["sent"] != 1 || !strings.Contains(rep.body, `id="report-chart"`) {
		t.Fatalf("after the run: %v", want.Report.ByStatus)
	}
	_ = alice

	// The deliveries as CSV: UTF-8 with a BOM, a header, one row per
	// message — as many as the report counts, each with its status.
	csvPage := m.get(page + "/deliveries.csv")
	if csvPage.status != 200 || csvPage.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(csvPage.body, "\uFEFFid,批次,会员号,渠道,状态,errcode") {
		t.Fatalf("deliveries CSV: %d %v %.500q", csvPage.status, csvPage.header, csvPage.body)
	}
	lines := strings.Split(strings.TrimSpace(csvPage.body), "\n")
	total := 0
	for _, n := range want.Report.ByStatus {
		total += n
	}
	if len(lines)-1 != total || strings.Count(csvPage.body, ",已发送,") != want.Report.ByStatus["sent"] {
		t.Fatalf("deliveries CSV has %d rows for %d messages: %s", len(lines)-1, total, csvPage.body)
	}
	if !strings.Contains(rep.body, `id="deliveries-csv"`) {
		t.Error("the report has no CSV link")
	}
	if r := m.get("/console/campaigns/999999/deliveries.csv"); r.status != http.StatusNotFound {
		t.Errorf("unknown campaign's CSV: %d", r.status)
	}

	// A cron campaign: schedule, pause, cancel; every step audited.
	r = m.do("POST", "/console/campaigns", campaignForm(csrf, map[string]string{"name": "每周提醒", "cron": "0 10 * * 1"}))
	cid := campaignLoc.FindStringSubmatch(r.header.Get("Location"))[1]
	for _, verb := range []string{"schedule", "pause", "cancel"} {
		if r := m.do("POST", "/console/campaigns/"+cid+"/"+verb, url.Values{"csrf_token": {csrf}, "form_key": {freshKey()}}); r.status != http.StatusSeeOther {
			t.Fatalf("%s: %d %.500s", verb, r.status, r.body)
		}
	}
	if p := m.get("/console/campaigns/" + cid); !strings.Contains(p.body, `data-status="cancelled"`) || strings.Contains(p.body, `id="campaign-cancel"`) {
		t.Fatalf("cancelled campaign page")
	}
	var actions []string
	for _, e := range s.h.Do("GET", "/api/v1/console/audit?target=campaign:"+cid, nil, apptest.Auth(s.h.ConsoleLogin("auditor"))...).JSON()["entries"].([]any) {
		actions = append(actions, fmt.Sprint(e.(map[string]any)["action"], "/", e.(map[string]any)["actor"]))
	}
	if strings.Join(actions, " ") != "campaign.cancel/marketer campaign.pause/marketer campaign.schedule/marketer campaign.create/marketer" {
		t.Fatalf("audit trail %v", actions)
	}
	if r := m.do("POST", "/console/campaigns", campaignForm("", nil)); r.status != http.StatusForbidden {
		t.Fatalf("create without CSRF token: %d", r.status)
	}

	// The auditor: reads, dry-runs, no write buttons; forged writes are 403.
	a := s.client()
	a.signIn("auditor")
	al, ap := a.get("/console/campaigns"), a.get("/console/campaigns/"+cid)
	for _, btn := range []string{"campaign-new", "campaign-save", "campaign-schedule", "campaign-pause", "campaign-cancel"} {
		if strings.Contains(al.body+ap.body, `id="`+btn+`"`) {
			t.Errorf("the auditor sees %s", btn)
		}
	}
	acsrf := field(t, csrfRe, ap)
	before := count(t, s.h, "audit_log")
	for _, path := range []string{"/console/campaigns", page, page + "/schedule", page + "/pause", page + "/cancel"} {
		if r := a.do("POST", path, campaignForm(acsrf, map[string]string{"version": "1"})); r.status != http.StatusForbidden {
			t.Errorf("auditor's forged POST %s: %d", path, r.status)
		}
	}
	if r := a.do("POST", page+"/dry-run", url.Values{"csrf_token": {acsrf}}); r.status != 200 {
		t.Errorf("auditor's dry run: %d", r.status)
	}
	if count(t, s.h, "audit_log") != before {
		t.Fatal("the auditor's forged writes wrote")
	}
}
