package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// campaignFixture is a harness with shoppers holding points that expire.
type campaignFixture struct {
	t        *testing.T
	h        *apptest.Harness
	marketer string
	auditor  string
}

func newCampaignFixture(t *testing.T) *campaignFixture {
	h := apptest.New(t, func(c *configs.Config) {
		c.Reminder.Templates["custom_wecom"] = configs.ReminderTemplate{Channel: "wecom",
			Text: "{{nickname}} 的 {{points}} 积分可换 {{coupon}}，到 {{shop}} 使用"}
	})
	return &campaignFixture{t: t, h: h, marketer: h.ConsoleLogin("marketer"), auditor: h.ConsoleLogin("auditor")}
}

// shopper logs a new shopper in and gives them pts expiring at exp; with
// quota they accepted the expiry subscribe template once (here and at the
// simulator).
func (f *campaignFixture) shopper(name string, pts int64, exp time.Time, quota bool) (int64, string) {
	f.t.Helper()
	user := apptest.UniqueUser(name)
	token, _, id := f.h.Login(user)
	if pts > 0 {
		key := fmt.Sprintf("seed-%d", id)
		if _, err := f.h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: id, Points: pts, Key: key,
			Ref: ledger.Ref{Type: "test", ID: key}, ExpiresAt: exp}); err != nil {
			f.t.Fatal(err)
		}
	}
	openid := "sim-openid-" + user
	if quota {
		r := f.h.Do("POST", "/api/v1/shopper/subscriptions", `{"results":{"sim-tmpl-expiry":"accept"}}`, apptest.Auth(token)...)
		if r.Status != 200 {
			f.t.Fatalf("subscribe: %d %s", r.Status, r.Body)
		}
		f.h.Sim.GrantSubscription(openid, "sim-tmpl-expiry", 1)
	}
	return id, openid
}

// at moves the clock to t and logs the console users in again (access
// tokens live 15 minutes).
func (f *campaignFixture) at(t time.Time) {
	f.h.Clock.Set(t)
	f.marketer, f.auditor = f.h.ConsoleLogin("marketer"), f.h.ConsoleLogin("auditor")
}

func (f *campaignFixture) do(method, path string, body any, token string) *apptest.Response {
	f.t.Helper()
	return f.h.Do(method, path, body, apptest.Auth(token)...)
}

// create posts a campaign and returns its id.
func (f *campaignFixture) create(body string) int64 {
	f.t.Helper()
	r := f.do("POST", "/api/v1/console/campaigns", body, f.marketer)
	if r.Status != 201 {
		f.t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON()["campaign"].(map[string]any)["id"].(float64))
}

func (f *campaignFixture) status(id int64) string {
	f.t.Helper()
	r := f.do("GET", fmt.Sprintf("/api/v1/console/campaigns/%d", id), nil, f.auditor)
	if r.Status != 200 {
		f.t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	return r.JSON()["campaign"].(map[string]any)["status"].(string)
}

type campaignReport struct {
	Report struct {
		Total     int            `json:"total"`
		ByStatus  map[string]int `json:"by_status"`
		ByErrCode map[string]int `json:"by_errcode"`
		Failures  []struct {
			MemberID int64  `json:"member_id"`
			Channel  string `json:"channel"`
			ErrCode  int64  `json:"errcode"`
			Reason   string `json:"reason"`
		} `json:"failures"`
	} `json:"report"`
}

func (f *campaignFixture) report(id int64) campaignReport {
	f.t.Helper()
	r := f.do("GET", fmt.Sprintf("/api/v1/console/campaigns/%d/report", id), nil, f.auditor)
	if r.Status != 200 {
		f.t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	var out campaignReport
	r.Decode(f.t, &out)
	return out
}

// tick runs the scheduler once at the clock's now: the campaign runner,
// then the outbox drain against the simulator.
func (f *campaignFixture) tick() { f.h.App.Reminder.Scheduler.Tick(context.Background()) }

func (f *campaignFixture) outboxRows(campaignPrefix string) map[string]int {
	f.t.Helper()
	var rows []struct {
		Status string
		Reason string
	}
	err := f.h.Env.DB.Conn(context.Background()).Table("reminder_outbox").Select("status, reason").
		Where("campaign LIKE ?", campaignPrefix+"%").Scan(&rows).Error
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status]++
		if r.Reason == "campaign cancelled" {
			out["cancelled"]++
		}
	}
	return out
}

