package reminderstore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo/reminderstore"
	"github.com/jifen/jifen/repo/testenv"
	"github.com/jifen/jifen/wechat/sim"
)

type dispatchFixture struct {
	ctx    context.Context
	env    *testenv.Env
	clock  *domain.FakeClock
	outbox *reminderstore.Outbox
	d      *reminder.Dispatcher
	tag    string // makes openids and robot keys unique to the test
}

func newDispatchFixture(t *testing.T, start time.Time) *dispatchFixture {
	return newFixtureTB(t, start)
}

func newBenchDispatch(b *testing.B) *dispatchFixture { return newFixtureTB(b, time.Now()) }

func newFixtureTB(t testing.TB, start time.Time) *dispatchFixture {
	env := testenv.New(t)
	clock := domain.NewFakeClock(start)
	ob := &reminderstore.Outbox{DB: env.DB}
	tag := fmt.Sprintf("%d", time.Now().UnixNano()%1e12)
	d := &reminder.Dispatcher{Store: ob, Tx: env.DB, Clock: clock, Senders: senders(env.Redis.C, env.Redis.Prefix+"wx:"),
		Owner: "test", Batch: 50, Workers: 4, Chunk: 4, Lease: time.Minute, PerMinute: map[reminder.Channel]int{reminder.Robot: 20}}
	simClock.Store(clock)
	t.Cleanup(simServer.ClearFaults)
	return &dispatchFixture{ctx: context.Background(), env: env, clock: clock, outbox: ob, d: d, tag: tag}
}

func (f *dispatchFixture) openid(i int) string { return fmt.Sprintf("sim-openid-%s-%d", f.tag, i) }

// subscribe enqueues a subscribe message to members 1..n of campaign,
// granting each `quota` sends in our database and at the simulator.
func (f *dispatchFixture) subscribe(t *testing.T, campaign string, n int, quota int64, quiet reminder.QuietHours) {
	t.Helper()
	var ds []reminder.Delivery
	for i := 1; i <= n; i++ {
		tmpl := "tmpl-expiry"
		if quota > 0 {
			for range quota {
				if err := f.outbox.AddQuota(f.ctx, int64(i), []string{tmpl}, f.clock.Now()); err != nil {
					t.Fatal(err)
				}
			}
			simServer.GrantSubscription(f.openid(i), tmpl, quota)
		}
		ds = append(ds, reminder.Delivery{Campaign: campaign, MemberID: int64(i), Channel: reminder.Subscribe,
			NextAt: f.clock.Now(), Quiet: quiet, Message: reminder.Message{To: f.openid(i), TemplateID: tmpl,
				Data: map[string]string{"thing1": "1,200 积分", "date2": "2026-12-31"}}})
	}
	if n, err := f.outbox.Enqueue(f.ctx, ds); err != nil || n != len(ds) {
		t.Fatalf("enqueue: %d %v", n, err)
	}
}

func (f *dispatchFixture) statuses(t *testing.T, campaign string) map[reminder.Status]int {
	t.Helper()
	ds, err := f.outbox.Deliveries(f.ctx, campaign)
	if err != nil {
		t.Fatal(err)
	}
	out := map[reminder.Status]int{}
	for _, d := range ds {
		out[d.Status]++
	}
	return out
}

func (f *dispatchFixture) delivered(n int) int {
	total := 0
	for i := 1; i <= n; i++ {
		total += len(simServer.Delivered(f.openid(i)))
	}
	return total
}

func TestOutboxSendsOnceAndAReEnqueueAddsNothing(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	f.subscribe(t, "c1", 5, 2, reminder.QuietHours{})
	rep, err := f.d.Drain(f.ctx)
	if err != nil || rep.Sent != 5 {
		t.Fatalf("drain %+v %v, want 5 sent", rep, err)
	}
	n, err := f.outbox.Enqueue(f.ctx, []reminder.Delivery{{Campaign: "c1", MemberID: 1, Channel: reminder.Subscribe, NextAt: f.clock.Now()}})
	if err != nil || n != 0 {
		t.Fatalf("re-enqueue inserted %d (%v), want 0", n, err)
	}
	if rep, _ := f.d.Drain(f.ctx); rep.Sent != 0 {
		t.Fatalf("second drain sent %d", rep.Sent)
	}
	if got := f.delivered(5); got != 5 {
		t.Fatalf("simulator saw %d messages, want 5", got)
	}
	q, _ := f.outbox.Quotas(f.ctx, 1)
	if q["tmpl-expiry"] != 1 {
		t.Fatalf("quota after one send %d, want 1", q["tmpl-expiry"])
	}
}

// TestOutboxSendsRowByRowWithoutChunks keeps the per-row path (Chunk 1)
// covered: the other tests send in chunks of 4.
func TestOutboxSendsRowByRowWithoutChunks(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	f.d.Chunk = 1
	f.subscribe(t, "c1r", 6, 1, reminder.QuietHours{})
	f.subscribe(t, "c1s", 3, 0, reminder.QuietHours{}) // no quota: skipped
	rep, err := f.d.Drain(f.ctx)
	if err != nil || rep.Sent != 6 || rep.Skipped != 3 {
		t.Fatalf("drain %+v %v, want 6 sent and 3 skipped", rep, err)
	}
	if got := f.delivered(6); got != 6 {
		t.Fatalf("simulator saw %d messages, want 6", got)
	}
}

