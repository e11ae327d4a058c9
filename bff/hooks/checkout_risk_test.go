package hooks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/risk"
)

// onlyRiskRule saves the default policy with only the rule name on,
// holding, as a marketer does in the console.
func onlyRiskRule(t *testing.T, h *apptest.Harness, name string) {
	t.Helper()
	p := risk.DefaultPolicy()
	for i := range p.Rules {
		p.Rules[i].Enabled = p.Rules[i].Name == name
		p.Rules[i].Hold = p.Rules[i].Enabled
	}
	body := map[string]any{"version": 1, "rules": p.Rules}
	if r := h.Do("PUT", "/api/v1/console/risk/policy", body, apptest.Auth(h.ConsoleLogin("marketer"))...); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
}

type riskFlagView struct {
	MemberID int64          `json:"member_id"`
	Rule     string         `json:"rule"`
	Key      string         `json:"key"`
	Count    int64          `json:"count"`
	Held     bool           `json:"held"`
	Evidence map[string]any `json:"evidence"`
}

func riskFlags(t *testing.T, h *apptest.Harness) []riskFlagView {
	t.Helper()
	var out struct {
		Flags []riskFlagView `json:"flags"`
	}
	r := h.Do("GET", "/api/v1/console/risk/flags?status=open", nil, apptest.Auth(h.ConsoleLogin("auditor"))...)
	if r.Status != 200 {
		t.Fatalf("queue: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &out)
	return out.Flags
}

// launderer is a member earning points (an order's, available at once)
// and using them at checkout for 100-yuan orders.
type launderer struct {
	h  *apptest.Harness
	id int64
	n  int
}

func (l *launderer) earn(points int64) {
	l.h.T.Helper()
	l.n++
	key := fmt.Sprintf("earn-%d-%d", l.id, l.n)
	if _, err := l.h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: l.id, Points: points, Key: key,
		Ref: ledger.Ref{Type: "order", ID: key}}); err != nil {
		l.h.T.Fatal(err)
	}
}

// hold places a checkout hold of points and returns its id and order id.
func (l *launderer) hold(points int64) (int64, string) {
	l.h.T.Helper()
	l.n++
	order := fmt.Sprintf("T-%d-%d", l.id, l.n)
	r := coSend(l.h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(l.id, order, 10000, 0, points, points), "h-"+order)
	if r.Status != 201 {
		l.h.T.Fatalf("hold %s: %d %s", order, r.Status, r.Body)
	}
	var out struct {
		Hold holdView `json:"hold"`
	}
	r.Decode(l.h.T, &out)
	return out.Hold.ID, order
}

func (l *launderer) capture(id int64, order string) {
	l.h.T.Helper()
	r := coSend(l.h, true, "POST", fmt.Sprintf("/api/v1/hooks/checkout/holds/%d/capture", id),
		map[string]any{"order_id": order, "total_fen": 10000, "currency": "CNY"}, "c-"+order)
	if r.Status != 200 {
		l.h.T.Fatalf("capture %s: %d %s", order, r.Status, r.Body)
	}
}

func (l *launderer) release(id int64, order string) {
	l.h.T.Helper()
	r := coSend(l.h, true, "POST", fmt.Sprintf("/api/v1/hooks/checkout/holds/%d/release", id),
		map[string]any{"order_id": order}, "r-"+order)
	if r.Status != 200 {
		l.h.T.Fatalf("release %s: %d %s", order, r.Status, r.Body)
	}
}