// The whole flow: create → dry-run (writes nothing) → schedule → the
// scheduler's tick runs it at once_at and the dispatcher delivers through
// the simulator → report; a second tick enqueues nothing new.
func TestCampaignEndToEnd(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t)
	start := f.h.Clock.Now() // Monday 10:00 Shanghai
	inThreeDays := start.AddDate(0, 0, 3)
	alice, aliceOpenID := f.shopper("alice", 1200, inThreeDays, true)
	bob, _ := f.shopper("bob", 300, inThreeDays, false)
	_, carolOpenID := f.shopper("carol", 900, start.AddDate(0, 0, 60), true) // expires too late
	f.shopper("dave", 50, inThreeDays, true)                                 // below min_points

	onceAt := start.Add(time.Hour).Format(time.RFC3339)
	id := f.create(`{"name":"双11 积分提醒","audience":{"expiring_within_days":7,"min_points":100},
		"channels":["subscribe","wecom"],"templates":{"subscribe":"expiry_subscribe"},
		"schedule":{"once_at":"` + onceAt + `"}}`)
	base := fmt.Sprintf("/api/v1/console/campaigns/%d", id)

	outboxBefore, campaignsBefore := count(t, f.h, "reminder_outbox"), count(t, f.h, "reminder_campaigns")
	var dry struct {
		DryRun struct {
			Audience  int            `json:"audience"`
			ByChannel map[string]int `json:"by_channel"`
			Samples   []struct {
				MemberID int64             `json:"member_id"`
				Channel  string            `json:"channel"`
				To       string            `json:"to"`
				Data     map[string]string `json:"data"`
				Reason   string            `json:"reason"`
			} `json:"samples"`
		} `json:"dry_run"`
	}
	r := f.do("POST", base+"/dry-run", nil, f.auditor) // any role: it writes nothing
	if r.Status != 200 {
		t.Fatalf("dry-run: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &dry)
	if dry.DryRun.Audience != 2 || dry.DryRun.ByChannel["subscribe"] != 1 || dry.DryRun.ByChannel["none"] != 1 || len(dry.DryRun.Samples) != 2 {
		t.Fatalf("dry-run %s", r.Body)
	}
	for _, s := range dry.DryRun.Samples {
		switch s.MemberID {
		case alice:
			if s.Channel != "subscribe" || s.Data["thing1"] != "1,200 积分即将过期" || strings.Contains(s.To, "alice") || s.To == "" {
				t.Fatalf("alice's sample %+v", s)
			}
		case bob:
			if s.Channel != "none" || !strings.Contains(s.Reason, "no subscription quota") {
				t.Fatalf("bob's sample %+v", s)
			}
		default:
			t.Fatalf("sample of member %d outside the audience", s.MemberID)
		}
	}
	if count(t, f.h, "reminder_outbox") != outboxBefore || count(t, f.h, "reminder_campaigns") != campaignsBefore || f.status(id) != "draft" {
		t.Fatalf("dry-run wrote")
	}

	if r := f.do("POST", base+"/schedule", nil, f.marketer); r.Status != 200 || f.status(id) != "scheduled" {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	if r := f.do("POST", base+"/schedule", nil, f.marketer); r.Status != 409 || !strings.Contains(r.JSON()["error"].(map[string]any)["message"].(string), "scheduled") {
		t.Fatalf("schedule twice: %d %s", r.Status, r.Body)
	}

	f.tick() // 10:00: not due yet
	if n := count(t, f.h, "reminder_outbox"); n != outboxBefore {
		t.Fatalf("enqueued %d rows before once_at", n-outboxBefore)
	}
	f.at(start.Add(time.Hour))
	f.tick()
	if st := f.status(id); st != "done" {
		t.Fatalf("after the run: %s", st)
	}
	if got := f.outboxRows(fmt.Sprintf("campaign:%d:", id)); got["sent"] != 1 || got["skipped"] != 1 || len(got) != 2 {
		t.Fatalf("outbox %v, want alice sent and bob skipped", got)
	}
	if d := f.h.Sim.Delivered(aliceOpenID); len(d) != 1 {
		t.Fatalf("simulator delivered %d to alice", len(d))
	}
	if d := f.h.Sim.Delivered(carolOpenID); len(d) != 0 {
		t.Fatalf("carol (outside the audience) got %d", len(d))
	}
	rows := count(t, f.h, "reminder_outbox")
	f.at(start.Add(time.Hour + time.Minute))
	f.tick()
	if count(t, f.h, "reminder_outbox") != rows {
		t.Fatalf("a second tick enqueued more")
	}
	rep := f.report(id)
	if rep.Report.Total != 2 || rep.Report.ByStatus["sent"] != 1 || rep.Report.ByStatus["skipped"] != 1 || rep.Report.ByStatus["pending"] != 0 {
		t.Fatalf("report %+v", rep.Report)
	}
	for _, p := range []string{"/pause", "/schedule", "/cancel"} {
		if r := f.do("POST", base+p, nil, f.marketer); r.Status != 409 {
			t.Fatalf("%s of a done campaign: %d %s", p, r.Status, r.Body)
		}
	}
	if r := f.do("PUT", base, `{"version":99,"name":"x"}`, f.marketer); r.Status != 409 {
		t.Fatalf("PUT of a stale version: %d %s", r.Status, r.Body)
	}
	var cur struct {
		Campaign struct {
			Version int64 `json:"version"`
		} `json:"campaign"`
	}
	f.do("GET", base, nil, f.auditor).Decode(t, &cur)
	if r := f.do("PUT", base, fmt.Sprintf(`{"version":%d,"name":"x"}`, cur.Campaign.Version), f.marketer); r.Status != 409 {
		t.Fatalf("PUT of a done campaign: %d %s", r.Status, r.Body)
	}
}

// A run inside quiet hours enqueues at once, but the dispatcher holds the
// message until the window ends; cancelling skips what is still pending.
func TestCampaignQuietHoursDeferAndCancelSkips(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t)
	start := f.h.Clock.Now()
	exp := start.AddDate(0, 0, 3)
	_, a := f.shopper("quiet-a", 500, exp, true)
	_, b := f.shopper("quiet-b", 500, exp, true)
	night := time.Date(2026, 11, 23, 22, 0, 0, 0, domain.Shanghai).Format(time.RFC3339)
	quiet := f.create(`{"name":"夜间","audience":{"expiring_within_days":7},"channels":["subscribe"],"schedule":{"once_at":"` + night + `"}}`)
	// A cron campaign is scheduled again after its run, its messages still
	// waiting for the morning: cancelling it skips them.
	cancel := f.create(`{"name":"取消","audience":{"expiring_within_days":7},"channels":["subscribe"],"quiet_hours":"21:00-09:00","schedule":{"cron":"0 22 * * *"}}`)
	for _, id := range []int64{quiet, cancel} {
		if r := f.do("POST", fmt.Sprintf("/api/v1/console/campaigns/%d/schedule", id), nil, f.marketer); r.Status != 200 {
			t.Fatalf("schedule: %d %s", r.Status, r.Body)
		}
	}
	f.at(time.Date(2026, 11, 23, 22, 0, 30, 0, domain.Shanghai))
	f.tick()
	if st := f.status(quiet); st != "done" {
		t.Fatalf("quiet campaign %s", st)
	}
	if got := f.outboxRows(fmt.Sprintf("campaign:%d:", quiet)); got["pending"] != 2 {
		t.Fatalf("inside quiet hours: %v, want 2 pending", got)
	}
	if n := len(f.h.Sim.Delivered(a)) + len(f.h.Sim.Delivered(b)); n != 0 {
		t.Fatalf("sent %d inside quiet hours", n)
	}

	r := f.do("POST", fmt.Sprintf("/api/v1/console/campaigns/%d/cancel", cancel), nil, f.marketer)
	if r.Status != 200 || r.JSON()["skipped"].(float64) != 2 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if got := f.outboxRows(fmt.Sprintf("campaign:%d:", cancel)); got["skipped"] != 2 || got["cancelled"] != 2 {
		t.Fatalf("after cancel: %v", got)
	}
	if r := f.do("POST", fmt.Sprintf("/api/v1/console/campaigns/%d/cancel", cancel), nil, f.marketer); r.Status != 409 {
		t.Fatalf("cancel twice: %d %s", r.Status, r.Body)
	}

	f.at(time.Date(2026, 11, 24, 9, 1, 0, 0, domain.Shanghai))
	f.tick()
	if got := f.outboxRows(fmt.Sprintf("campaign:%d:", quiet)); got["sent"] != 2 {
		t.Fatalf("after quiet hours: %v, want 2 sent", got)
	}
	// Each member has one quota: the quiet campaign's message used it, the
	// cancelled campaign's never went out.
	if n := len(f.h.Sim.Delivered(a)) + len(f.h.Sim.Delivered(b)); n != 2 {
		t.Fatalf("delivered %d, want 2", n)
	}
	rep := f.report(cancel)
	if rep.Report.ByStatus["skipped"] != 2 || rep.Report.ByStatus["sent"] != 0 {
		t.Fatalf("cancelled report %+v", rep.Report)
	}
}

// Pausing a campaign holds the messages its run queued (here, for quiet
// hours): they wait while it is paused and go once it is resumed.
func TestCampaignPauseHoldsQueuedMessages(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t)
	start := f.h.Clock.Now()
	_, a := f.shopper("held-a", 500, start.AddDate(0, 0, 3), true)
	_, b := f.shopper("held-b", 500, start.AddDate(0, 0, 3), true)
	id := f.create(`{"name":"暂停","audience":{"expiring_within_days":7},"channels":["subscribe"],"quiet_hours":"21:00-09:00","schedule":{"cron":"0 22 * * *"}}`)
	base := fmt.Sprintf("/api/v1/console/campaigns/%d", id)
	if r := f.do("POST", base+"/schedule", nil, f.marketer); r.Status != 200 {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	f.at(time.Date(2026, 11, 23, 22, 0, 30, 0, domain.Shanghai))
	f.tick()
	if got := f.outboxRows(fmt.Sprintf("campaign:%d:", id)); got["pending"] != 2 {
		t.Fatalf("inside quiet hours: %v, want 2 pending", got)
	}
	if r := f.do("POST", base+"/pause", nil, f.marketer); r.Status != 200 {
		t.Fatalf("pause: %d %s", r.Status, r.Body)
	}
	f.at(time.Date(2026, 11, 24, 9, 1, 0, 0, domain.Shanghai))
	f.tick()
	if n := len(f.h.Sim.Delivered(a)) + len(f.h.Sim.Delivered(b)); n != 0 {
		t.Fatalf("a paused campaign delivered %d messages", n)
	}
	if got := f.outboxRows(fmt.Sprintf("campaign:%d:", id)); got["pending"] != 2 {
		t.Fatalf("paused: %v, want 2 still pending", got)
	}
	if r := f.do("POST", base+"/schedule", nil, f.marketer); r.Status != 200 {
		t.Fatalf("resume: %d %s", r.Status, r.Body)
	}
	f.at(time.Date(2026, 11, 24, 9, 3, 0, 0, domain.Shanghai))
	f.tick()
	if n := len(f.h.Sim.Delivered(a)) + len(f.h.Sim.Delivered(b)); n != 2 {
		t.Fatalf("resumed: delivered %d, want 2", n)
	}
}

// A cron campaign goes back to scheduled after each run; pause stops it,
// schedule resumes it; a running campaign's audience is frozen.
func TestCampaignCronPauseResume(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t)
	start := f.h.Clock.Now()
	f.shopper("cron-a", 500, start.AddDate(0, 0, 20), true)
	id := f.create(`{"name":"每日","audience":{"expiring_within_days":30},"channels":["subscribe"],"quiet_hours":"","schedule":{"cron":"0 12 * * *"}}`)
	base := fmt.Sprintf("/api/v1/console/campaigns/%d", id)
	if r := f.do("POST", base+"/pause", nil, f.marketer); r.Status != 409 {
		t.Fatalf("pause a draft: %d %s", r.Status, r.Body)
	}
	if r := f.do("POST", base+"/schedule", nil, f.marketer); r.Status != 200 {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	f.at(time.Date(2026, 11, 23, 12, 0, 10, 0, domain.Shanghai))
	f.tick()
	var got struct {
		Campaign struct {
			Status    string    `json:"status"`
			Runs      int       `json:"runs"`
			NextRunAt time.Time `json:"next_run_at"`
			Version   int64     `json:"version"`
		} `json:"campaign"`
	}
	f.do("GET", base, nil, f.auditor).Decode(t, &got)
	if got.Campaign.Status != "scheduled" || got.Campaign.Runs != 1 || !got.Campaign.NextRunAt.Equal(time.Date(2026, 11, 24, 12, 0, 0, 0, domain.Shanghai)) {
		t.Fatalf("after the first cron run: %+v", got.Campaign)
	}
	if r := f.do("POST", base+"/pause", nil, f.marketer); r.Status != 200 || f.status(id) != "paused" {
		t.Fatalf("pause: %d %s", r.Status, r.Body)
	}
	f.at(time.Date(2026, 11, 24, 12, 0, 10, 0, domain.Shanghai))
	f.tick()
	if rows := f.outboxRows(fmt.Sprintf("campaign:%d:", id)); rows["sent"] != 1 || len(rows) != 1 {
		t.Fatalf("paused campaign ran: %v", rows)
	}
	if r := f.do("POST", base+"/schedule", nil, f.marketer); r.Status != 200 {
		t.Fatalf("resume: %d %s", r.Status, r.Body)
	}
	f.do("GET", base, nil, f.auditor).Decode(t, &got)
	if !got.Campaign.NextRunAt.Equal(time.Date(2026, 11, 25, 12, 0, 0, 0, domain.Shanghai)) {
		t.Fatalf("resumed next run %v", got.Campaign.NextRunAt)
	}
	// Put the campaign in the middle of a run: the runner's claim.
	camp, err := f.h.App.Reminder.Campaigns.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 1, 0, domain.Shanghai)
	store := f.h.App.Reminder.Campaigns.Store
	if ok, err := store.ClaimCampaign(context.Background(), camp, 2, now, now.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	v := camp.Version
	if r := f.do("PUT", base, fmt.Sprintf(`{"version":%d,"name":"每日","audience":{"expiring_within_days":10},"channels":["subscribe"],"quiet_hours":"","schedule":{"cron":"0 12 * * *"}}`, v), f.marketer); r.Status != 409 {
		t.Fatalf("audience edit while running: %d %s", r.Status, r.Body)
	}
	if r := f.do("PUT", base, fmt.Sprintf(`{"version":%d,"name":"每日提醒","audience":{"expiring_within_days":30},"channels":["subscribe"],"quiet_hours":"","schedule":{"cron":"0 12 * * *"}}`, v), f.marketer); r.Status != 200 {
		t.Fatalf("rename while running: %d %s", r.Status, r.Body)
	}
	if r := f.do("POST", base+"/pause", nil, f.marketer); r.Status != 200 {
		t.Fatalf("pause while running: %d %s", r.Status, r.Body)
	}
}

// Every refused request answers 4xx in the error shape and writes nothing.
func TestCampaignBadInput(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t)
	start := f.h.Clock.Now()
	shopperToken, _, _ := f.h.Login(apptest.UniqueUser("bad"))
	empty := f.create(`{"name":"没人","audience":{"expiring_within_days":7},"schedule":{"once_at":"` + start.Add(time.Hour).Format(time.RFC3339) + `"}}`)
	past := f.create(`{"name":"过去","audience":{"expiring_within_days":7},"schedule":{"once_at":"` + start.Add(-time.Hour).Format(time.RFC3339) + `"}}`)
	noSchedule := f.create(`{"name":"无计划","audience":{"expiring_within_days":7}}`)
	const ok = `{"name":"ok","audience":{"expiring_within_days":7}}`
	// Campaign variables fill a template's own placeholders.
	f.create(`{"name":"券","channels":["wecom"],"templates":{"wecom":"custom_wecom"},"variables":{"coupon":"满100减10券","shop":"南京西路店"}}`)
	big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	path := "/api/v1/console/campaigns"
	cases := []struct {
		name, method, path, body, token string
		want                            int
		field                           string
	}{
		{"malformed", "POST", path, `{"name":`, f.marketer, 400, ""},
		{"unknown field", "POST", path, `{"name":"x","budget":1}`, f.marketer, 400, "budget"},
		{"unknown nested field", "POST", path, `{"name":"x","audience":{"gender":"f"}}`, f.marketer, 400, "audience.gender"},
		{"wrong type", "POST", path, `{"name":"x","audience":{"min_points":"many"}}`, f.marketer, 400, "audience.min_points"},
		{"no name", "POST", path, `{"audience":{}}`, f.marketer, 400, "name"},
		{"oversized", "POST", path, big, f.marketer, 413, ""},
		{"no token", "POST", path, ok, "", 401, ""},
		{"forged token", "POST", path, ok, f.marketer + "x", 401, ""},
		{"shopper token", "POST", path, ok, shopperToken, 401, ""},
		{"auditor writes", "POST", path, ok, f.auditor, 403, ""},
		{"auditor schedules", "POST", fmt.Sprintf("%s/%d/schedule", path, noSchedule), "", f.auditor, 403, ""},
		{"auditor cancels", "POST", fmt.Sprintf("%s/%d/cancel", path, noSchedule), "", f.auditor, 403, ""},
		{"unknown campaign", "GET", path + "/999999", "", f.auditor, 404, ""},
		{"unknown campaign report", "GET", path + "/999999/report", "", f.auditor, 404, ""},
		{"unknown campaign schedule", "POST", path + "/999999/schedule", "", f.marketer, 404, ""},
		{"not an id", "GET", path + "/abc", "", f.auditor, 404, ""},
		{"cron never fires", "POST", path, `{"name":"x","audience":{"expiring_within_days":7},"schedule":{"cron":"0 0 31 2 *"}}`, f.marketer, 422, "schedule.cron"},
		{"cron every minute", "POST", path, `{"name":"x","audience":{"expiring_within_days":7},"schedule":{"cron":"* * * * *"}}`, f.marketer, 422, "schedule.cron"},
		{"cron twice a day", "POST", path, `{"name":"x","audience":{"expiring_within_days":7},"schedule":{"cron":"0 9,18 * * *"}}`, f.marketer, 422, "schedule.cron"},
		{"cron twice on the 1st", "POST", path, `{"name":"x","audience":{"expiring_within_days":7},"schedule":{"cron":"0 10,11 1 * *"}}`, f.marketer, 422, "schedule.cron"},
		{"cron malformed", "POST", path, `{"name":"x","audience":{"expiring_within_days":7},"schedule":{"cron":"every day"}}`, f.marketer, 400, "schedule.cron"},
		{"once and cron", "POST", path, `{"name":"x","audience":{"expiring_within_days":7},"schedule":{"cron":"0 9 * * *","once_at":"2030-01-01T00:00:00Z"}}`, f.marketer, 400, "schedule"},
		{"whole-day quiet hours", "POST", path, `{"name":"x","audience":{"expiring_within_days":7},"quiet_hours":"09:00-09:00"}`, f.marketer, 422, "quiet_hours"},
		{"malformed quiet hours", "POST", path, `{"name":"x","audience":{"expiring_within_days":7},"quiet_hours":"night"}`, f.marketer, 400, "quiet_hours"},
		{"unknown variables", "POST", path, `{"name":"x","channels":["wecom"],"templates":{"wecom":"custom_wecom"},"variables":{"coupon":"券"}}`, f.marketer, 422, "templates.wecom"},
		{"template not configured", "POST", path, `{"name":"x","templates":{"subscribe":"nope"}}`, f.marketer, 422, "templates.subscribe"},
		{"template of another channel", "POST", path, `{"name":"x","audience":{"expiring_within_days":7},"templates":{"subscribe":"expiry_robot"}}`, f.marketer, 422, "templates.subscribe"},
		{"expire_date without expiring", "POST", path, `{"name":"x","channels":["subscribe"]}`, f.marketer, 422, "templates.subscribe"},
		{"unknown channel", "POST", path, `{"name":"x","channels":["sms"]}`, f.marketer, 400, "channels"},
		{"negative days", "POST", path, `{"name":"x","audience":{"expiring_within_days":-1}}`, f.marketer, 400, "audience.expiring_within_days"},
		{"negative points", "POST", path, `{"name":"x","audience":{"min_points":-5}}`, f.marketer, 400, "audience.min_points"},
		{"unknown tier", "POST", path, `{"name":"x","audience":{"tiers":["platinum"]}}`, f.marketer, 400, "audience.tiers"},
		{"builtin variable", "POST", path, `{"name":"x","variables":{"points":"9"}}`, f.marketer, 400, "variables.points"},
		{"throttle over the config", "POST", path, `{"name":"x","audience":{"expiring_within_days":7},"throttle_per_minute":{"robot":50}}`, f.marketer, 422, "throttle_per_minute.robot"},
		{"empty audience", "POST", fmt.Sprintf("%s/%d/schedule", path, empty), "", f.marketer, 422, "audience"},
		{"once_at in the past", "POST", fmt.Sprintf("%s/%d/schedule", path, past), "", f.marketer, 422, "schedule.once_at"},
		{"no schedule", "POST", fmt.Sprintf("%s/%d/schedule", path, noSchedule), "", f.marketer, 422, "schedule"},
		{"PUT without version", "PUT", fmt.Sprintf("%s/%d", path, noSchedule), ok, f.marketer, 400, "version"},
		{"bad limit", "GET", path + "?limit=0", "", f.auditor, 400, "limit"},
	}
	// The requests docs/openapi.yaml itself forbids; the others are refused
	// for what the spec cannot say (configuration, state, auth).
	specForbids := map[string]bool{"malformed": true, "unknown field": true, "unknown nested field": true, "wrong type": true,
		"no name": true, "oversized": true, "unknown channel": true, "negative days": true, "negative points": true,
		"PUT without version": true, "bad limit": true}
	before := count(t, f.h, "reminder_campaigns")
	for _, tc := range cases {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		var hdr []string
		if tc.token != "" {
			hdr = apptest.Auth(tc.token)
		}
		r := f.h.Send(!specForbids[tc.name], tc.method, tc.path, body, hdr...)
		if r.Status != tc.want || r.ErrorCode() == "" {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
			continue
		}
		if tc.field != "" {
			fields, _ := r.JSON()["error"].(map[string]any)["fields"].(map[string]any)
			if _, ok := fields[tc.field]; !ok {
				t.Errorf("%s: no field error for %q: %s", tc.name, tc.field, r.Body)
			}
		}
	}
	if n := count(t, f.h, "reminder_campaigns"); n != before {
		t.Fatalf("%d campaigns written by refused requests", n-before)
	}
	for _, id := range []int64{empty, past, noSchedule} {
		if st := f.status(id); st != "draft" {
			t.Fatalf("campaign %d became %s", id, st)
		}
	}
	if n := count(t, f.h, "reminder_outbox"); n != 0 {
		t.Fatalf("%d outbox rows", n)
	}
}

