package console_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
)

// A campaign holding out half its audience: the held-out members get an
// outbox row "holdout" and nothing at the simulator, the campaign report
// counts them, and after 8 days the reminder-effect route reports both
// groups (nobody converted: the conversions are checked in
// repo/reminderstore). The holdout share is validated; the route refuses
// bad input and other audiences.
func TestReminderEffectOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t)
	start := f.h.Clock.Now()
	openid := map[int64]string{}
	var reached, held int
	for i := range 12 {
		id, oid := f.shopper(fmt.Sprintf("eff%d", i), 500, start.AddDate(0, 0, 3), true)
		openid[id] = oid
	}
	for _, bad := range []string{`501`, `-1`, `"10"`, `null`} {
		r := f.h.DoInvalid("POST", "/api/v1/console/campaigns", `{"name":"对照","audience":{"expiring_within_days":7},"holdout_permille":`+bad+`}`, apptest.Auth(f.marketer)...)
		if r.Status != 400 {
			t.Errorf("holdout_permille %s: %d %s", bad, r.Status, r.Body)
		}
	}
	// The name starts as a spreadsheet formula would: the JSON gives it as
	// typed, the CSV defuses it.
	id := f.create(`{"name":"=对照组","audience":{"expiring_within_days":7},"channels":["subscribe"],"holdout_permille":500,
		"schedule":{"once_at":"` + start.Add(time.Hour).Format(time.RFC3339) + `"}}`)
	for m := range openid {
		if reminder.HeldOut(reminder.CampaignKeyPrefix(id), m, 500) {
			held++
		} else {
			reached++
		}
	}
	if reached == 0 || held == 0 {
		t.Fatalf("split %d/%d: the scenario needs both groups", reached, held)
	}
	base := fmt.Sprintf("/api/v1/console/campaigns/%d", id)
	if got := f.do("GET", base, nil, f.auditor).JSON()["campaign"].(map[string]any)["holdout_permille"]; got != float64(500) {
		t.Fatalf("holdout_permille = %v", got)
	}
	if r := f.do("POST", base+"/schedule", nil, f.marketer); r.Status != 200 {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	f.at(start.Add(time.Hour))
	f.tick()
	if got := f.outboxRows(fmt.Sprintf("campaign:%d:", id)); got["sent"] != reached || got["holdout"] != held || len(got) != 2 {
		t.Fatalf("outbox %v, want %d sent and %d held out", got, reached, held)
	}
	for m, oid := range openid {
		want := 1
		if reminder.HeldOut(reminder.CampaignKeyPrefix(id), m, 500) {
			want = 0
		}
		if got := len(f.h.Sim.Delivered(oid)); got != want {
			t.Fatalf("member %d: %d delivered, want %d", m, got, want)
		}
	}
	if rep := f.report(id); rep.Report.Total != 12 || rep.Report.ByStatus["holdout"] != held || rep.Report.ByStatus["sent"] != reached {
		t.Fatalf("report %+v", rep.Report)
	}

	f.at(start.AddDate(0, 0, 8)) // every 7-day window has ended
	if _, err := f.h.App.Analytics.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	day := domain.DayOf(start).String()
	var out struct {
		Window    int `json:"window_days"`
		Reminders []struct {
			Reminder   string `json:"reminder"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
			CampaignID int64  `json:"campaign_id"`
			Reached    struct {
				Members, Converted int64
				Share              *int64 `json:"share_bp"`
			} `json:"reached"`
			Holdout struct {
				Members, Converted int64
			} `json:"holdout"`
			Open       int64 `json:"open"`
			Difference *struct {
				BP   int64 `json:"bp"`
				Low  int64 `json:"low_bp"`
				High int64 `json:"high_bp"`
			} `json:"difference"`
		} `json:"reminders"`
	}
	for _, tok := range []string{f.auditor, f.marketer} {
		r := f.do("GET", "/api/v1/console/analytics/reminder-effect?from="+day+"&to="+day, nil, tok)
		if r.Status != 200 {
			t.Fatalf("reminder-effect: %d %s", r.Status, r.Body)
		}
		r.Decode(t, &out)
	}
	if out.Window != 7 || len(out.Reminders) != 1 {
		t.Fatalf("reminder-effect %+v", out)
	}
	e := out.Reminders[0]
	if e.Reminder != fmt.Sprintf("campaign:%d", id) || e.Kind != "campaign" || e.Name != "=对照组" || e.CampaignID != id ||
		e.Reached.Members != int64(reached) || e.Holdout.Members != int64(held) || e.Reached.Converted != 0 || e.Holdout.Converted != 0 ||
		e.Open != 0 || e.Reached.Share == nil || *e.Reached.Share != 0 || e.Difference == nil || *e.Difference != struct {
		BP   int64 `json:"bp"`
		Low  int64 `json:"low_bp"`
		High int64 `json:"high_bp"`
	}{} {
		t.Fatalf("effect %+v", e)
	}
	r := f.do("GET", "/api/v1/console/analytics/reminder-effect?format=csv&from="+day+"&to="+day, nil, f.auditor)
	want := fmt.Sprintf("\ufeffreminder,kind,name,reached,reached_converted,reached_share_bp,holdout,holdout_converted,holdout_share_bp,difference_bp,low_bp,high_bp,open\n"+
		"campaign:%d,campaign,'=对照组,%d,0,0,%d,0,0,0,0,0,0\n", id, reached, held)
	if r.Status != 200 || !bytes.Equal(r.Body, []byte(want)) {
		t.Fatalf("csv: %d %q, want %q", r.Status, r.Body, want)
	}
	if r := f.h.Send(false, "GET", "/api/v1/console/analytics/reminder-effect?format=xml", nil, apptest.Auth(f.auditor)...); r.Status != 400 || r.Fields()["format"] == nil {
		t.Errorf("format=xml: %d %s", r.Status, r.Body)
	}
	if r := f.h.Send(true, "GET", "/api/v1/console/analytics/reminder-effect?from=2026-02-30", nil, apptest.Auth(f.auditor)...); r.Status != 400 || r.Fields()["from"] == nil {
		t.Errorf("from=2026-02-30: %d %s", r.Status, r.Body)
	}
	if r := f.do("GET", "/api/v1/console/analytics/reminder-effect?from=2026-12-01&to=2026-11-01", nil, f.auditor); r.Status != 400 {
		t.Errorf("to before from: %d %s", r.Status, r.Body)
	}
	if r := f.do("GET", "/api/v1/console/analytics/reminder-effect?from=2025-01-01&to=2026-12-01", nil, f.auditor); r.Status != 400 {
		t.Errorf("a range over 366 days: %d %s", r.Status, r.Body)
	}
	shopper, _, _ := f.h.Login("eff-shopper")
	if r := f.h.Do("GET", "/api/v1/console/analytics/reminder-effect", nil, apptest.Auth(shopper)...); r.Status != 401 && r.Status != 403 {
		t.Errorf("a shopper token: %d %s", r.Status, r.Body)
	}
	if r := f.h.Do("GET", "/api/v1/console/analytics/reminder-effect", nil); r.Status != 401 {
		t.Errorf("no token: %d %s", r.Status, r.Body)
	}
}
