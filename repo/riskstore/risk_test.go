package riskstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/risk"
	"github.com/jifen/jifen/repo/auditstore"
	"github.com/jifen/jifen/repo/memberstore"
	"github.com/jifen/jifen/repo/riskstore"
	"github.com/jifen/jifen/repo/testenv"
)

type fixture struct {
	env     *testenv.Env
	clock   *domain.FakeClock
	svc     *risk.Service
	members *memberstore.Store
	audit   *auditstore.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.New(t)
	clock := domain.NewFakeClock(time.Date(2026, 12, 6, 10, 5, 0, 0, domain.Shanghai))
	au := &auditstore.Store{DB: env.DB}
	svc := &risk.Service{Store: &riskstore.Store{DB: env.DB}, Counter: &riskstore.Counter{R: env.Redis},
		Members: &riskstore.Members{DB: env.DB}, Audit: au, Tx: env.DB, Clock: clock, PolicyTTL: time.Nanosecond}
	return &fixture{env: env, clock: clock, svc: svc, members: &memberstore.Store{DB: env.DB}, audit: au}
}

// member creates a member with phone (may be "").
func (f *fixture) member(t *testing.T, phone string) int64 {
	t.Helper()
	m := &member.Member{OpenID: fmt.Sprintf("o-%d-%s", time.Now().UnixNano(), phone), Phone: phone, CreatedAt: f.clock.Now()}
	if err := f.members.Create(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// only leaves one rule of the default policy on, at max per hour.
func (f *fixture) only(t *testing.T, name string, max int64, hold bool) {
	t.Helper()
	p := risk.DefaultPolicy()
	for i := range p.Rules {
		p.Rules[i].Enabled = p.Rules[i].Name == name
		if p.Rules[i].Name == name {
			p.Rules[i].MaxPerHour, p.Rules[i].Hold = max, hold
		}
	}
	if _, err := f.svc.UpdatePolicy(context.Background(), risk.Actor{Name: "root", Role: "admin"}, p); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) observe(t *testing.T, ev risk.Event) []risk.Flag {
	t.Helper()
	fl, err := f.svc.Observe(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return fl
}

func (f *fixture) flags(t *testing.T, q risk.FlagQuery) []risk.Flag {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	fl, err := f.svc.Flags(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return fl
}

// Every velocity rule: a burst of 3×max events from one key within the
// hour raises exactly one flag, on the event that passed max, with its
// evidence; the next hour counts afresh and raises one more.
func TestRiskVelocityRules(t *testing.T) {
	for _, a := range risk.Actions {
		for _, d := range risk.Dimensions {
			name := string(a) + "_per_" + string(d)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				const max = 4
				f.only(t, name, max, false)
				var ids []int64
				for i := range 12 {
					// Many members behind one key: phones of one block.
					ids = append(ids, f.member(t, fmt.Sprintf("1380013%04d", i)))
				}
				var raised []risk.Flag
				for i := range 3 * max {
					ev := risk.Event{MemberID: ids[i], Action: a, DeviceID: "dev-farm", IP: "10.0.0.9"}
					raised = append(raised, f.observe(t, ev)...)
					f.clock.Advance(time.Minute)
				}
				if len(raised) != 1 {
					t.Fatalf("raised %d flags for one burst, want 1: %+v", len(raised), raised)
				}
				fl := raised[0]
				want := map[risk.Dimension]string{risk.Device: "dev-farm", risk.IP: "10.0.0.9", risk.PhonePrefix: "1380013"}[d]
				if fl.Rule != name || fl.Key != want || fl.Count != max+1 || fl.Limit != max || fl.MemberID != ids[max] ||
					fl.Status != risk.Open || !fl.Window.Equal(time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)) {
					t.Fatalf("flag %+v", fl)
				}
				if got := f.flags(t, risk.FlagQuery{Status: risk.Open}); len(got) != 1 {
					t.Fatalf("%d open flags stored, want 1", len(got))
				}
				// The counters are a cache: lost mid-burst, they count
				// again, and the burst still has one flag.
				if err := f.env.Redis.DeleteAll(context.Background()); err != nil {
					t.Fatal(err)
				}
				for i := range max + 2 {
					raised = append(raised, f.observe(t, risk.Event{MemberID: ids[i], Action: a, DeviceID: "dev-farm", IP: "10.0.0.9"})...)
				}
				if len(raised) != 1 {
					t.Fatalf("after the counters were lost: %d flags, want 1", len(raised))
				}
				// The next hour is a new window.
				f.clock.Set(time.Date(2026, 12, 6, 11, 0, 0, 0, domain.Shanghai))
				for i := range max + 1 {
					raised = append(raised, f.observe(t, risk.Event{MemberID: ids[i], Action: a, DeviceID: "dev-farm", IP: "10.0.0.9"})...)
				}
				if len(raised) != 2 || f.flags(t, risk.FlagQuery{}) == nil || len(f.flags(t, risk.FlagQuery{})) != 2 {
					t.Fatalf("next hour: %d flags raised, want 2 in all", len(raised))
				}
			})
		}
	}
}

// The default policy: the volume of a busy shop — 600 members signing
// in, drawing 5 times, claiming 2 tasks and 100 binding referrals within
// one day, each from their own phone, from 40 shop Wi-Fi addresses and
// spread over the day's hours — raises nothing.
func TestRiskOrdinaryActivityRaisesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 600
	ids := make([]int64, n)
	for i := range n {
		ids[i] = f.member(t, fmt.Sprintf("13%03d%06d", i%100, i)) // 100 phone blocks
	}
	day := time.Date(2026, 12, 6, 8, 0, 0, 0, domain.Shanghai)
	events := 0
	for i, id := range ids {
		f.clock.Set(day.Add(time.Duration(i%12) * time.Hour).Add(time.Duration(i%50) * time.Minute))
		ev := risk.Event{MemberID: id, DeviceID: fmt.Sprintf("dev-%d", i), IP: fmt.Sprintf("10.1.0.%d", i%40)}
		acts := []risk.Action{risk.SignIn, risk.Draw, risk.Draw, risk.Draw, risk.Draw, risk.Draw, risk.TaskClaim, risk.TaskClaim}
		if i%6 == 0 {
			acts = append(acts, risk.ReferralBind)
		}
		for _, a := range acts {
			ev.Action = a
			if got := f.observe(t, ev); len(got) != 0 {
				t.Fatalf("ordinary %s by member %d raised %+v", a, id, got)
			}
			events++
		}
	}
	if got := f.flags(t, risk.FlagQuery{}); len(got) != 0 {
		t.Fatalf("%d flags after %d ordinary events", len(got), events)
	}
	t.Logf("%d ordinary events by %d members: no flag", events, n)
}

