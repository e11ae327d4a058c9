package console_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// The analytics routes over HTTP: a console adjustment and a guide-free
// member history show up as facts once the job has run, the liability is
// the members' net balance, CSV has a BOM, and bad input or other
// audiences are refused.
func TestAnalyticsOverHTTP(t *testing.T) {
	h := apptest.New(t)
	admin := h.ConsoleLogin("admin")
	auditor := h.ConsoleLogin("auditor")
	shopper, _, id := h.Login(apptest.UniqueUser("an"))

	if r := h.Do("GET", "/api/v1/console/analytics/outstanding", nil, apptest.Auth(admin)...); r.Status != 404 || r.ErrorCode() != "NOT_FOUND" {
		t.Fatalf("liability before the first run: %d %s", r.Status, r.Body)
	}
	for i, delta := range []int{200, -30} {
		r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), map[string]any{"delta": delta, "reason": "测试"},
			append(apptest.Auth(admin), "Idempotency-Key", fmt.Sprint("an-", i))...)
		if r.Status != 201 {
			t.Fatalf("adjust %d: %d %s", delta, r.Status, r.Body)
		}
	}
	if r := h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(shopper)...); r.Status != 201 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	h.Clock.Set(h.Clock.Now().Add(10 * time.Minute)) // past analytics.lag
	if _, err := h.App.Analytics.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	day := apptest.Start.Format("2006-01-02")
	r := h.Do("GET", "/api/v1/console/analytics/points?from="+day+"&to="+day, nil, apptest.Auth(auditor)...)
	if r.Status != 200 {
		t.Fatalf("points: %d %s", r.Status, r.Body)
	}
	var pts struct {
		Days []struct {
			Day    string
			Totals map[string]int64
			By     map[string]map[string]int64 `json:"by_source"`
			Active int64                       `json:"active_members"`
		}
	}
	r.Decode(t, &pts)
	bal := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(shopper)...).JSON()["points"].(map[string]any)["available"].(float64)
	signin := int64(bal) - 170 // whatever the sign-in paid, beside the console's +200 −30
	if len(pts.Days) != 1 || pts.Days[0].Day != day {
		t.Fatalf("days = %+v", pts.Days)
	}
	d := pts.Days[0]
	if d.By["issued"]["console"] != 200 || d.By["spent"]["console"] != 30 || d.By["issued"]["signin"] != signin || signin <= 0 ||
		d.Totals["issued"] != 200+signin || d.Active != 1 {
		t.Fatalf("facts of %s = %+v (sign-in paid %d)", day, d, signin)
	}

	r = h.Do("GET", "/api/v1/console/analytics/outstanding", nil, apptest.Auth(admin)...)
	out := r.JSON()
	if r.Status != 200 || int64(out["total"].(float64)) != int64(bal) || int64(out["value_fen"].(float64)) != int64(bal) ||
		len(out["expiring_by_month"].([]any)) != 12 {
		t.Fatalf("outstanding: %d %s (balance %v)", r.Status, r.Body, bal)
	}

	r = h.Do("GET", "/api/v1/console/analytics/points?format=csv&from="+day+"&to="+day, nil, apptest.Auth(admin)...)
	if r.Status != 200 || !bytes.HasPrefix(r.Body, []byte("\ufeffday,kind,source,points,active_members\n")) ||
		!bytes.Contains(r.Body, []byte(day+",issued,console,200,1\n")) {
		t.Fatalf("csv: %d %q", r.Status, r.Body)
	}

	for _, c := range []struct {
		query     string
		field     string
		specValid bool
	}{{"?from=2026-13-01", "from", true}, {"?to=yesterday", "to", true}, {"?format=xml", "format", false}} {
		r := h.Send(c.specValid, "GET", "/api/v1/console/analytics/points"+c.query, nil, apptest.Auth(admin)...)
		if r.Status != 400 || r.Fields()[c.field] == nil {
			t.Errorf("%s: %d %s, want 400 naming %s", c.query, r.Status, r.Body, c.field)
		}
	}
	if r := h.Do("GET", "/api/v1/console/analytics/points?from=2026-12-01&to=2026-11-01", nil, apptest.Auth(admin)...); r.Status != 400 {
		t.Errorf("to before from: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/analytics/points", nil, apptest.Auth(shopper)...); r.Status != 401 && r.Status != 403 {
		t.Errorf("a shopper token: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/analytics/outstanding", nil); r.Status != 401 {
		t.Errorf("no token: %d %s", r.Status, r.Body)
	}
}

// The reminders' daily outcomes over HTTP: a campaign's delivered message
// counts on the day the dispatcher attempted it, a message skipped before
// any attempt on no day; bad input and other audiences are refused.
func TestAnalyticsRemindersOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t)
	start := f.h.Clock.Now()
	f.shopper("alice", 1200, start.AddDate(0, 0, 3), true)
	f.shopper("bob", 300, start.AddDate(0, 0, 3), false) // no channel: skipped, never attempted
	id := f.create(`{"name":"提醒","audience":{"expiring_within_days":7,"min_points":100},"channels":["subscribe"],
		"templates":{"subscribe":"expiry_subscribe"},"schedule":{"once_at":"` + start.Add(time.Hour).Format(time.RFC3339) + `"}}`)
	if r := f.do("POST", fmt.Sprintf("/api/v1/console/campaigns/%d/schedule", id), nil, f.marketer); r.Status != 200 {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	f.at(start.Add(time.Hour))
	f.tick()
	if rep := f.report(id).Report; rep.ByStatus["sent"] != 1 || rep.ByStatus["skipped"] != 1 {
		t.Fatalf("campaign report %+v", rep)
	}

	var out struct {
		From, To string
		Days     []struct {
			Day      string
			ByStatus map[string]int `json:"by_status"`
			Total    int
		}
	}
	r := f.do("GET", "/api/v1/console/analytics/reminders", nil, f.auditor)
	if r.Status != 200 {
		t.Fatalf("reminders: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &out)
	today := apptest.Start.Format("2006-01-02")
	if len(out.Days) != 30 || out.To != today || out.Days[29].Day != today || out.Days[0].Day != out.From {
		t.Fatalf("range %s…%s, %d days", out.From, out.To, len(out.Days))
	}
	d := out.Days[29]
	if d.Total != 1 || d.ByStatus["sent"] != 1 || d.ByStatus["failed"] != 0 || d.ByStatus["skipped"] != 0 || len(d.ByStatus) != 5 {
		t.Fatalf("today %+v", d)
	}
	if out.Days[28].Total != 0 {
		t.Fatalf("yesterday %+v", out.Days[28])
	}

	// format=csv is a CSV download like every other analytics route's (it
	// used to answer the JSON above): one row per day, a column per outcome.
	yesterday := apptest.Start.AddDate(0, 0, -1).Format("2006-01-02")
	r = f.do("GET", "/api/v1/console/analytics/reminders?format=csv&from="+yesterday+"&to="+today, nil, f.auditor)
	want := "\ufeffday,sent,failed,uncertain,skipped,pending,holdout,total\n" +
		yesterday + ",0,0,0,0,0,0,0\n" +
		today + ",1,0,0,0,0,0,1\n"
	if r.Status != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" || string(r.Body) != want {
		t.Fatalf("reminders as CSV: %d %s %q, want %q", r.Status, r.Header.Get("Content-Type"), r.Body, want)
	}
	if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="reminders-`+yesterday+`-`+today+`.csv"` {
		t.Fatalf("Content-Disposition %q", cd)
	}

	for _, c := range []struct {
		query     string
		field     string
		specValid bool
	}{{"?from=2026-13-01", "from", true}, {"?to=yesterday", "to", true}, {"?format=xml", "format", false}} {
		if r := f.h.Send(c.specValid, "GET", "/api/v1/console/analytics/reminders"+c.query, nil, apptest.Auth(f.auditor)...); r.Status != 400 || r.Fields()[c.field] == nil {
			t.Errorf("%s: %d %s, want 400 naming %s", c.query, r.Status, r.Body, c.field)
		}
	}
	for _, q := range []string{"?from=2026-12-01&to=2026-11-01", "?from=2025-01-01&to=2026-12-31"} {
		if r := f.do("GET", "/api/v1/console/analytics/reminders"+q, nil, f.auditor); r.Status != 400 {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	shopper, _, _ := f.h.Login(apptest.UniqueUser("an"))
	if r := f.do("GET", "/api/v1/console/analytics/reminders", nil, shopper); r.Status != 401 && r.Status != 403 {
		t.Errorf("a shopper token: %d %s", r.Status, r.Body)
	}
	if r := f.h.Do("GET", "/api/v1/console/analytics/reminders", nil); r.Status != 401 {
		t.Errorf("no token: %d %s", r.Status, r.Body)
	}
}
