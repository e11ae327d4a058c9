package reminderstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/memberstore"
	"github.com/jifen/jifen/repo/reminderstore"
)

type campaignFixture struct {
	*dispatchFixture
	led   *ledger.Service
	svc   *reminder.Campaigns
	store *reminderstore.Campaigns
	ids   map[string]int64
}

func newCampaignStoreFixture(t *testing.T) *campaignFixture {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	led := &ledger.Service{Store: &ledgerstore.Store{DB: f.env.DB}, Tx: f.env.DB, Clock: f.clock}
	store := &reminderstore.Campaigns{DB: f.env.DB}
	svc := &reminder.Campaigns{Store: store, Audience: store, Ledger: led, Outbox: f.outbox, Tx: f.env.DB, Clock: f.clock,
		Recipients: &reminderstore.Recipients{DB: f.env.DB},
		Page:       2, // smaller than the audience: exercises paging
		Config: reminder.CampaignConfig{Channels: []reminder.Channel{reminder.Subscribe, reminder.WeCom, reminder.Robot},
			Tiers: []string{"normal", "silver", "gold"}, QuietHours: "",
			Templates: map[string]reminder.MessageTemplate{
				"sub":   {Name: "sub", Channel: reminder.Subscribe, WeChatID: "tmpl-expiry", Fields: map[string]string{"thing1": "{{points}} 积分", "date2": "{{expire_date}}"}},
				"robot": {Name: "robot", Channel: reminder.Robot, Text: "{{nickname}} 有 {{points}} 积分"},
			},
			Defaults: map[reminder.Channel]string{reminder.Subscribe: "sub", reminder.Robot: "robot"}}}
	return &campaignFixture{dispatchFixture: f, led: led, svc: svc, store: store, ids: map[string]int64{}}
}