// The list pages newest first with a cursor, like every console list.
func TestCampaignListPages(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t)
	for i := range 3 {
		f.create(fmt.Sprintf(`{"name":"c%d","audience":{"expiring_within_days":7}}`, i))
	}
	var page struct {
		Campaigns []struct {
			Name string `json:"name"`
		} `json:"campaigns"`
		NextCursor *int64 `json:"next_cursor"`
	}
	f.do("GET", "/api/v1/console/campaigns?limit=2", nil, f.auditor).Decode(t, &page)
	if len(page.Campaigns) != 2 || page.Campaigns[0].Name != "c2" || page.NextCursor == nil {
		t.Fatalf("first page %+v", page)
	}
	f.do("GET", fmt.Sprintf("/api/v1/console/campaigns?limit=2&cursor=%d", *page.NextCursor), nil, f.auditor).Decode(t, &page)
	if len(page.Campaigns) != 1 || page.Campaigns[0].Name != "c0" || page.NextCursor != nil {
		t.Fatalf("second page %+v", page)
	}
}

// Every campaign write leaves one audit row naming who did what, and a
// refused write leaves none.
func TestCampaignWritesAreAudited(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t)
	f.shopper("audited", 500, f.h.Clock.Now().AddDate(0, 0, 20), true)
	id := f.create(`{"name":"审计","audience":{"expiring_within_days":30},"channels":["subscribe"],"quiet_hours":"","schedule":{"cron":"0 12 * * *"}}`)
	base := fmt.Sprintf("/api/v1/console/campaigns/%d", id)
	if r := f.do("POST", base+"/pause", nil, f.marketer); r.Status != 409 { // refused: no row
		t.Fatalf("pause a draft: %d %s", r.Status, r.Body)
	}
	for _, step := range []string{"/schedule", "/pause", "/cancel"} {
		if r := f.do("POST", base+step, nil, f.marketer); r.Status != 200 {
			t.Fatalf("%s: %d %s", step, r.Status, r.Body)
		}
	}
	admin := f.h.ConsoleLogin("admin")
	var got struct {
		Entries []struct {
			Actor     string `json:"actor"`
			ActorRole string `json:"actor_role"`
			Action    string `json:"action"`
			Target    string `json:"target"`
		} `json:"entries"`
	}
	f.do("GET", fmt.Sprintf("/api/v1/console/audit?target=campaign:%d", id), nil, admin).Decode(t, &got)
	var actions []string
	for _, e := range got.Entries {
		if e.Actor != "marketer" || e.ActorRole != "marketer" || e.Target != fmt.Sprintf("campaign:%d", id) {
			t.Fatalf("audit row %+v", e)
		}
		actions = append(actions, e.Action)
	}
	want := []string{"campaign.cancel", "campaign.pause", "campaign.schedule", "campaign.create"} // newest first
	if strings.Join(actions, ",") != strings.Join(want, ",") {
		t.Fatalf("audit actions %v, want %v", actions, want)
	}
}
