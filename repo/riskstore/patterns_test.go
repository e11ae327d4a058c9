package riskstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/domain/risk"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/referralstore"
	"github.com/jifen/jifen/repo/riskstore"
)

// onlyRule leaves one rule of the default policy on, edited by edit.
func (f *fixture) onlyRule(t *testing.T, name string, edit func(r *risk.Rule)) {
	t.Helper()
	p := risk.DefaultPolicy()
	for i := range p.Rules {
		p.Rules[i].Enabled = p.Rules[i].Name == name
		if p.Rules[i].Name == name && edit != nil {
			edit(&p.Rules[i])
		}
	}
	cur, err := f.svc.Policy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.Version = cur.Version
	if _, err := f.svc.UpdatePolicy(context.Background(), risk.Actor{Name: "root", Role: "admin"}, p); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) ledger() *ledger.Service {
	f.svc.Journal = &riskstore.Journal{DB: f.env.DB}
	return &ledger.Service{Store: &ledgerstore.Store{DB: f.env.DB}, Tx: f.env.DB, Clock: f.clock}
}

var seq atomic.Int64

func earn(t *testing.T, l *ledger.Service, m, points int64) {
	t.Helper()
	n := seq.Add(1)
	if _, err := l.Earn(context.Background(), ledger.EarnInput{MemberID: m, Points: points, Key: fmt.Sprintf("e-%d-%d", m, n),
		Ref: ledger.Ref{Type: "order", ID: fmt.Sprintf("O-%d", n)}, Title: "order"}); err != nil {
		t.Fatal(err)
	}
}