// TestOutboxChunkSpendsEachQuotaOnce sends a chunk holding two messages to
// one member with one send left, and members without any: one message is
// sent, the rest are skipped, and no quota goes negative.
func TestOutboxChunkSpendsEachQuotaOnce(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	f.d.Workers, f.d.Chunk = 1, 8
	f.subscribe(t, "q1", 3, 1, reminder.QuietHours{}) // members 1..3, one send each
	f.subscribe(t, "q2", 1, 0, reminder.QuietHours{}) // member 1 again, no more quota
	var ds []reminder.Delivery
	for i := 4; i <= 5; i++ { // members 4, 5: no subscription row at all
		ds = append(ds, reminder.Delivery{Campaign: "q3", MemberID: int64(i), Channel: reminder.Subscribe, NextAt: f.clock.Now(),
			Message: reminder.Message{To: f.openid(i), TemplateID: "tmpl-expiry", Data: map[string]string{"thing1": "b"}}})
	}
	if _, err := f.outbox.Enqueue(f.ctx, ds); err != nil {
		t.Fatal(err)
	}
	rep, err := f.d.Drain(f.ctx)
	if err != nil || rep.Sent != 3 || rep.Skipped != 3 {
		t.Fatalf("drain %+v %v, want 3 sent and 3 skipped", rep, err)
	}
	for m := int64(1); m <= 3; m++ {
		if q, _ := f.outbox.Quotas(f.ctx, m); q["tmpl-expiry"] != 0 {
			t.Fatalf("member %d quota %d after its send, want 0", m, q["tmpl-expiry"])
		}
	}
	if st := f.statuses(t, "q2"); st[reminder.Skipped] != 1 {
		t.Fatalf("second message to member 1: %v, want skipped", st)
	}
	if got := f.delivered(5); got != 3 {
		t.Fatalf("simulator saw %d messages, want 3", got)
	}
}

func TestOutboxRetriesBusyAnd5xxButNeverRefusals(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	f.d.Workers = 1
	f.subscribe(t, "c2", 4, 1, reminder.QuietHours{})
	for _, fault := range []sim.Fault{{API: "subscribe_send", ErrCode: -1}, {API: "subscribe_send", HTTPStatus: 502},
		{API: "subscribe_send", ErrCode: 40003}, {API: "subscribe_send", ErrCode: 47003}} {
		if err := simServer.AddFault(fault); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := f.d.Drain(f.ctx)
	if err != nil || rep.Retried != 2 || rep.Failed != 2 {
		t.Fatalf("first pass %+v %v, want 2 retried (−1, 502) and 2 failed (40003, 47003)", rep, err)
	}
	f.clock.Advance(2 * time.Minute) // past the first backoff
	// The refused attempts gave their subscription send back (WeChat spends
	// one only on delivery), so the retries can still send.
	rep, err = f.d.Drain(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := f.statuses(t, "c2")
	if st[reminder.Failed] != 2 || st[reminder.Sent] != 2 {
		t.Fatalf("statuses %v", st)
	}
}

// Tries that never reached WeChat (no access token: the token API down)
// do not count toward MaxAttempts: its backoff gives up after about 15
// minutes, and an outage longer than that failed every queued reminder
// for good.
func TestOutboxRidesOutAnHoursLongTokenOutage(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	f.subscribe(t, "c-token-outage", 2, 1, reminder.QuietHours{})
	if err := simServer.AddFault(sim.Fault{API: "stable_token", HTTPStatus: 502, Times: 1000}); err != nil {
		t.Fatal(err)
	}
	for range 10 { // twice the default MaxAttempts
		if _, err := f.d.Drain(f.ctx); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour + 15*time.Minute) // past any backoff
	}
	if st := f.statuses(t, "c-token-outage"); st[reminder.Pending] != 2 {
		t.Fatalf("statuses after a long token outage %v, want both still pending", st)
	}
	simServer.ClearFaults()
	if _, err := f.d.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	if st := f.statuses(t, "c-token-outage"); st[reminder.Sent] != 2 || f.delivered(2) != 2 {
		t.Fatalf("statuses once WeChat answers %v, delivered %d", st, f.delivered(2))
	}
}

func TestOutbox43101ZeroesTheQuota(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	f.subscribe(t, "c3", 1, 3, reminder.QuietHours{})
	if err := simServer.AddFault(sim.Fault{API: "subscribe_send", ErrCode: 43101}); err != nil {
		t.Fatal(err)
	}
	if rep, err := f.d.Drain(f.ctx); err != nil || rep.Failed != 1 {
		t.Fatalf("drain %+v %v, want 1 failed", rep, err)
	}
	q, _ := f.outbox.Quotas(f.ctx, 1)
	if q["tmpl-expiry"] != 0 {
		t.Fatalf("quota after 43101 = %d, want 0", q["tmpl-expiry"])
	}
	// A later message to the member is skipped without calling WeChat.
	before := len(simServer.Calls("subscribe_send"))
	if _, err := f.outbox.Enqueue(f.ctx, []reminder.Delivery{{Campaign: "c3b", MemberID: 1, Channel: reminder.Subscribe,
		NextAt: f.clock.Now(), Message: reminder.Message{To: f.openid(1), TemplateID: "tmpl-expiry", Data: map[string]string{"thing1": "b"}}}}); err != nil {
		t.Fatal(err)
	}
	if rep, _ := f.d.Drain(f.ctx); rep.Skipped != 1 || len(simServer.Calls("subscribe_send")) != before {
		t.Fatalf("after 43101: %+v, want skipped without a call", rep)
	}
}

func TestOutboxQuietHoursDeferSends(t *testing.T) {
	// 22:30 Shanghai, inside 21:00–09:00.
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 22, 30, 0, 0, domain.Shanghai))
	f.subscribe(t, "c4", 3, 1, reminder.QuietHours{From: 21 * 60, To: 9 * 60})
	if rep, err := f.d.Drain(f.ctx); err != nil || rep.Sent != 0 || rep.Deferred != 3 {
		t.Fatalf("at 22:30: %+v %v, want 3 deferred", rep, err)
	}
	f.clock.Set(time.Date(2026, 11, 24, 8, 59, 0, 0, domain.Shanghai))
	if rep, _ := f.d.Drain(f.ctx); rep.Claimed != 0 {
		t.Fatalf("at 08:59: %+v, want nothing due", rep)
	}
	f.clock.Set(time.Date(2026, 11, 24, 9, 0, 0, 0, domain.Shanghai))
	if rep, err := f.d.Drain(f.ctx); err != nil || rep.Sent != 3 {
		t.Fatalf("at 09:00: %+v %v, want 3 sent", rep, err)
	}
}

