package reminderstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo/analyticsstore"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/memberstore"
	"github.com/jifen/jifen/repo/reminderstore"
)

// TestReminderEffectWithHoldout seeds a known history: 20 members whose
// points expire in 7 days, an automatic T−7 reminder holding out 500‰ of
// them, the outbox drained through the simulator; then orders and
// redemptions within 7 days of the reach, after 8 days, and none. It
// checks that the held-out members are recorded and never sent, the exact
// reached and held-out figures with their effect, that an open window
// counts as open, and that a second run adds nothing.
func TestReminderEffectWithHoldout(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, domain.Shanghai)
	f := newDispatchFixture(t, start)
	led := &ledger.Service{Store: &ledgerstore.Store{DB: f.env.DB}, Tx: f.env.DB, Clock: f.clock}
	members := &memberstore.Store{DB: f.env.DB}
	expires := time.Date(2026, 12, 8, 12, 0, 0, 0, domain.Shanghai)
	var ids []int64
	openid := map[int64]string{}
	for i := range 20 {
		m := &member.Member{OpenID: f.openid(i + 1), Nickname: fmt.Sprintf("m%d", i), CreatedAt: start, LastActive: start}
		if err := members.Create(f.ctx, m); err != nil {
			t.Fatal(err)
		}
		ids, openid[m.ID] = append(ids, m.ID), m.OpenID
		key := fmt.Sprintf("seed-%d", m.ID)
		if _, err := led.Earn(f.ctx, ledger.EarnInput{MemberID: m.ID, Points: 500, Key: key,
			Ref: ledger.Ref{Type: "signin", ID: key}, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		if err := f.outbox.AddQuota(f.ctx, m.ID, []string{"tmpl-expiry"}, start); err != nil {
			t.Fatal(err)
		}
		simServer.GrantSubscription(m.OpenID, "tmpl-expiry", 1)
	}
	var reached, held []int64
	for _, id := range ids {
		if reminder.HeldOut(reminder.AutoKeyPrefix(7), id, 500) {
			held = append(held, id)
		} else {
			reached = append(reached, id)
		}
	}
	if len(reached) < 3 || len(held) < 3 {
		t.Fatalf("split %d/%d: the scenario needs 3 of each", len(reached), len(held))
	}

	auto := &reminder.AutoReminders{Ledger: led, Recipients: &reminderstore.Recipients{DB: f.env.DB}, Outbox: f.outbox,
		Offsets: []int{7}, HoldoutPermille: 500, Order: []reminder.Channel{reminder.Subscribe},
		Templates: map[reminder.Channel]reminder.MessageTemplate{reminder.Subscribe: {Channel: reminder.Subscribe,
			WeChatID: "tmpl-expiry", Page: "pages/points/index",
			Fields: map[string]string{"thing1": "{{points}} 积分即将过期", "date2": "{{expire_date}}"}}}}
	rep, err := auto.Run(f.ctx, f.clock.Now())
	if err != nil || rep.Enqueued[7] != 20 {
		t.Fatalf("auto run %+v %v, want 20 rows", rep, err)
	}
	if again, err := auto.Run(f.ctx, f.clock.Now()); err != nil || again.Enqueued[7] != 0 {
		t.Fatalf("rerun %+v %v, want nothing new", again, err)
	}
	drained, err := f.d.Drain(f.ctx)
	if err != nil || drained.Sent != len(reached) || drained.Claimed != len(reached) {
		t.Fatalf("drain %+v %v, want the %d reached members sent, the held out never claimed", drained, err, len(reached))
	}
	ds, err := f.outbox.Deliveries(f.ctx, "auto:7:2026-12-08")
	if err != nil || len(ds) != 20 {
		t.Fatalf("%d rows %v", len(ds), err)
	}
	status := map[int64]reminder.Status{}
	for _, d := range ds {
		status[d.MemberID] = d.Status
	}
	for _, id := range held {
		if status[id] != reminder.Holdout || len(simServer.Delivered(openid[id])) != 0 {
			t.Fatalf("held-out member %d: %s, %d delivered", id, status[id], len(simServer.Delivered(openid[id])))
		}
	}
	for _, id := range reached {
		if status[id] != reminder.Sent || len(simServer.Delivered(openid[id])) != 1 {
			t.Fatalf("reached member %d: %s, %d delivered", id, status[id], len(simServer.Delivered(openid[id])))
		}
	}

	// What the members did next, on the walking clock.
	at := func(d time.Duration, fn func()) { f.clock.Set(start.Add(d)); fn() }
	order := func(id int64) {
		key := fmt.Sprintf("order-%d-%d", id, f.clock.Now().Unix())
		if _, err := led.Earn(f.ctx, ledger.EarnInput{MemberID: id, Points: 10, Key: key, Ref: ledger.Ref{Type: "order", ID: key}}); err != nil {
			t.Fatal(err)
		}
	}
	redeem := func(id int64) {
		key := fmt.Sprintf("mall-%d-%d", id, f.clock.Now().Unix())
		if _, err := led.Spend(f.ctx, ledger.SpendInput{MemberID: id, Points: 20, Key: key, Ref: ledger.Ref{Type: "mall", ID: key}}); err != nil {
			t.Fatal(err)
		}
	}
	day := 24 * time.Hour
	at(2*day, func() { order(reached[0]) })                   // within 7 days: converts
	at(3*day, func() { redeem(reached[1]); redeem(held[0]) }) // within 7 days: both convert
	at(3*day+time.Hour, func() { order(reached[0]) })         // a second conversion changes nothing
	at(4*day, func() {                                        // a console credit is not the member's doing
		if _, err := led.Adjust(f.ctx, ledger.AdjustInput{MemberID: reached[2], Points: 5, Key: "console-1", Reason: "goodwill", Operator: "admin"}); err != nil {
			t.Fatal(err)
		}
	})
	at(8*day, func() { order(reached[2]); order(held[1]) }) // after 8 days: too late

	svc := &analytics.Service{Store: &analyticsstore.Store{DB: f.env.DB}, Reach: &analyticsstore.Store{DB: f.env.DB},
		Clock: f.clock, Lag: time.Minute, Batch: 4} // a small batch exercises paging
	report := func() analytics.ReminderEffect {
		t.Helper()
		got, err := svc.ReminderEffects(f.ctx, domain.DayOf(start), domain.DayOf(start))
		if err != nil || len(got) != 1 {
			t.Fatalf("effects %+v %v, want one reminder", got, err)
		}
		return got[0]
	}

	// On day 4 every window is open: only the conversions so far are final.
	f.clock.Set(start.Add(4*day + time.Hour))
	if _, _, err := svc.ReachFacts(f.ctx); err != nil {
		t.Fatal(err)
	}
	if e := report(); e.ReachedN != 2 || e.ReachedK != 2 || e.HoldoutN != 1 || e.HoldoutK != 1 || e.Open != 17 {
		t.Fatalf("day 4: %+v, want the 3 converted settled and 17 open", e)
	}

	// On day 10 every window has ended.
	f.clock.Set(start.Add(10 * day))
	for range 2 { // the second run adds nothing
		if _, _, err := svc.ReachFacts(f.ctx); err != nil {
			t.Fatal(err)
		}
		e := report()
		want := analytics.ReminderEffect{Reminder: "auto:7", Kind: "expiry", OffsetDays: 7,
			ReachedN: int64(len(reached)), ReachedK: 2, HoldoutN: int64(len(held)), HoldoutK: 1,
			Effect: analytics.CompareGroups(int64(len(reached)), 2, int64(len(held)), 1)}
		if e != want {
			t.Fatalf("day 10: %+v, want %+v", e, want)
		}
	}
	var rows int64
	if err := f.env.DB.Conn(f.ctx).Table("analytics_reminder_reach").Count(&rows).Error; err != nil || rows != 20 {
		t.Fatalf("%d reach rows %v, want 20", rows, err)
	}
}