func spend(t *testing.T, f *fixture, l *ledger.Service, m, points int64) []risk.Flag {
	t.Helper()
	n := seq.Add(1)
	if _, err := l.Spend(context.Background(), ledger.SpendInput{MemberID: m, Points: points, Key: fmt.Sprintf("s-%d-%d", m, n),
		Ref: ledger.Ref{Type: "mall", ID: fmt.Sprintf("R-%d", n)}, Title: "mall"}); err != nil {
		t.Fatal(err)
	}
	fl, err := f.svc.ObserveSpend(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return fl
}

// A member earning 500 points and spending 400 of them 3 minutes later,
// five times two hours apart (earning 5 points 20 times after each): the
// third cycle flags (and holds) the member
// once with the three cycles as evidence; the fourth and fifth add
// nothing; the next day's three cycles raise one more flag. Held, the
// member still earns.
func TestRiskPointsLaundering(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.ledger()
	f.onlyRule(t, "points_laundering", func(r *risk.Rule) { r.Hold = true })
	m := f.member(t, "")
	ctx := context.Background()
	perSpend := make([]int, 0, 5)
	var first risk.Flag
	for range 5 {
		earn(t, l, m, 500)
		f.clock.Advance(3 * time.Minute)
		fl := spend(t, f, l, m, 400)
		perSpend = append(perSpend, len(fl))
		if len(fl) == 1 {
			first = fl[0]
		}
		for range 20 { // sign-in sized earnings: the day's journal is longer than the first page read
			earn(t, l, m, 5)
		}
		f.clock.Advance(2 * time.Hour)
	}
	if fmt.Sprint(perSpend) != "[0 0 1 0 0]" {
		t.Fatalf("flags per spend %v, want [0 0 1 0 0]", perSpend)
	}
	if first.MemberID != m || first.Rule != "points_laundering" || first.Action != risk.Spend || first.Dimension != risk.MemberDim ||
		first.Key != fmt.Sprintf("member %d", m) || first.Count != 3 || first.Limit != 3 || !first.Held ||
		!first.Window.Equal(time.Date(2026, 12, 6, 0, 0, 0, 0, domain.Shanghai)) {
		t.Fatalf("flag %+v", first)
	}
	var ev struct {
		MemberID int64 `json:"member_id"`
		Cycles   []struct {
			EarnedAt time.Time `json:"earned_at"`
			Earned   int64     `json:"earned"`
			SpentAt  time.Time `json:"spent_at"`
			Spent    int64     `json:"spent"`
			SpendRef string    `json:"spend_ref"`
		} `json:"cycles"`
	}
	if err := json.Unmarshal([]byte(first.Evidence), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.MemberID != m || len(ev.Cycles) != 3 || ev.Cycles[0].Earned != 500 || ev.Cycles[0].Spent != 400 ||
		ev.Cycles[0].SpentAt.Sub(ev.Cycles[0].EarnedAt) != 3*time.Minute || ev.Cycles[2].SpendRef == "" {
		t.Fatalf("evidence %s", first.Evidence)
	}
	if err := f.svc.CheckSpend(ctx, m); domain.ErrorCode(err) != domain.AccountHeld {
		t.Fatalf("held member's spend: %v", err)
	}
	earn(t, l, m, 50) // earning goes on
	f.clock.Set(time.Date(2026, 12, 7, 9, 0, 0, 0, domain.Shanghai))
	next := 0
	for range 3 {
		earn(t, l, m, 500)
		f.clock.Advance(time.Minute)
		next += len(spend(t, f, l, m, 100))
		f.clock.Advance(time.Hour)
	}
	if next != 1 {
		t.Fatalf("the next day raised %d flags, want 1", next)
	}
	if got := f.flags(t, risk.FlagQuery{MemberID: m}); len(got) != 2 {
		t.Fatalf("%d flags stored, want 2", len(got))
	}
}

// The same volume of ordinary activity raises nothing: members who earn
// 500 and spend 400 five times a day but half an hour after earning;
// members who sign in (5 points) and draw at once five times; members who
// earn 2,500 once and spend it in five draws within minutes (one cycle).
func TestRiskPointsLaunderingOrdinary(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.ledger()
	f.onlyRule(t, "points_laundering", func(r *risk.Rule) { r.Hold = true })
	raised := 0
	for range 10 {
		slow, small, once := f.member(t, ""), f.member(t, ""), f.member(t, "")
		earn(t, l, small, 1000)
		earn(t, l, once, 2500)
		for range 5 {
			earn(t, l, slow, 500)
			earn(t, l, small, 5)
			f.clock.Advance(time.Minute)
			raised += len(spend(t, f, l, small, 100))
			raised += len(spend(t, f, l, once, 400))
			f.clock.Advance(10*time.Minute + time.Second)
			raised += len(spend(t, f, l, slow, 400))
			f.clock.Advance(20 * time.Minute)
		}
	}
	if raised != 0 || len(f.flags(t, risk.FlagQuery{})) != 0 {
		t.Fatalf("ordinary activity raised %d flags", raised)
	}
}

// bindPhone creates a member with phone bound at the clock's now as the
// phone route does: referral remembers the phone, then risk evaluates.
func (f *fixture) bindPhone(t *testing.T, ref *referral.Service, phone string) (int64, []risk.Flag) {
	t.Helper()
	ctx := context.Background()
	id := f.member(t, phone)
	if err := f.env.DB.InTx(ctx, func(ctx context.Context) error {
		return ref.OnPhoneBound(ctx, &member.Member{ID: id, Phone: phone})
	}); err != nil {
		t.Fatal(err)
	}
	fl, err := f.svc.ObservePhone(ctx, id, phone)
	if err != nil {
		t.Fatal(err)
	}
	return id, fl
}

// Six members binding 139 1234 0001 to 0006 two minutes apart: the fourth
// bind (more than 3 within 10 consecutive numbers in 24 hours) flags the
// four, each later bind flags only its own member: 6 flags, one each.
// Four sequential numbers bound 25 hours apart, and four numbers 10 apart,
// flag nothing.
func TestRiskPhoneSequence(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.Phones = &riskstore.Phones{DB: f.env.DB}
	f.onlyRule(t, "phone_sequence", func(r *risk.Rule) { r.Hold = true })
	ref := f.referrals()
	var per []int
	var ids []int64
	var fourth []risk.Flag
	for i := 1; i <= 6; i++ {
		id, fl := f.bindPhone(t, ref, fmt.Sprintf("1391234%04d", i))
		ids, per = append(ids, id), append(per, len(fl))
		if i == 4 {
			fourth = fl
		}
		f.clock.Advance(2 * time.Minute)
	}
	if fmt.Sprint(per) != "[0 0 0 4 1 1]" {
		t.Fatalf("flags per bind %v, want [0 0 0 4 1 1]", per)
	}
	for i, fl := range fourth {
		if fl.MemberID != ids[i] || fl.Key != fmt.Sprintf("1391234%04d", i+1) || fl.Count != 4 || fl.Limit != 3 ||
			fl.Dimension != risk.PhoneDim || fl.Action != risk.PhoneBind || !fl.Held {
			t.Fatalf("flag %d: %+v", i, fl)
		}
	}
	var ev struct {
		Span   int64 `json:"span"`
		Phones []struct {
			MemberID int64  `json:"member_id"`
			Phone    string `json:"phone"`
		} `json:"phones"`
	}
	if err := json.Unmarshal([]byte(fourth[0].Evidence), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Span != 10 || len(ev.Phones) != 4 || ev.Phones[3].Phone != "13912340004" || ev.Phones[0].MemberID != ids[0] {
		t.Fatalf("evidence %s", fourth[0].Evidence)
	}
	for _, id := range ids {
		if got := f.flags(t, risk.FlagQuery{MemberID: id}); len(got) != 1 {
			t.Fatalf("member %d has %d flags, want 1", id, len(got))
		}
		if err := f.svc.CheckSpend(context.Background(), id); domain.ErrorCode(err) != domain.AccountHeld {
			t.Fatalf("member %d not held: %v", id, err)
		}
	}
	for i := 1; i <= 4; i++ { // a day and an hour apart
		if _, fl := f.bindPhone(t, ref, fmt.Sprintf("1371234%04d", i)); len(fl) != 0 {
			t.Fatalf("binds 25 hours apart flagged: %+v", fl)
		}
		f.clock.Advance(25 * time.Hour)
	}
	for i := 0; i < 4; i++ { // 10 apart: no two within 10 consecutive numbers
		if _, fl := f.bindPhone(t, ref, fmt.Sprintf("1361234%04d", i*10)); len(fl) != 0 {
			t.Fatalf("numbers 10 apart flagged: %+v", fl)
		}
	}
	if got := f.flags(t, risk.FlagQuery{}); len(got) != 6 {
		t.Fatalf("%d flags stored, want 6", len(got))
	}
}

// 600 phone binds in two hours, as a brand's ordinary day brings them:
// numbers scattered over the mainland ranges, among them families on
// consecutive numbers (pairs, and some of three). None is flagged.
func TestRiskPhoneSequenceOrdinary(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.Phones = &riskstore.Phones{DB: f.env.DB}
	f.onlyRule(t, "phone_sequence", nil)
	ref := f.referrals()
	rnd := rand.New(rand.NewSource(24))
	raised, binds := 0, 0
	for binds < 600 {
		base := 13000000000 + rnd.Int63n(6_000_000_000)
		family := 1 + binds%7%3 // 1, 2 or 3 members on consecutive numbers
		for k := range family {
			_, fl := f.bindPhone(t, ref, fmt.Sprintf("%011d", base+int64(k)))
			raised += len(fl)
			binds++
			f.clock.Advance(12 * time.Second)
		}
	}
	if raised != 0 || len(f.flags(t, risk.FlagQuery{})) != 0 {
		t.Fatalf("ordinary binds raised %d flags", raised)
	}
}

// noOrderFixture: a referral service paying the inviter 10 points per
// bound phone, wired to the fixture's risk service as the app does.
func (f *fixture) rewarding() *referral.Service {
	f.svc.Referrals = &riskstore.Referrals{DB: f.env.DB}
	return &referral.Service{Store: &referralstore.Store{DB: f.env.DB}, Members: &referralstore.Members{DB: f.env.DB},
		Points: &ledger.Service{Store: &ledgerstore.Store{DB: f.env.DB}, Tx: f.env.DB, Clock: f.clock},
		Board:  noBoard{}, Tx: f.env.DB, Clock: f.clock, Rings: f.svc,
		Rules: referral.Rules{Window: 72 * time.Hour, Phone: referral.Amounts{Inviter: 10, SecondLevel: 3}}}
}

// invite has n new members bind to inviter's code and bind their phones,
// each paying the inviter; it returns the flags each bind raised.
func (f *fixture) invite(t *testing.T, ref *referral.Service, inviter int64, n int, block string) []int {
	t.Helper()
	var per []int
	for i := range n {
		invitee := f.member(t, "")
		if c := f.bind(t, ref, invitee, inviter); c != "" {
			t.Fatalf("bind: %s", c)
		}
		phone := fmt.Sprintf("%s%04d", block, i*100)
		ctx := context.Background()
		if err := f.env.DB.InTx(ctx, func(ctx context.Context) error {
			return ref.OnPhoneBound(ctx, &member.Member{ID: invitee, Phone: phone})
		}); err != nil {
			t.Fatal(err)
		}
		fl, err := f.svc.ObserveRewarded(ctx, invitee)
		if err != nil {
			t.Fatal(err)
		}
		per = append(per, len(fl))
		f.clock.Advance(10 * time.Minute)
	}
	return per
}

// An inviter who never ordered, paid for 12 invitees' phones: the tenth
// reward flags (and holds) the inviter, once; an inviter with an order
// (not refunded) paid for 12 as well, and one paid for 9, are not flagged.
func TestRiskReferralNoOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.rewarding()
	f.onlyRule(t, "referral_no_order", func(r *risk.Rule) { r.Hold = true })
	farmer, customer, few := f.member(t, ""), f.member(t, ""), f.member(t, "")
	// The customer's order, as the order webhook records it.
	now := f.clock.Now()
	if err := f.env.DB.Conn(context.Background()).Table("orders").Create(map[string]any{"order_id": "O-1", "member_id": customer,
		"status": "matched", "total_fen": 5000, "refunded_fen": 0, "lines": "[]", "refunded": "[]", "points": 50, "breakdown": "[]",
		"occurred_at": now, "created_at": now, "updated_at": now}).Error; err != nil {
		t.Fatal(err)
	}
	per := f.invite(t, ref, farmer, 12, "1500000")
	if fmt.Sprint(per) != "[0 0 0 0 0 0 0 0 0 1 0 0]" {
		t.Fatalf("flags per reward %v, want the tenth only", per)
	}
	fl := f.flags(t, risk.FlagQuery{MemberID: farmer})
	if len(fl) != 1 || fl[0].Key != fmt.Sprintf("member %d", farmer) || fl[0].Count != 10 || fl[0].Limit != 10 ||
		fl[0].Action != risk.ReferralReward || !fl[0].Held {
		t.Fatalf("farmer's flags %+v", fl)
	}
	var ev struct {
		Rewards, Points, Orders int64
	}
	if err := json.Unmarshal([]byte(fl[0].Evidence), &ev); err != nil || ev.Rewards != 10 || ev.Points != 100 || ev.Orders != 0 {
		t.Fatalf("evidence %s (%v)", fl[0].Evidence, err)
	}
	if err := f.svc.CheckSpend(context.Background(), farmer); domain.ErrorCode(err) != domain.AccountHeld {
		t.Fatalf("farmer not held: %v", err)
	}
	if per := f.invite(t, ref, customer, 12, "1510000"); fmt.Sprint(per) != "[0 0 0 0 0 0 0 0 0 0 0 0]" {
		t.Fatalf("a customer's rewards flagged: %v", per)
	}
	if per := f.invite(t, ref, few, 9, "1520000"); fmt.Sprint(per) != "[0 0 0 0 0 0 0 0 0]" {
		t.Fatalf("nine rewards flagged: %v", per)
	}
	if got := f.flags(t, risk.FlagQuery{}); len(got) != 1 {
		t.Fatalf("%d flags stored, want 1", len(got))
	}
}

// fullReads counts the laundering rule's reads of the whole window, and
// the entries of its first pages.
type fullReads struct {
	risk.Journal
	full, boundaries atomic.Int64
	paged            atomic.Int64 // entries the first pages answered
}

func (j *fullReads) Boundary(ctx context.Context, memberID, beforeID, minPoints int64) (*ledger.Entry, error) {
	j.boundaries.Add(1)
	return j.Journal.Boundary(ctx, memberID, beforeID, minPoints)
}

func (j *fullReads) Recent(ctx context.Context, memberID int64, since time.Time, fromID int64, limit int) ([]ledger.Entry, error) {
	full := fromID == 0 && limit > 16
	if full {
		j.full.Add(1)
	}
	got, err := j.Journal.Recent(ctx, memberID, since, fromID, limit)
	if !full {
		j.paged.Add(int64(len(got)))
	}
	return got, err
}

// launderingCounted is a fixture with only the laundering rule on, its
// journal's reads counted, and a member.
func launderingCounted(t *testing.T) (*fixture, *ledger.Service, *fullReads, int64) {
	t.Helper()
	f := newFixture(t)
	l := f.ledger()
	f.onlyRule(t, "points_laundering", nil)
	j := &fullReads{Journal: f.svc.Journal}
	f.svc.Journal = j
	return f, l, j, f.member(t, "")
}

// A spend reads the rest of the window only when it may have made a new
// cycle. A member drawing again and again (spends of 1 point, small
// prizes between them) reads one page and one boundary per spend; a
// cycle whose earning lies behind more than a page of small earnings is
// still found, and three of them still flag. The boundary before a page is
// read once: the spends it decided are not decided again.
func TestRiskPointsLaunderingReadsTheWindowOnlyForANewCycle(t *testing.T) {
	t.Parallel()
	f, l, j, m := launderingCounted(t)
	earn(t, l, m, 50)
	f.clock.Advance(time.Hour) // the seed is long spent
	for range 60 {
		if fl := spend(t, f, l, m, 1); len(fl) != 0 {
			t.Fatalf("a draw raised %+v", fl)
		}
		earn(t, l, m, 1) // a prize
		f.clock.Advance(time.Second)
	}
	if n, b := j.full.Load(), j.boundaries.Load(); n != 0 || b > 1 {
		t.Fatalf("60 draws without a cycle read the whole window %d times and a boundary %d times; want 0 and at most 1", n, b)
	}
	// Each page starts at the draw before (decided): it, its prize, the
	// new draw (a portable store reads from the newest on).
	if n := j.paged.Load(); n > 3*60 && !f.env.DB.IsPortable() {
		t.Fatalf("60 draws read %d entries in their first pages; want at most 3 each", n)
	}
	var perSpend []int
	for range 3 {
		earn(t, l, m, 500)
		for range 20 { // behind more than a page of small earnings
			earn(t, l, m, 5)
		}
		f.clock.Advance(2 * time.Minute)
		perSpend = append(perSpend, len(spend(t, f, l, m, 400)))
		f.clock.Advance(time.Hour)
	}
	if fmt.Sprint(perSpend) != "[0 0 1]" {
		t.Fatalf("flags per spend %v, want [0 0 1]", perSpend)
	}
	if n := j.full.Load(); n != 3 {
		t.Fatalf("the three cycles read the whole window %d times; want 3", n)
	}
}

// A cycle is counted once. A member who earns 500, spends 1 of it at once
// (a cycle: the window is read) and then draws again and again within the
// rule's minutes (a spend of 1 and a prize of 1 each) reads the window
// again only for a new cycle, and once flagged reads nothing more that
// window: each draw read the boundary back to the earning and the whole
// window before, for as long as the first draw was in its page. Two more
// cycles still flag the member.
func TestRiskPointsLaunderingCountsACycleOnce(t *testing.T) {
	t.Parallel()
	f, l, j, m := launderingCounted(t)
	earn(t, l, m, 500)
	for range 40 { // behind more than a page of small earnings
		earn(t, l, m, 5)
	}
	draws := func(n int) {
		for range n {
			if fl := spend(t, f, l, m, 1); len(fl) != 0 {
				t.Fatalf("a draw raised %+v", fl)
			}
			earn(t, l, m, 1) // a prize
		}
	}
	draws(12)
	if n, b := j.full.Load(), j.boundaries.Load(); n != 1 || b > 2 {
		t.Fatalf("12 draws after one cycle read the whole window %d times and a boundary %d times; want 1 and at most 2", n, b)
	}
	var perSpend []int
	for range 2 {
		f.clock.Advance(time.Minute)
		earn(t, l, m, 500)
		perSpend = append(perSpend, len(spend(t, f, l, m, 400)))
	}
	if fmt.Sprint(perSpend) != "[0 1]" {
		t.Fatalf("flags per spend %v, want [0 1]", perSpend)
	}
	full, bounds := j.full.Load(), j.boundaries.Load()
	draws(20)
	if n, b := j.full.Load(), j.boundaries.Load(); n != full || b != bounds {
		t.Fatalf("20 draws by a member flagged this window read the whole window %d and a boundary %d more times; want none", n-full, b-bounds)
	}
}

// Under one member's concurrent spends, evaluations lag behind the
// spends: the entries since the newest decided spend outnumber a page of
// 16. The page from that spend still reaches it, so no boundary is read
// (each was a statement of its own, for every evaluation of a hot member).
func TestRiskPointsLaunderingPageReachesTheDecidedSpend(t *testing.T) {
	t.Parallel()
	f, l, j, m := launderingCounted(t)
	earn(t, l, m, 50)
	f.clock.Advance(time.Hour)
	spend(t, f, l, m, 1) // decided: the window is short
	for round := range 3 {
		for k := range 12 { // 24 entries no evaluation has seen
			n := seq.Add(1)
			if _, err := l.Spend(context.Background(), ledger.SpendInput{MemberID: m, Points: 1, Key: fmt.Sprintf("lag-%d-%d-%d", m, round, k),
				Ref: ledger.Ref{Type: "lottery_draw", ID: fmt.Sprintf("D-%d", n)}, Title: "draw"}); err != nil {
				t.Fatal(err)
			}
			earn(t, l, m, 1)
		}
		if fl := spend(t, f, l, m, 1); len(fl) != 0 {
			t.Fatalf("a draw raised %+v", fl)
		}
	}
	if n, b := j.full.Load(), j.boundaries.Load(); n != 0 || b != 0 {
		t.Fatalf("lagging evaluations read the whole window %d times and a boundary %d times; want neither", n, b)
	}
}

// pausing holds the first Recent of the evaluation marked in its context
// until released.
type pausing struct {
	risk.Journal
	once             sync.Once
	entered, release chan struct{}
}

type pauseKey struct{}

func (p *pausing) Recent(ctx context.Context, m int64, since time.Time, from int64, limit int) ([]ledger.Entry, error) {
	got, err := p.Journal.Recent(ctx, m, since, from, limit)
	if ctx.Value(pauseKey{}) != nil {
		p.once.Do(func() {
			close(p.entered)
			<-p.release
		})
	}
	return got, err
}

// What a spend's evaluation decides holds for its window only. The third
// cycle of a day is spent at 23:58 and its evaluation is slow; a spend at
// 00:01, in the next window, is evaluated first. The slow evaluation must
// still count the third cycle and flag the member.
func TestRiskPointsLaunderingDecidesPerWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.ledger()
	f.onlyRule(t, "points_laundering", nil)
	p := &pausing{Journal: f.svc.Journal, entered: make(chan struct{}), release: make(chan struct{})}
	f.svc.Journal = p
	m := f.member(t, "")
	f.clock.Set(time.Date(2026, 12, 6, 20, 0, 0, 0, domain.Shanghai))
	for range 2 {
		earn(t, l, m, 500)
		f.clock.Advance(time.Minute)
		if fl := spend(t, f, l, m, 400); len(fl) != 0 {
			t.Fatalf("cycle raised %+v", fl)
		}
		f.clock.Advance(time.Hour)
	}
	f.clock.Set(time.Date(2026, 12, 6, 23, 57, 0, 0, domain.Shanghai))
	earn(t, l, m, 500)
	f.clock.Advance(time.Minute)
	if _, err := l.Spend(context.Background(), ledger.SpendInput{MemberID: m, Points: 400, Key: fmt.Sprintf("third-%d", m),
		Ref: ledger.Ref{Type: "mall", ID: fmt.Sprintf("third-%d", m)}, Title: "mall"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := f.svc.ObserveSpend(context.WithValue(context.Background(), pauseKey{}, true), m)
		done <- err
	}()
	<-p.entered
	f.clock.Set(time.Date(2026, 12, 7, 0, 1, 0, 0, domain.Shanghai))
	spend(t, f, l, m, 1) // the next window's spend, evaluated first
	f.clock.Set(time.Date(2026, 12, 6, 23, 58, 0, 0, domain.Shanghai))
	close(p.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.flags(t, risk.FlagQuery{MemberID: m}); len(got) != 1 {
		t.Fatalf("%d flags for 3 cycles in one day; want 1", len(got))
	}
}

// A rule edited starts again: with min_times 5, three cycles raise
// nothing; lowered to 3, the next spend counts them and flags.
func TestRiskPointsLaunderingEditedRuleCountsAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.ledger()
	f.onlyRule(t, "points_laundering", func(r *risk.Rule) { r.MinTimes = 5 })
	m := f.member(t, "")
	for range 3 {
		earn(t, l, m, 500)
		f.clock.Advance(time.Minute)
		if fl := spend(t, f, l, m, 400); len(fl) != 0 {
			t.Fatalf("cycle raised %+v", fl)
		}
		f.clock.Advance(30 * time.Minute)
	}
	f.onlyRule(t, "points_laundering", func(r *risk.Rule) { r.MinTimes = 3 })
	f.clock.Advance(time.Second)
	if n := len(spend(t, f, l, m, 1)); n != 1 {
		t.Fatalf("after min_times 5 → 3 with 3 cycles, the next spend raised %d flags; want 1", n)
	}
}

// Concurrent spends' first pages are read together (one statement for
// several members), each member still getting its own newest entries,
// newest first, from the entry it asked for on; so are the phones of
// concurrent velocity checks.
func TestRiskJournalReadsConcurrentFirstPagesTogether(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.ledger()
	j := f.svc.Journal.(*riskstore.Journal)
	const members = 12
	ids := make([]int64, members)
	for i := range ids {
		ids[i] = f.member(t, fmt.Sprintf("1380000%04d", i))
		for k := range i + 10 { // member i has i+10 entries: some fewer than a page, some more
			earn(t, l, ids[i], int64(100*i+k+1))
		}
	}
	since := f.clock.Now().Add(-time.Hour)
	phones := f.svc.Members.(*riskstore.Members)
	fourth := make([]int64, members) // each member's fourth newest entry, read in round 0
	for round := range 5 {
		var wg sync.WaitGroup
		errs := make(chan error, 2*members)
		for i, m := range ids {
			wg.Add(2)
			go func() {
				defer wg.Done()
				// Odd rounds read from the fourth newest entry on (the
				// newest 16 on a portable store, whose ids need not
				// follow commit order).
				from, want := int64(0), min(i+10, 16)
				if round%2 == 1 {
					from = fourth[i]
					if !f.env.DB.IsPortable() {
						want = 4
					}
				}
				got, err := j.Recent(context.Background(), m, since, from, 16)
				if err != nil {
					errs <- err
					return
				}
				if round == 0 && len(got) > 3 {
					fourth[i] = got[3].ID
				}
				if len(got) != want {
					errs <- fmt.Errorf("round %d, member %d: %d entries; want %d", round, i, len(got), want)
					return
				}
				for k, e := range got {
					// Newest first: the member's last earning was of 100i+i+10 points.
					if e.MemberID != m || e.Amount != int64(100*i+i+10-k) {
						errs <- fmt.Errorf("round %d, member %d: entry %d is %+v; want its own earning of %d", round, i, k, e, 100*i+i+10-k)
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				p, err := phones.Phone(context.Background(), m)
				if err == nil && p != fmt.Sprintf("1380000%04d", i) {
					err = fmt.Errorf("member %d read phone %q", i, p)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	if statements, pages := j.FirstPageReads(); statements >= pages {
		t.Errorf("%d statements read %d first pages: none shared", statements, pages)
	}
	if queries, read := phones.PhoneReads(); queries >= read {
		t.Errorf("%d queries read %d phones: none shared", queries, read)
	}
	if _, err := phones.Phone(context.Background(), 1<<40); domain.ErrorCode(err) != domain.NotFound {
		t.Errorf("phone of no member: %v; want NotFound", err)
	}
}