func TestOutboxThrottleKeepsTheRobotUnder20AMinute(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	key := "robot-" + f.tag
	var ds []reminder.Delivery
	for i := 1; i <= 50; i++ {
		ds = append(ds, reminder.Delivery{Campaign: "c5", MemberID: int64(i), Channel: reminder.Robot, NextAt: f.clock.Now(),
			Message: reminder.Message{To: key, Text: fmt.Sprintf("会员 %d 有 100 积分将于 12月31日 过期", i)}})
	}
	if _, err := f.outbox.Enqueue(f.ctx, ds); err != nil {
		t.Fatal(err)
	}
	for minute := 0; minute < 3; minute++ {
		if _, err := f.d.Drain(f.ctx); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
	}
	if st := f.statuses(t, "c5"); st[reminder.Sent] != 50 || st[reminder.Failed] != 0 {
		t.Fatalf("statuses %v, want all 50 sent and no 45009", st)
	}
	got := simServer.Delivered(key)
	for i := range got {
		if i >= 20 && got[i].Time.Sub(got[i-20].Time) < time.Minute {
			t.Fatalf("21 robot messages within a minute: %v … %v", got[i-20].Time, got[i].Time)
		}
	}
	for _, c := range simServer.Calls("webhook_send") {
		if c.ErrCode == 45009 {
			t.Fatal("the simulator answered 45009: the throttle let too many through")
		}
	}
}

// TestCampaignKilledMidSendNeverSendsTwice runs the dispatcher in a child
// process, kills it with SIGKILL while sends are in flight, and finishes the
// campaign here: every member ends with exactly one sent or uncertain row,
// and the simulator saw at most one message per member.
func TestCampaignKilledMidSendNeverSendsTwice(t *testing.T) {
	f := newDispatchFixture(t, time.Now())
	const n = 40
	f.subscribe(t, "crash", n, 1, reminder.QuietHours{})
	if err := simServer.AddFault(sim.Fault{API: "subscribe_send", DelayMS: 40, Times: 1000}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=1", envDialect+"="+string(f.env.DB.Dialect()), envDSN+"="+f.env.DSN, envSim+"="+simURL)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for f.delivered(n) < 10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	simServer.ClearFaults()
	if got := f.delivered(n); got < 10 || got == n {
		t.Fatalf("child delivered %d before the kill, want it killed mid-campaign", got)
	}

	// Restart: leases the child held have ended.
	f.clock.Set(time.Now().Add(2 * time.Minute))
	rep, err := f.d.Drain(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after the restart: %+v", rep)
	ds, err := f.outbox.Deliveries(f.ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != n {
		t.Fatalf("%d rows, want %d", len(ds), n)
	}
	for _, d := range ds {
		if d.Status != reminder.Sent && d.Status != reminder.Uncertain {
			t.Fatalf("member %d ended %s, want sent or uncertain", d.MemberID, d.Status)
		}
		got := len(simServer.Delivered(d.Message.To))
		if got > 1 || d.Status == reminder.Sent && got != 1 {
			t.Fatalf("member %d (%s) received %d messages", d.MemberID, d.Status, got)
		}
	}
}
