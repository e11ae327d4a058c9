package reminderstore_test

import (
	"fmt"
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

func TestAutoRemindersOneRowPerMemberAndOffsetSentOnce(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	led := &ledger.Service{Store: &ledgerstore.Store{DB: f.env.DB}, Tx: f.env.DB, Clock: f.clock}
	members := &memberstore.Store{DB: f.env.DB}
	ids := map[string]int64{}
	openid := map[int64]string{}
	for i, name := range []string{"two lots", "one lot", "later only", "no quota"} {
		m := &member.Member{OpenID: f.openid(i + 1), Nickname: name, CreatedAt: f.clock.Now(), LastActive: f.clock.Now()}
		if err := members.Create(f.ctx, m); err != nil {
			t.Fatal(err)
		}
		ids[name], openid[m.ID] = m.ID, m.OpenID
	}
	// Day 7 is 30 November: two lots of "two lots" fall in it at either end
	// of the Shanghai day; the lots on 1 December and in 60 days do not.
	nov30 := time.Date(2026, 11, 30, 0, 0, 0, 0, domain.Shanghai)
	earn := func(name string, pts int64, at time.Time) {
		t.Helper()
		key := fmt.Sprintf("%s-%d-%d", name, pts, at.Unix())
		if _, err := led.Earn(f.ctx, ledger.EarnInput{MemberID: ids[name], Points: pts, Key: key,
			Ref: ledger.Ref{Type: "order", ID: key}, ExpiresAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	earn("two lots", 1000, nov30.Add(30*time.Minute))
	earn("two lots", 200, nov30.Add(23*time.Hour+59*time.Minute))
	earn("two lots", 50, nov30.Add(24*time.Hour+30*time.Minute))
	earn("one lot", 300, nov30.Add(12*time.Hour))
	earn("later only", 900, nov30.AddDate(0, 0, 60))
	earn("no quota", 500, nov30.Add(9*time.Hour))

	// "two lots" and "one lot" accepted the subscribe message; "no quota"
	// did not, and no other channel reaches them.
	for _, name := range []string{"two lots", "one lot"} {
		if err := f.outbox.AddQuota(f.ctx, ids[name], []string{"tmpl-expiry"}, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		simServer.GrantSubscription(openid[ids[name]], "tmpl-expiry", 1)
	}
	auto := &reminder.AutoReminders{Ledger: led, Recipients: &reminderstore.Recipients{DB: f.env.DB}, Outbox: f.outbox,
		Offsets: []int{30, 7, 1}, Page: 2, // a page smaller than the audience exercises paging
		Order: []reminder.Channel{reminder.Subscribe},
		Templates: map[reminder.Channel]reminder.MessageTemplate{reminder.Subscribe: {Channel: reminder.Subscribe,
			WeChatID: "tmpl-expiry", Page: "pages/points/index",
			Fields: map[string]string{"thing1": "{{points}} 积分即将过期", "date2": "{{expire_date}}"}}}}
	rep, err := auto.Run(f.ctx, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Enqueued[7] != 3 || rep.Enqueued[30] != 0 || rep.Enqueued[1] != 0 {
		t.Fatalf("enqueued %v, want 3 rows for T-7 only", rep.Enqueued)
	}
	const campaign = "auto:7:2026-11-30"
	ds, err := f.outbox.Deliveries(f.ctx, campaign)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{
		ids["two lots"]: "您有 1,200 积分将于 2026年11月30日 过期",
		ids["one lot"]:  "您有 300 积分将于 2026年11月30日 过期",
		ids["no quota"]: "您有 500 积分将于 2026年11月30日 过期",
	}
	if len(ds) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(ds), len(want), ds)
	}
	for _, d := range ds {
		if d.MemberID == ids["no quota"] {
			if d.Channel != reminder.None || d.Status != reminder.Skipped || d.Reason != "subscribe: no subscription quota" {
				t.Fatalf("member without quota: %+v", d)
			}
			continue
		}
		if d.Message.Text != want[d.MemberID] || d.Channel != reminder.Subscribe || d.Message.To != openid[d.MemberID] {
			t.Fatalf("member %d row %+v, want text %q to %s", d.MemberID, d, want[d.MemberID], openid[d.MemberID])
		}
	}
	for _, d := range ds {
		if d.MemberID == ids["two lots"] && (d.Message.Data["thing1"] != "1,200 积分即将过期" || d.Message.Data["date2"] != "2026年11月30日") {
			t.Fatalf("rendered fields %v", d.Message.Data)
		}
	}

	again, err := auto.Run(f.ctx, f.clock.Now())
	if err != nil || again.Enqueued[7] != 0 || again.Members[7] != 3 {
		t.Fatalf("rerun %+v %v, want 3 members seen and nothing enqueued", again, err)
	}

	drained, err := f.d.Drain(f.ctx)
	if err != nil || drained.Sent != 2 || drained.Claimed != 2 {
		t.Fatalf("drain %+v %v, want the 2 subscribe rows sent and the skipped row left alone", drained, err)
	}
	for name, n := range map[string]int{"two lots": 1, "one lot": 1, "later only": 0, "no quota": 0} {
		if got := len(simServer.Delivered(openid[ids[name]])); got != n {
			t.Fatalf("%s: simulator delivered %d, want %d", name, got, n)
		}
	}
}

func TestFormatPointsAndChineseDate(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1200: "1,200", 123456: "123,456", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := reminder.FormatPoints(n); got != want {
			t.Fatalf("FormatPoints(%d) = %q, want %q", n, got, want)
		}
	}
	if got := reminder.ChineseDate(domain.DayOf(time.Date(2026, 1, 5, 23, 0, 0, 0, domain.Shanghai))); got != "2026年1月5日" {
		t.Fatalf("ChineseDate = %q", got)
	}
}
