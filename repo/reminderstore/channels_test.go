package reminderstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/memberstore"
	"github.com/jifen/jifen/repo/reminderstore"
	"github.com/jifen/jifen/wechat"
	"github.com/jifen/jifen/wechat/sim"
)

// channelFixture has members with points expiring in 7 days and the
// automatic reminders over every channel.
type channelFixture struct {
	*dispatchFixture
	led   *ledger.Service
	ids   map[string]int64
	users map[string]string // member name → simulator user
	auto  *reminder.AutoReminders
	seq   int
}

var allTemplates = map[reminder.Channel]reminder.MessageTemplate{
	reminder.Subscribe: {Channel: reminder.Subscribe, WeChatID: "tmpl-expiry", Fields: map[string]string{"thing1": "{{points}} 积分即将过期"}},
	reminder.Template:  {Channel: reminder.Template, WeChatID: "oa-tmpl-expiry", Page: "pages/points/index", Fields: map[string]string{"thing1": "{{points}} 积分即将过期", "date2": "{{expire_date}}"}},
	reminder.WeCom:     {Channel: reminder.WeCom, Text: "{{nickname}}：{{points}} 积分 {{expire_date}} 过期"},
	reminder.Robot:     {Channel: reminder.Robot, Text: "会员 {{nickname}} 有 {{points}} 积分将于 {{expire_date}} 过期"},
}

func newChannelFixture(t *testing.T) *channelFixture {
	f := &channelFixture{dispatchFixture: newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai)),
		ids: map[string]int64{}, users: map[string]string{}}
	f.led = &ledger.Service{Store: &ledgerstore.Store{DB: f.env.DB}, Tx: f.env.DB, Clock: f.clock}
	f.auto = &reminder.AutoReminders{Ledger: f.led, Recipients: &reminderstore.Recipients{DB: f.env.DB}, Outbox: f.outbox,
		Offsets: []int{7}, Templates: allTemplates,
		Order: []reminder.Channel{reminder.Subscribe, reminder.Template, reminder.WeCom, reminder.Robot}}
	return f
}

// member creates a member with points expiring on 30 November.
func (f *channelFixture) member(t *testing.T, name string, points int64) int64 {
	t.Helper()
	f.seq++
	user := fmt.Sprintf("%s-%d", f.tag, f.seq)
	m := &member.Member{OpenID: "sim-openid-" + user, UnionID: "sim-unionid-" + user, Nickname: name,
		CreatedAt: f.clock.Now(), LastActive: f.clock.Now()}
	if err := (&memberstore.Store{DB: f.env.DB}).Create(f.ctx, m); err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("earn-%d", m.ID)
	if _, err := f.led.Earn(f.ctx, ledger.EarnInput{MemberID: m.ID, Points: points, Key: key, Ref: ledger.Ref{Type: "order", ID: key},
		ExpiresAt: time.Date(2026, 11, 30, 12, 0, 0, 0, domain.Shanghai)}); err != nil {
		t.Fatal(err)
	}
	f.ids[name], f.users[name] = m.ID, user
	return m.ID
}