// Points laundering at the till (积分抵现): a member earning 500 points
// and using 400 of them at checkout two minutes later, three times 40
// minutes apart, is flagged on the third: the first two captured by the
// paid order events that name the holds, the third through the capture
// route. The member is held: the next checkout hold answers 403
// ACCOUNT_HELD. A second member's two checkouts and a make-up sign-in,
// each two minutes after earning 500, are flagged at the make-up; a
// third's two make-ups and a checkout captured by its paid event, at the
// event. Exactly three flags, each raised by the spend that made three.
func TestRiskLaunderingAtCheckout(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	onlyRiskRule(t, h, "points_laundering")
	_, _, a := h.Login(apptest.UniqueUser("till-a"))
	userM, userP := apptest.UniqueUser("till-m"), apptest.UniqueUser("till-p")
	_, _, m := h.LoginJoined(userM, apptest.MonthStart) // they make up days before Start
	_, _, p := h.LoginJoined(userP, apptest.MonthStart)
	la, lm, lp := &launderer{h: h, id: a}, &launderer{h: h, id: m}, &launderer{h: h, id: p}
	n := 0
	paidEvent := func(l *launderer) {
		t.Helper()
		id, order := l.hold(400)
		h.Clock.Advance(time.Minute)
		n++
		ev := paid(fmt.Sprintf("ev-%d", n), order, byID(l.id), h.Clock.Now(), 10000)
		ev["points_hold_id"] = id
		if r := post(h, ev); r.Status != 200 {
			t.Fatalf("paid event: %d %s", r.Status, r.Body)
		}
	}
	captured := func(l *launderer) { l.capture(l.hold(400)) }
	madeUp := func(user string, day string) func(*launderer) {
		return func(*launderer) {
			t.Helper()
			tok, _, _ := h.Login(user)
			if r := h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"`+day+`"}`, apptest.Auth(tok)...); r.Status != 201 {
				t.Fatalf("make-up: %d %s", r.Status, r.Body)
			}
		}
	}
	var per []int
	for _, step := range []struct {
		l     *launderer
		spend func(*launderer)
	}{
		{la, paidEvent}, {la, paidEvent}, {la, captured},
		{lm, captured}, {lm, captured}, {lm, madeUp(userM, "2026-11-20")},
		{lp, madeUp(userP, "2026-11-20")}, {lp, madeUp(userP, "2026-11-21")}, {lp, paidEvent},
	} {
		step.l.earn(500)
		h.Clock.Advance(2 * time.Minute)
		step.spend(step.l)
		per = append(per, len(riskFlags(t, h)))
		h.Clock.Advance(40 * time.Minute)
	}
	if fmt.Sprint(per) != "[0 0 1 1 1 2 2 2 3]" {
		t.Fatalf("open flags after each spend %v, want [0 0 1 1 1 2 2 2 3]", per)
	}
	la.earn(500)
	r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(a, "T-held", 10000, 0, 400, 400), "h-held")
	if r.Status != 403 || r.ErrorCode() != "ACCOUNT_HELD" {
		t.Fatalf("a held member's checkout: %d %s", r.Status, r.Body)
	}
	flags := riskFlags(t, h)
	byMember := map[int64]riskFlagView{}
	for _, f := range flags {
		byMember[f.MemberID] = f
	}
	for _, id := range []int64{a, m, p} {
		if f := byMember[id]; f.Count != 3 || !f.Held || f.Rule != "points_laundering" || f.Key != fmt.Sprintf("member %d", id) {
			t.Fatalf("flags %+v, want one on each of the three members", flags)
		}
	}
	cycles, _ := byMember[a].Evidence["cycles"].([]any)
	if len(cycles) != 3 {
		t.Fatalf("evidence %+v", byMember[a].Evidence)
	}
	if last, _ := cycles[2].(map[string]any); last["spend_ref"] != fmt.Sprintf("checkout:%d", lastHold(t, h, a)) || last["spent"].(float64) != 400 {
		t.Fatalf("the third cycle %+v, want the checkout's hold", last)
	}
	checkLedger(t, h)
}

// lastHold is the member's newest checkout id.
func lastHold(t *testing.T, h *apptest.Harness, member int64) int64 {
	t.Helper()
	var id int64
	if err := h.Env.DB.Conn(context.Background()).Table("checkouts").Select("MAX(id)").Where("member_id = ?", member).Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

// Ordinary checkouts at the same volume raise nothing: members who earn
// 500 and use 400 at the till three times a day but 11 minutes after
// earning; members whose checkouts two minutes after earning were all
// cancelled (the holds released: nothing was spent); members who earn
// 2,500 once and use it in three checkouts within minutes (one cycle).
func TestRiskLaunderingAtCheckoutOrdinary(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	onlyRiskRule(t, h, "points_laundering")
	for k := range 5 {
		var slow, cancelled, once launderer
		for _, l := range []*launderer{&slow, &cancelled, &once} {
			_, _, id := h.Login(apptest.UniqueUser(fmt.Sprintf("till-o%d", k)))
			*l = launderer{h: h, id: id}
		}
		once.earn(2500)
		for range 3 {
			slow.earn(500)
			cancelled.earn(500)
			h.Clock.Advance(2 * time.Minute)
			cancelled.release(cancelled.hold(400))
			once.capture(once.hold(400))
			h.Clock.Advance(9*time.Minute + time.Second)
			slow.capture(slow.hold(400))
			h.Clock.Advance(30 * time.Minute)
		}
	}
	if flags := riskFlags(t, h); len(flags) != 0 {
		t.Fatalf("ordinary checkouts raised %d flags: %+v", len(flags), flags)
	}
	checkLedger(t, h)
}