// A rule with hold holds the member who broke it; CheckSpend answers
// ACCOUNT_HELD; clearing the only open flag releases it; every step is
// audited.
func TestRiskHoldAndReview(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.only(t, "signin_per_device", 2, true)
	var ids []int64
	for range 4 {
		ids = append(ids, f.member(t, ""))
	}
	for _, id := range ids {
		f.observe(t, risk.Event{MemberID: id, Action: risk.SignIn, DeviceID: "d1"})
	}
	flags := f.flags(t, risk.FlagQuery{Status: risk.Open})
	if len(flags) != 1 || flags[0].MemberID != ids[2] || !flags[0].Held {
		t.Fatalf("flags %+v", flags)
	}
	if err := f.svc.CheckSpend(ctx, ids[2]); domain.ErrorCode(err) != domain.AccountHeld {
		t.Fatalf("held member's spend: %v", err)
	}
	for _, id := range []int64{ids[0], ids[1], ids[3]} {
		if err := f.svc.CheckSpend(ctx, id); err != nil {
			t.Fatalf("member %d not held: %v", id, err)
		}
	}
	reviewer := risk.Actor{Name: "alice", Role: "marketer"}
	if _, err := f.svc.Decide(ctx, reviewer, flags[0].ID, "maybe", ""); domain.ErrorCode(err) != domain.Invalid {
		t.Fatalf("bad decision: %v", err)
	}
	got, err := f.svc.Decide(ctx, reviewer, flags[0].ID, risk.Clear, "a family's phone")
	if err != nil || got.Status != risk.Cleared || got.DecidedBy != "alice" {
		t.Fatalf("clear: %+v %v", got, err)
	}
	if _, err := f.svc.Decide(ctx, reviewer, flags[0].ID, risk.Confirm, ""); domain.ErrorCode(err) != domain.Conflict {
		t.Fatalf("second decision: %v", err)
	}
	if _, err := f.svc.Decide(ctx, reviewer, 999999, risk.Clear, ""); domain.ErrorCode(err) != domain.NotFound {
		t.Fatalf("missing flag: %v", err)
	}
	if err := f.svc.CheckSpend(ctx, ids[2]); err != nil {
		t.Fatalf("cleared member still held: %v", err)
	}
	// Manual hold and release.
	if _, err := f.svc.PlaceHold(ctx, reviewer, ids[0], "chargeback reported"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PlaceHold(ctx, reviewer, ids[0], "again"); domain.ErrorCode(err) != domain.Conflict {
		t.Fatalf("second hold: %v", err)
	}
	if err := f.svc.CheckSpend(ctx, ids[0]); domain.ErrorCode(err) != domain.AccountHeld {
		t.Fatalf("manual hold: %v", err)
	}
	if err := f.svc.ReleaseHold(ctx, reviewer, ids[0], "resolved"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ReleaseHold(ctx, reviewer, ids[0], ""); domain.ErrorCode(err) != domain.NotFound {
		t.Fatalf("release of no hold: %v", err)
	}
	var actions []string
	for _, target := range []string{fmt.Sprintf("member:%d", ids[2]), fmt.Sprintf("member:%d", ids[0])} {
		es, err := f.audit.List(ctx, target, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(es) - 1; i >= 0; i-- {
			actions = append(actions, es[i].Actor+":"+es[i].Action)
		}
	}
	want := []string{"risk:risk.hold.place", "alice:risk.flag.clear", "alice:risk.hold.release",
		"alice:risk.hold.place", "alice:risk.hold.release"}
	if fmt.Sprint(actions) != fmt.Sprint(want) {
		t.Fatalf("audit %v, want %v", actions, want)
	}
	var _ audit.Store = f.audit
}

// Confirming keeps the hold; a flag of a rule without hold holds nobody.
func TestRiskConfirmKeepsHold(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.only(t, "draw_per_ip", 1, true)
	a, b := f.member(t, ""), f.member(t, "")
	f.observe(t, risk.Event{MemberID: a, Action: risk.Draw, IP: "1.2.3.4"})
	fl := f.observe(t, risk.Event{MemberID: b, Action: risk.Draw, IP: "1.2.3.4"})
	if len(fl) != 1 {
		t.Fatalf("flags %+v", fl)
	}
	if _, err := f.svc.Decide(ctx, risk.Actor{Name: "bob", Role: "admin"}, fl[0].ID, risk.Confirm, "farm"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CheckSpend(ctx, b); domain.ErrorCode(err) != domain.AccountHeld {
		t.Fatalf("confirmed member: %v", err)
	}
}

// With Redis gone the action is not counted and nothing fails (fail open).
func TestRiskCountersFailOpen(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.only(t, "signin_per_ip", 1, true)
	id := f.member(t, "")
	if f.env.Mini == nil {
		t.Log("real Redis: closing the client instead of the server")
	}
	_ = f.env.Redis.C.Close()
	for range 3 {
		if fl := f.observe(t, risk.Event{MemberID: id, Action: risk.SignIn, IP: "9.9.9.9"}); len(fl) != 0 {
			t.Fatalf("raised %+v without counters", fl)
		}
	}
}

func TestRiskPolicyValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := risk.Actor{Name: "root", Role: "admin"}
	bad := []func(p *risk.Policy){
		func(p *risk.Policy) { p.Rules[0].MaxPerHour = 0 },
		func(p *risk.Policy) { p.Rules[0].Action = "buy" },
		func(p *risk.Policy) { p.Rules[0].Dimension = "mac" },
		func(p *risk.Policy) { p.Rules[1].Name = p.Rules[0].Name },
		func(p *risk.Policy) { p.Rules[0].Name = "" },
		// The pattern rules of #24's account farms and laundering.
		func(p *risk.Policy) { rule(p, "points_laundering").WindowHours = 5 }, // windows must divide the day
		func(p *risk.Policy) { rule(p, "points_laundering").MinTimes = 1 },
		func(p *risk.Policy) { rule(p, "points_laundering").MaxPerHour = 3 },
		func(p *risk.Policy) { rule(p, "points_laundering").Dimension = risk.Device },
		func(p *risk.Policy) { rule(p, "phone_sequence").Span = 1 },
		func(p *risk.Policy) { rule(p, "phone_sequence").MaxMembers = 0 },
		func(p *risk.Policy) { rule(p, "phone_sequence").MinTimes = 2 },
		func(p *risk.Policy) { rule(p, "referral_no_order").MinRewards = 0 },
		func(p *risk.Policy) { rule(p, "referral_no_order").Action = risk.Spend },
		func(p *risk.Policy) { rule(p, "guide_self_grant").MaxMembers = 3 },
		func(p *risk.Policy) { rule(p, "guide_self_grant").Dimension = risk.MemberDim },
		func(p *risk.Policy) { rule(p, "shared_payer").MaxMembers = 0 },
		func(p *risk.Policy) { rule(p, "shared_payer").WindowHours = 0 },
		func(p *risk.Policy) { rule(p, "shared_payer").Action = risk.Spend },
		func(p *risk.Policy) { rule(p, "shared_payer").MinRewards = 1 },
		func(p *risk.Policy) { rule(p, "referral_ring").MinRewards = 3 },
		func(p *risk.Policy) { rule(p, "guide_budget_burn").Span = 10 },
	}
	for i, mut := range bad {
		p := risk.DefaultPolicy()
		mut(&p)
		if _, err := f.svc.UpdatePolicy(ctx, a, p); domain.ErrorCode(err) != domain.Invalid {
			t.Fatalf("case %d: %v", i, err)
		}
	}
	p := risk.DefaultPolicy()
	p.Version = 7
	if _, err := f.svc.UpdatePolicy(ctx, a, p); domain.ErrorCode(err) != domain.Conflict {
		t.Fatalf("stale version: %v", err)
	}
	p.Version = 1
	got, err := f.svc.UpdatePolicy(ctx, a, p)
	if err != nil || got.Version != 2 {
		t.Fatalf("update: %+v %v", got, err)
	}
	cur, err := f.svc.Policy(ctx)
	if err != nil || cur.Version != 2 || len(cur.Rules) != 21 || cur.UpdatedBy != "root" {
		t.Fatalf("stored: %+v %v", cur, err)
	}
}

// rule is the policy's rule named name.
func rule(p *risk.Policy, name string) *risk.Rule {
	for i := range p.Rules {
		if p.Rules[i].Name == name {
			return &p.Rules[i]
		}
	}
	panic("no rule " + name)
}

// Account farms: more than 5 different members signing in from one
// device within the hour raise one flag; one member signing in again and
// again from their own phone counts once.
func TestRiskMembersPerDevice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.only(t, "members_per_device", 5, false)
	var ids []int64
	for range 8 {
		ids = append(ids, f.member(t, ""))
	}
	var raised []risk.Flag
	for range 10 {
		raised = append(raised, f.observe(t, risk.Event{MemberID: ids[0], Action: risk.SignIn, DeviceID: "own-phone"})...)
	}
	if len(raised) != 0 {
		t.Fatalf("one member on one device raised %+v", raised)
	}
	for _, id := range ids {
		raised = append(raised, f.observe(t, risk.Event{MemberID: id, Action: risk.SignIn, DeviceID: "farm-phone"})...)
	}
	if len(raised) != 1 || raised[0].MemberID != ids[5] || raised[0].Count != 6 || raised[0].Key != "farm-phone" {
		t.Fatalf("farm: %+v", raised)
	}
	if got := f.flags(t, risk.FlagQuery{}); len(got) != 1 {
		t.Fatalf("%d flags stored, want 1", len(got))
	}
}

// insertCounter counts the flags a store is asked to insert.
type insertCounter struct {
	risk.Store
	inserts int
}

func (c *insertCounter) InsertFlag(ctx context.Context, f *risk.Flag) error {
	c.inserts++
	return c.Store.InsertFlag(ctx, f)
}

// A burst that goes on past its limit (a shop's Wi-Fi, a device farm)
// writes its flag once: the events after it do not each try the insert
// again in a transaction of their own. The next window writes once more.
func TestRiskVelocityFlagIsWrittenOncePerWindow(t *testing.T) {
	f := newFixture(t)
	const max = 3
	f.only(t, "signin_per_ip", max, false)
	store := &insertCounter{Store: f.svc.Store}
	f.svc.Store = store
	var raised []risk.Flag
	for i := range 40 {
		raised = append(raised, f.observe(t, risk.Event{MemberID: f.member(t, ""), Action: risk.SignIn, IP: "10.0.0.7"})...)
		if i == 20 {
			f.clock.Advance(time.Minute)
		}
	}
	if len(raised) != 1 || store.inserts != 1 {
		t.Fatalf("40 events past a limit of %d: %d flags raised, %d inserts tried; want 1 and 1", max, len(raised), store.inserts)
	}
	f.clock.Advance(time.Hour)
	for range max + 5 {
		raised = append(raised, f.observe(t, risk.Event{MemberID: f.member(t, ""), Action: risk.SignIn, IP: "10.0.0.7"})...)
	}
	if len(raised) != 2 || store.inserts != 2 {
		t.Fatalf("next hour: %d flags raised, %d inserts tried; want 2 and 2", len(raised), store.inserts)
	}
}

// holdReads counts the reads of holds a store is asked for.
type holdReads struct {
	*riskstore.Store
	rows, lists int
}

func (h *holdReads) Hold(ctx context.Context, memberID int64) (*risk.Hold, error) {
	h.rows++
	return h.Store.Hold(ctx, memberID)
}

func (h *holdReads) HeldMembers(ctx context.Context, limit int) ([]int64, error) {
	h.lists++
	return h.Store.HeldMembers(ctx, limit)
}

// Spends ask whether their member is held without a query each: the
// instance keeps the set of held members. Its own holds and releases
// apply to its next spend; another instance's within HoldsTTL.
func TestRiskHeldMembersAreKept(t *testing.T) {
	f := newFixture(t)
	store := &holdReads{Store: f.svc.Store.(*riskstore.Store)}
	f.svc.Store, f.svc.HoldsTTL = store, time.Hour
	other := &risk.Service{Store: &riskstore.Store{DB: f.env.DB}, Counter: f.svc.Counter, Members: f.svc.Members,
		Audit: f.svc.Audit, Tx: f.svc.Tx, Clock: f.svc.Clock} // a second instance over the same database
	ctx := context.Background()
	a, b := f.member(t, ""), f.member(t, "")
	for range 100 {
		if err := f.svc.CheckSpend(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if store.rows != 0 || store.lists != 1 {
		t.Fatalf("100 checks: %d row reads and %d list reads; want 0 and 1", store.rows, store.lists)
	}
	admin := risk.Actor{Name: "root", Role: "admin"}
	if _, err := f.svc.PlaceHold(ctx, admin, a, "review"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CheckSpend(ctx, a); domain.ErrorCode(err) != domain.AccountHeld {
		t.Fatalf("held here, then checked here: %v", err)
	}
	if err := f.svc.ReleaseHold(ctx, admin, a, "fine"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CheckSpend(ctx, a); err != nil {
		t.Fatalf("released here, then checked here: %v", err)
	}
	// Held through the other instance: seen here once the set is read again.
	if _, err := other.PlaceHold(ctx, admin, b, "review"); err != nil {
		t.Fatal(err)
	}
	if err := other.CheckSpend(ctx, b); domain.ErrorCode(err) != domain.AccountHeld {
		t.Fatalf("the other instance's own hold: %v", err)
	}
	f.svc.HoldsTTL = time.Nanosecond
	rows := store.rows // the console's hold and release read rows of their own
	if err := f.svc.CheckSpend(ctx, b); domain.ErrorCode(err) != domain.AccountHeld {
		t.Fatalf("another instance's hold after the TTL: %v", err)
	}
	if store.rows != rows {
		t.Fatalf("a check read the member's row; want the set while the holds are few")
	}
}

type phoneReads struct {
	risk.Members
	n int
}

func (p *phoneReads) Phone(ctx context.Context, memberID int64) (string, error) {
	p.n++
	return p.Members.Phone(ctx, memberID)
}

// The phone-prefix rules read a member's phone once, not on every event,
// and still count every event under its prefix.
func TestRiskVelocityReadsAPhoneOnce(t *testing.T) {
	f := newFixture(t)
	f.only(t, "signin_per_phone_prefix", 30, false)
	reads := &phoneReads{Members: f.svc.Members}
	f.svc.Members = reads
	m := f.member(t, "13800138000")
	var raised []risk.Flag
	for range 40 {
		raised = append(raised, f.observe(t, risk.Event{MemberID: m, Action: risk.SignIn, IP: "10.0.0.1"})...)
	}
	if reads.n != 1 {
		t.Fatalf("40 events read the phone %d times; want 1", reads.n)
	}
	if len(raised) != 1 || raised[0].Key != "1380013" || raised[0].Count != 31 {
		t.Fatalf("raised %+v; want one flag on prefix 1380013 at the 31st event", raised)
	}
}