// member creates a member with points expiring in days, active lastActive
// days ago.
func (f *campaignFixture) member(t *testing.T, name string, pts int64, days, lastActive int) int64 {
	t.Helper()
	now := f.clock.Now()
	m := &member.Member{OpenID: f.openid(len(f.ids) + 1), Nickname: name, CreatedAt: now, LastActive: now.AddDate(0, 0, -lastActive)}
	if err := (&memberstore.Store{DB: f.env.DB}).Create(f.ctx, m); err != nil {
		t.Fatal(err)
	}
	f.ids[name] = m.ID
	key := "seed-" + name
	if _, err := f.led.Earn(f.ctx, ledger.EarnInput{MemberID: m.ID, Points: pts, Key: key, Ref: ledger.Ref{Type: "test", ID: key},
		ExpiresAt: now.AddDate(0, 0, days)}); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func (f *campaignFixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if err := f.env.DB.Conn(f.ctx).Exec(sql, args...).Error; err != nil {
		t.Fatal(err)
	}
}

func (f *campaignFixture) audience(t *testing.T, a reminder.Audience) []int64 {
	t.Helper()
	c, err := f.svc.Create(f.ctx, "test", reminder.CampaignInput{Name: "a", Spec: reminder.CampaignSpec{Audience: a,
		Channels: []reminder.Channel{reminder.Robot}}})
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := f.svc.DryRun(f.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, s := range res.Samples {
		out = append(out, s.MemberID)
	}
	return out
}

func TestCampaignAudienceFiltersInSQL(t *testing.T) {
	f := newCampaignStoreFixture(t)
	now := f.clock.Now()
	a := f.member(t, "a", 500, 3, 0)   // normal, store 1, active today
	b := f.member(t, "b", 800, 5, 40)  // gold, store 2, inactive 40 days
	c := f.member(t, "c", 100, 20, 60) // silver, no guide, expires late
	d := f.member(t, "d", 900, 2, 10)  // gold, store 1
	f.exec(t, "INSERT INTO stores (id, name, robot_key, created_at, updated_at) VALUES (1, 's1', 'robot-1', ?, ?), (2, 's2', '', ?, ?)", now, now, now, now)
	f.exec(t, "INSERT INTO guides (id, userid, code, name, store_id, monthly_budget, status, created_at, updated_at) VALUES (1, 'g1', 'c1', 'G1', 1, 0, 'active', ?, ?), (2, 'g2', 'c2', 'G2', 2, 0, 'active', ?, ?)", now, now, now, now)
	f.exec(t, "INSERT INTO guide_customers (member_id, guide_id, source, external_userid, bound_at) VALUES (?, 1, 'qr', '', ?), (?, 2, 'qr', '', ?), (?, 1, 'qr', '', ?)", a, now, b, now, d, now)
	for id, lv := range map[int64]string{b: "gold", c: "silver", d: "gold"} {
		f.exec(t, "INSERT INTO member_tiers (member_id, level, growth_fen, paid_orders, week_start, week_orders, reached_at, review_at, updated_at) VALUES (?, ?, 0, 0, 0, 0, ?, ?, ?)", id, lv, now, now, now)
	}
	cases := []struct {
		name string
		a    reminder.Audience
		want []int64
	}{
		{"expiring in 7 days", reminder.Audience{ExpiringWithinDays: 7}, []int64{a, b, d}},
		{"at least 600 expiring", reminder.Audience{ExpiringWithinDays: 7, MinPoints: 600}, []int64{b, d}},
		{"lowest tier without a row", reminder.Audience{ExpiringWithinDays: 30, Tiers: []string{"normal", "silver"}}, []int64{a, c}},
		{"gold in store 1", reminder.Audience{ExpiringWithinDays: 7, Tiers: []string{"gold"}, StoreIDs: []int64{1}}, []int64{d}},
		{"inactive 30 days", reminder.Audience{ExpiringWithinDays: 30, InactiveSinceDays: 30}, []int64{b, c}},
		{"balances, no expiry window", reminder.Audience{MinPoints: 500}, []int64{a, b, d}},
		{"balances in store 2", reminder.Audience{StoreIDs: []int64{2}}, []int64{b}},
	}
	for _, tc := range cases {
		if got := f.audience(t, tc.a); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// Channel choice sees the guide's store robot: a and d have one.
	c1, err := f.svc.Create(f.ctx, "test", reminder.CampaignInput{Name: "r", Spec: reminder.CampaignSpec{
		Audience: reminder.Audience{ExpiringWithinDays: 7}, Channels: []reminder.Channel{reminder.Robot}}})
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := f.svc.DryRun(f.ctx, c1.ID)
	if err != nil || res.ByChannel[reminder.Robot] != 2 || res.ByChannel[reminder.None] != 1 || res.Audience != 3 {
		t.Fatalf("dry-run %+v %v", res, err)
	}
}

// Two instances tick at once: one claims the campaign, and a rerun, a
// resumed crashed run or a second tick enqueue nothing new.
func TestCampaignRunClaimedOnceAndRerunEnqueuesNothing(t *testing.T) {
	f := newCampaignStoreFixture(t)
	for i := range 5 {
		id := f.member(t, fmt.Sprintf("m%d", i), 100*int64(i+1), 3, 0)
		if i%2 == 0 {
			if err := f.outbox.AddQuota(f.ctx, id, []string{"tmpl-expiry"}, f.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	at := f.clock.Now().Add(time.Hour)
	c, err := f.svc.Create(f.ctx, "test", reminder.CampaignInput{Name: "x", Spec: reminder.CampaignSpec{
		Audience: reminder.Audience{ExpiringWithinDays: 7}, Channels: []reminder.Channel{reminder.Subscribe},
		Schedule: reminder.CampaignSchedule{OnceAt: &at}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Schedule(f.ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(at)
	var wg sync.WaitGroup
	reps := make([]reminder.RunReport, 4)
	for i := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			reps[i], err = f.svc.RunDue(context.Background(), at)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	claimed, enq := 0, 0
	for _, r := range reps {
		claimed += r.Claimed
		enq += r.Enqueued
	}
	if claimed != 1 || enq != 5 {
		t.Fatalf("claimed %d runs, enqueued %d rows; want 1 and 5", claimed, enq)
	}
	key := c.Key(1)
	st := f.statuses(t, key)
	if st[reminder.Pending] != 3 || st[reminder.Skipped] != 2 {
		t.Fatalf("rows %v: 3 with quota pending, 2 skipped", st)
	}
	got, _ := f.svc.Get(f.ctx, c.ID)
	if got.Status != reminder.CampaignDone || got.Runs != 1 || got.OpenRun != 0 {
		t.Fatalf("after the run %+v", got)
	}
	if rep, err := f.svc.RunDue(f.ctx, at.Add(time.Minute)); err != nil || rep.Claimed != 0 {
		t.Fatalf("done campaign ran again: %+v %v", rep, err)
	}

	// A crashed run: running with an expired lease, run 1 still open. The
	// next instance resumes it under the same key and enqueues nothing
	// new, even for members whose channel would now differ.
	f.exec(t, "UPDATE reminder_campaigns SET status = 'running', open_run = 1, lease_until = ? WHERE id = ?", at.UTC(), c.ID)
	f.exec(t, "DELETE FROM reminder_subscriptions")
	rep, err := f.svc.RunDue(f.ctx, at.Add(10*time.Minute))
	if err != nil || rep.Claimed != 1 || rep.Enqueued != 0 || rep.Finished != 1 {
		t.Fatalf("resumed run %+v %v, want claimed and nothing enqueued", rep, err)
	}
	if n := len(f.statuses(t, key)); n != 2 {
		t.Fatalf("statuses %v", f.statuses(t, key))
	}
	if st := f.statuses(t, c.Key(2)); len(st) != 0 {
		t.Fatalf("a resumed run used a new key: %v", st)
	}

	// Cancel after the run skips what is still pending; report counts it.
	f.exec(t, "UPDATE reminder_campaigns SET status = 'scheduled', next_run_at = ? WHERE id = ?", at.AddDate(1, 0, 0).UTC(), c.ID)
	if _, n, err := f.svc.Cancel(f.ctx, c.ID); err != nil || n != 3 {
		t.Fatalf("cancel skipped %d (%v), want 3", n, err)
	}
	_, report, err := f.svc.Report(f.ctx, c.ID)
	if err != nil || report.ByStatus[reminder.Skipped] != 5 || report.ByStatus[reminder.Pending] != 0 {
		t.Fatalf("report %+v %v", report, err)
	}
}

// The report folds claimed and sending into pending, counts errcodes and
// samples failures, over every run of the campaign and no other.
func TestCampaignReportCountsEveryRun(t *testing.T) {
	f := newCampaignStoreFixture(t)
	now := f.clock.Now()
	rows := []reminder.Delivery{
		{Campaign: "campaign:7:1", MemberID: 1, Channel: reminder.Subscribe},
		{Campaign: "campaign:7:1", MemberID: 2, Channel: reminder.Subscribe},
		{Campaign: "campaign:7:2", MemberID: 1, Channel: reminder.Robot},
		{Campaign: "campaign:7:2", MemberID: 3, Channel: reminder.None, Status: reminder.Skipped, Reason: "no channel"},
		{Campaign: "campaign:70:1", MemberID: 1, Channel: reminder.Subscribe},
		{Campaign: "campaign:8:1", MemberID: 1, Channel: reminder.Subscribe},
	}
	for i := range rows {
		rows[i].NextAt = now
	}
	if _, err := f.outbox.Enqueue(f.ctx, rows); err != nil {
		t.Fatal(err)
	}
	f.exec(t, "UPDATE reminder_outbox SET status = 'failed', err_code = 43101, reason = 'no quota' WHERE campaign = 'campaign:7:1' AND member_id = 1")
	f.exec(t, "UPDATE reminder_outbox SET status = 'sending' WHERE campaign = 'campaign:7:2' AND member_id = 1")
	rep, err := f.store.Report(f.ctx, reminder.CampaignKeyPrefix(7), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[reminder.Status]int{reminder.Pending: 2, reminder.Failed: 1, reminder.Skipped: 1, reminder.Sent: 0, reminder.Uncertain: 0, reminder.Holdout: 0}
	if fmt.Sprint(rep.ByStatus) != fmt.Sprint(want) || rep.ByErrCode[43101] != 1 || len(rep.Failures) != 1 || rep.Failures[0].Reason != "no quota" {
		t.Fatalf("report %+v", rep)
	}
}

// Outcomes counts every reminder (campaigns' and the automatic ones) on the
// Shanghai day of its last attempt, claimed and sending folded into
// pending, and never-attempted rows on no day.
func TestOutcomesCountEachMessageOnTheDayOfItsLastAttempt(t *testing.T) {
	f := newCampaignStoreFixture(t)
	now := f.clock.Now() // 2026-11-23 10:00 Shanghai
	var rows []reminder.Delivery
	for i := int64(1); i <= 7; i++ {
		rows = append(rows, reminder.Delivery{Campaign: "expiry:2026-11-22", MemberID: i, Channel: reminder.Subscribe, NextAt: now})
	}
	rows = append(rows, reminder.Delivery{Campaign: "campaign:9:1", MemberID: 1, Channel: reminder.Robot, NextAt: now},
		reminder.Delivery{Campaign: "campaign:9:1", MemberID: 2, Channel: reminder.Robot, NextAt: now})
	if _, err := f.outbox.Enqueue(f.ctx, rows); err != nil {
		t.Fatal(err)
	}
	at := func(member int64, campaign, status, shanghai string) {
		ts, err := time.ParseInLocation("2006-01-02 15:04:05", shanghai, domain.Shanghai)
		if err != nil {
			t.Fatal(err)
		}
		f.exec(t, "UPDATE reminder_outbox SET status = ?, attempted_at = ? WHERE campaign = ? AND member_id = ?", status, ts.UTC(), campaign, member)
	}
	at(1, "expiry:2026-11-22", "sent", "2026-11-22 00:00:00")   // the first instant of the 22nd
	at(2, "expiry:2026-11-22", "sent", "2026-11-22 23:59:59")   // the last second of the 22nd
	at(3, "expiry:2026-11-22", "failed", "2026-11-23 07:59:59") // 23:59:59 UTC on the 22nd is the 23rd in Shanghai
	at(4, "expiry:2026-11-22", "uncertain", "2026-11-23 09:00:00")
	at(5, "expiry:2026-11-22", "sending", "2026-11-23 09:30:00")
	at(6, "expiry:2026-11-22", "sent", "2026-11-21 23:59:59") // before the range
	at(1, "campaign:9:1", "sent", "2026-11-23 09:45:00")
	// member 7 was never attempted: it stays pending on no day.
	// Member 2 of the campaign was held out: never attempted, it counts
	// on the day it would have been sent.
	held, err := time.ParseInLocation("2006-01-02 15:04:05", "2026-11-23 09:50:00", domain.Shanghai)
	if err != nil {
		t.Fatal(err)
	}
	f.exec(t, "UPDATE reminder_outbox SET status = 'holdout', next_at = ? WHERE campaign = 'campaign:9:1' AND member_id = 2", held.UTC())
	got, err := f.svc.Outcomes(f.ctx, domain.DayOf(now).AddDays(-1), domain.DayOf(now))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Day.String() != "2026-11-22" || got[1].Day.String() != "2026-11-23" {
		t.Fatalf("days %+v", got)
	}
	want := []map[reminder.Status]int{
		{reminder.Sent: 2, reminder.Failed: 0, reminder.Uncertain: 0, reminder.Skipped: 0, reminder.Pending: 0},
		{reminder.Sent: 1, reminder.Failed: 1, reminder.Uncertain: 1, reminder.Skipped: 0, reminder.Pending: 1, reminder.Holdout: 1},
	}
	for i := range want {
		if fmt.Sprint(got[i].ByStatus) != fmt.Sprint(want[i]) {
			t.Errorf("%s: %v, want %v", got[i].Day, got[i].ByStatus, want[i])
		}
	}
	if _, err := f.svc.Outcomes(f.ctx, domain.DayOf(now), domain.DayOf(now).AddDays(-1)); domain.ErrorCode(err) != domain.Invalid {
		t.Errorf("to before from: %v", err)
	}
	if _, err := f.svc.Outcomes(f.ctx, domain.DayOf(now).AddDays(-366), domain.DayOf(now)); domain.ErrorCode(err) != domain.Invalid {
		t.Errorf("367 days: %v", err)
	}
}