func (f *channelFixture) quota(t *testing.T, name string) {
	t.Helper()
	if err := f.outbox.AddQuota(f.ctx, f.ids[name], []string{"tmpl-expiry"}, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	simServer.GrantSubscription("sim-openid-"+f.users[name], "tmpl-expiry", 1)
}

// follow makes the member follow the official account, at the simulator
// and in official_followers (as the push hook does).
func (f *channelFixture) follow(t *testing.T, name string) {
	t.Helper()
	oa := sim.OfficialOpenID(f.users[name])
	simServer.Follow(oa, true)
	fl := &reminder.Followers{Store: &reminderstore.Followers{DB: f.env.DB}, Clock: f.clock}
	if err := fl.Store.SaveFollowers(f.ctx, []reminder.Follower{{OpenID: oa, UnionID: "sim-unionid-" + f.users[name], Subscribed: true}}, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

// guide binds the members to a new active guide of a new store.
func (f *channelFixture) guide(t *testing.T, userid, robotKey string, names ...string) {
	t.Helper()
	db := f.env.DB.Conn(f.ctx)
	now := f.clock.Now().UTC()
	if err := db.Exec("INSERT INTO stores (name, robot_key, created_at, updated_at) VALUES (?, ?, ?, ?)", "店-"+userid, robotKey, now, now).Error; err != nil {
		t.Fatal(err)
	}
	var storeID, guideID int64
	db.Raw("SELECT id FROM stores WHERE name = ?", "店-"+userid).Scan(&storeID)
	f.seq++
	code := fmt.Sprintf("G%d", f.seq) // guides.code holds 16 characters
	if err := db.Exec("INSERT INTO guides (userid, code, name, store_id, monthly_budget, status, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 'active', ?, ?)",
		userid, code, userid, storeID, now, now).Error; err != nil {
		t.Fatal(err)
	}
	db.Raw("SELECT id FROM guides WHERE userid = ?", userid).Scan(&guideID)
	for _, n := range names {
		if err := db.Exec("INSERT INTO guide_customers (member_id, guide_id, source, bound_at) VALUES (?, ?, 'qrcode', ?)", f.ids[n], guideID, now).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func (f *channelFixture) rows(t *testing.T) map[string][]reminder.Delivery {
	t.Helper()
	ds, err := f.outbox.Deliveries(f.ctx, "auto:7:2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]reminder.Delivery{}
	for _, d := range ds {
		for name, id := range f.ids {
			if id == d.MemberID {
				out[name] = append(out[name], d)
			}
		}
	}
	return out
}

func TestRecipientsResolveFollowerQuotaAndGuideInOnePage(t *testing.T) {
	f := newChannelFixture(t)
	for _, n := range []string{"sub", "follower", "guided", "nobody"} {
		f.member(t, n, 100)
	}
	f.quota(t, "sub")
	f.follow(t, "follower")
	// An unsubscribed follower does not count.
	if err := (&reminderstore.Followers{DB: f.env.DB}).SaveFollowers(f.ctx, []reminder.Follower{{OpenID: sim.OfficialOpenID(f.users["nobody"]),
		UnionID: "sim-unionid-" + f.users["nobody"], Subscribed: false}}, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	guide := "guide-" + f.tag
	f.guide(t, guide, "robot-"+f.tag, "guided")
	r, err := (&reminderstore.Recipients{DB: f.env.DB}).Recipients(f.ctx, []int64{f.ids["sub"], f.ids["follower"], f.ids["guided"], f.ids["nobody"], 999999})
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != 4 {
		t.Fatalf("%d recipients, want 4 (the unknown id absent)", len(r))
	}
	if q := r[f.ids["sub"]].Quota["tmpl-expiry"]; q != 1 {
		t.Fatalf("quota %d", q)
	}
	if got := r[f.ids["follower"]].OfficialOpenID; got != sim.OfficialOpenID(f.users["follower"]) {
		t.Fatalf("official openid %q", got)
	}
	if g := r[f.ids["guided"]].Guide; g.UserID != guide || g.RobotKey != "robot-"+f.tag || g.StoreID == 0 {
		t.Fatalf("guide %+v", g)
	}
	if n := r[f.ids["nobody"]]; n.OfficialOpenID != "" || len(n.Quota) != 0 || n.Guide != (reminder.Guide{}) {
		t.Fatalf("nobody %+v", n)
	}
}

func TestAutoRemindersChooseOneChannelPerMemberAndARerunAddsNothing(t *testing.T) {
	f := newChannelFixture(t)
	for _, n := range []string{"sub", "follower", "guided", "nobody"} {
		f.member(t, n, 1200)
	}
	f.quota(t, "sub")
	f.follow(t, "sub") // subscribe comes first in the order
	f.follow(t, "follower")
	guide := "guide-" + f.tag
	f.guide(t, guide, "", "guided")

	rep, err := f.auto.Run(f.ctx, f.clock.Now())
	if err != nil || rep.Enqueued[7] != 4 {
		t.Fatalf("run %+v %v, want 4 rows", rep, err)
	}
	rows := f.rows(t)
	want := map[string]reminder.Channel{"sub": reminder.Subscribe, "follower": reminder.Template, "guided": reminder.WeCom, "nobody": reminder.None}
	for name, ch := range want {
		if len(rows[name]) != 1 || rows[name][0].Channel != ch {
			t.Fatalf("%s: rows %+v, want one on %s", name, rows[name], ch)
		}
	}
	if d := rows["nobody"][0]; d.Status != reminder.Skipped || !strings.Contains(d.Reason, "template: not following the official account") ||
		!strings.Contains(d.Reason, "wecom: no shop guide") {
		t.Fatalf("nobody: %+v", d)
	}
	if d := rows["follower"][0]; d.Message.To != sim.OfficialOpenID(f.users["follower"]) || d.Message.Data["thing1"] != "1,200 积分即将过期" || d.Message.Data["date2"] != "2026年11月30日" {
		t.Fatalf("template row %+v", d)
	}
	if d := rows["guided"][0]; d.Message.To != guide || d.Message.Text != "guided：1,200 积分 2026年11月30日 过期" {
		t.Fatalf("wecom row %+v", d)
	}

	// Everyone gains a channel earlier in the order: a rerun must not
	// remind anyone a second time on it.
	f.quota(t, "follower")
	f.quota(t, "guided")
	f.follow(t, "nobody")
	again, err := f.auto.Run(f.ctx, f.clock.Now())
	if err != nil || again.Enqueued[7] != 0 || again.Members[7] != 4 {
		t.Fatalf("rerun %+v %v, want 4 members seen and nothing enqueued", again, err)
	}
	for name, rs := range f.rows(t) {
		if len(rs) != 1 {
			t.Fatalf("%s has %d rows after the rerun", name, len(rs))
		}
	}

	drained, err := f.d.Drain(f.ctx)
	if err != nil || drained.Sent != 3 {
		t.Fatalf("drain %+v %v, want 3 sent", drained, err)
	}
	for name, api := range map[string]string{"sub": "subscribe_send", "follower": "template_send"} {
		to := "sim-openid-" + f.users[name]
		if api == "template_send" {
			to = sim.OfficialOpenID(f.users[name])
		}
		if got := simServer.Delivered(to); len(got) != 1 || got[0].API != api {
			t.Fatalf("%s: delivered %+v", name, got)
		}
	}
	if got := simServer.Delivered(guide); len(got) != 1 || got[0].Text != "guided：1,200 积分 2026年11月30日 过期" {
		t.Fatalf("guide got %+v", got)
	}
}

func TestGroupedWeComReminderIsOneMessageListingTheCustomers(t *testing.T) {
	f := newChannelFixture(t)
	names := []string{"甲", "乙", "丙"}
	for i, n := range names {
		f.member(t, n, int64(100*(i+1)))
	}
	guide := "guide-" + f.tag
	f.guide(t, guide, "robot-"+f.tag, names...)
	if rep, err := f.auto.Run(f.ctx, f.clock.Now()); err != nil || rep.Channels[reminder.WeCom] != 3 {
		t.Fatalf("run %+v %v, want 3 wecom rows", rep, err)
	}
	before := len(simServer.Calls("message_send"))
	drained, err := f.d.Drain(f.ctx)
	if err != nil || drained.Sent != 3 {
		t.Fatalf("drain %+v %v, want 3 rows sent", drained, err)
	}
	if n := len(simServer.Calls("message_send")) - before; n != 1 {
		t.Fatalf("%d message/send calls, want 1", n)
	}
	got := simServer.Delivered(guide)
	if len(got) != 1 {
		t.Fatalf("guide got %d messages, want 1: %+v", len(got), got)
	}
	lines := strings.Split(got[0].Text, "\n")
	if len(lines) != 4 || lines[0] != "您有 3 位顾客的积分即将过期：" || lines[1] != "甲：100 积分 2026年11月30日 过期" || lines[3] != "丙：300 积分 2026年11月30日 过期" {
		t.Fatalf("message %q", got[0].Text)
	}
	for _, n := range names {
		if d := f.rows(t)[n][0]; d.Status != reminder.Sent {
			t.Fatalf("%s: %s", n, d.Status)
		}
	}
}

func TestGroupedMessageTakesOneOutcomeAndCountsOnceAgainstTheThrottle(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	var ds []reminder.Delivery
	for i := 1; i <= 4; i++ {
		to := "bad-guide-" + f.tag // WeCom answers 81013 for it
		if i > 2 {
			to = "robot-" + f.tag
		}
		ch := reminder.WeCom
		if i > 2 {
			ch = reminder.Robot
		}
		ds = append(ds, reminder.Delivery{Campaign: "grp", MemberID: int64(i), Channel: ch, NextAt: f.clock.Now(),
			Message: reminder.Message{To: to, Text: fmt.Sprintf("会员 %d", i)}})
	}
	if _, err := f.outbox.Enqueue(f.ctx, ds); err != nil {
		t.Fatal(err)
	}
	rep, err := f.d.Drain(f.ctx)
	if err != nil || rep.Failed != 2 || rep.Sent != 2 {
		t.Fatalf("drain %+v %v, want the 2 wecom rows failed together and the 2 robot rows sent together", rep, err)
	}
	for _, d := range mustDeliveries(t, f, "grp") {
		if d.Channel == reminder.WeCom && d.ErrCode != 81013 {
			t.Fatalf("wecom row %+v, want errcode 81013", d)
		}
	}
	if n, _ := f.outbox.AttemptsSince(f.ctx, reminder.Robot, f.clock.Now().Add(-time.Minute)); n != 1 {
		t.Fatalf("robot attempts %d, want 1 message", n)
	}
	if got := simServer.Delivered("robot-" + f.tag); len(got) != 1 || !strings.Contains(got[0].Text, "会员 3\n会员 4") {
		t.Fatalf("robot got %+v", got)
	}
}

func mustDeliveries(t *testing.T, f *dispatchFixture, campaign string) []reminder.Delivery {
	t.Helper()
	ds, err := f.outbox.Deliveries(f.ctx, campaign)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// WeChat's user/info names a unionid only for an official account bound to
// the open platform. Without it the sync keeps the followers (no unionid,
// so no member is matched and no template reminder goes to them) and
// counts them, so the job can say why the channel reaches nobody.
func TestFollowerSyncWithoutOpenPlatform(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 1, 30, 0, 0, domain.Shanghai))
	store := &reminderstore.Followers{DB: f.env.DB}
	appID := "wx-unbound-" + f.tag
	simServer.SetOpenPlatform(appID, false)
	oa := wechat.NewOfficial(appID, "sim-secret", wechat.NewRedisCache(f.env.Redis.C, f.env.Redis.Prefix+"wx:"))
	fl := &reminder.Followers{Source: oa, Store: store, Clock: f.clock}
	users := []string{f.tag + "-x", f.tag + "-y"}
	for _, u := range users {
		simServer.Follow(sim.OfficialOpenID(u), true)
	}
	t.Cleanup(func() {
		for _, u := range users {
			simServer.Follow(sim.OfficialOpenID(u), false)
		}
	})
	rep, err := fl.Sync(f.ctx)
	if err != nil || rep.WithoutUnionID < len(users) || rep.WithoutUnionID != rep.LookedUp {
		t.Fatalf("sync %+v %v, want every looked-up follower counted without unionid", rep, err)
	}
	for _, u := range users {
		got, ok, err := store.Follower(f.ctx, sim.OfficialOpenID(u))
		if err != nil || !ok || !got.Subscribed || got.UnionID != "" {
			t.Fatalf("%s: %+v %v %v, want subscribed without unionid", u, got, ok, err)
		}
	}
	// The same users seen through a bound account have their unionid.
	info, err := wechat.NewOfficial("wx-sim-official", "sim-secret", wechat.NewRedisCache(f.env.Redis.C, f.env.Redis.Prefix+"wx:")).Follower(f.ctx, sim.OfficialOpenID(users[0]))
	if err != nil || info.UnionID != "sim-unionid-"+users[0] {
		t.Fatalf("bound account: %+v %v", info, err)
	}
}

func TestFollowerSyncPagesAndUnsubscribes(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 1, 30, 0, 0, domain.Shanghai))
	store := &reminderstore.Followers{DB: f.env.DB}
	oa := wechat.NewOfficial("wx-sim-official", "sim-secret", wechat.NewRedisCache(f.env.Redis.C, f.env.Redis.Prefix+"wx:"))
	fl := &reminder.Followers{Source: oa, Store: store, Clock: f.clock}
	users := []string{f.tag + "-a", f.tag + "-b", f.tag + "-c"}
	for _, u := range users {
		simServer.Follow(sim.OfficialOpenID(u), true)
	}
	simServer.SetFollowerPageSize(2)
	t.Cleanup(func() {
		simServer.SetFollowerPageSize(0)
		for _, u := range users {
			simServer.Follow(sim.OfficialOpenID(u), false)
		}
	})
	// A follower stored earlier who has since left without a push.
	gone := sim.OfficialOpenID(f.tag + "-gone")
	if err := store.SaveFollowers(f.ctx, []reminder.Follower{{OpenID: gone, UnionID: "sim-unionid-" + f.tag + "-gone", Subscribed: true}}, f.clock.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	rep, err := fl.Sync(f.ctx)
	if err != nil || rep.Unsubscribed != 1 || rep.LookedUp < 3 || rep.WithoutUnionID != 0 {
		t.Fatalf("sync %+v %v", rep, err)
	}
	for _, u := range users {
		got, ok, err := store.Follower(f.ctx, sim.OfficialOpenID(u))
		if err != nil || !ok || !got.Subscribed || got.UnionID != "sim-unionid-"+u {
			t.Fatalf("%s: %+v %v %v", u, got, ok, err)
		}
	}
	if got, _, _ := store.Follower(f.ctx, gone); got.Subscribed {
		t.Fatal("a follower the list no longer holds is still subscribed")
	}
	// A second run looks nobody up again.
	f.clock.Advance(24 * time.Hour)
	if rep, err := fl.Sync(f.ctx); err != nil || rep.LookedUp != 0 || rep.Unsubscribed != 0 {
		t.Fatalf("second sync %+v %v", rep, err)
	}
	// The hook's unsubscribe push.
	if err := fl.Changed(f.ctx, sim.OfficialOpenID(users[0]), false, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := store.Follower(f.ctx, sim.OfficialOpenID(users[0])); got.Subscribed || got.UnionID == "" {
		t.Fatalf("after unsubscribe %+v, want unsubscribed with the unionid kept", got)
	}
}

// A clock with a fraction of a second: MariaDB truncates what it stores
// (DATETIME(3)), so the rows a sync just wrote read back a little before
// the sync's start and must not count as "not seen since".
func TestFollowerSyncAtASubSecondClockKeepsTheFollowers(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 1, 30, 0, 123456789, domain.Shanghai))
	store := &reminderstore.Followers{DB: f.env.DB}
	oa := wechat.NewOfficial("wx-sim-official", "sim-secret", wechat.NewRedisCache(f.env.Redis.C, f.env.Redis.Prefix+"wx:"))
	fl := &reminder.Followers{Source: oa, Store: store, Clock: f.clock}
	u := f.tag + "-frac"
	simServer.Follow(sim.OfficialOpenID(u), true)
	t.Cleanup(func() { simServer.Follow(sim.OfficialOpenID(u), false) })
	if _, err := fl.Sync(f.ctx); err != nil {
		t.Fatal(err)
	}
	got, ok, err := store.Follower(f.ctx, sim.OfficialOpenID(u))
	if err != nil || !ok || !got.Subscribed {
		t.Fatalf("after sync: %+v %v %v, want subscribed", got, ok, err)
	}
}
