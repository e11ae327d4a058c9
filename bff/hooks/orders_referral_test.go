package hooks_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
)

// refTree is a referral chain through the shopper API: top invited
// inviter, who invited invitee.
type refTree struct {
	top, inviter        string // their WeChat users (log in again for a token)
	topID, inviterID    int64
	invitee, invitee2   int64 // invitee2: a second invitee of inviter
	inviteeU, invitee2U string
}

// inviteCode returns the invite code of the member user logs in as.
func inviteCode(h *apptest.Harness, user string) string {
	h.T.Helper()
	tok, _, _ := h.Login(user)
	r := h.Do("GET", "/api/v1/shopper/referral", nil, apptest.Auth(tok)...)
	code, _ := r.JSON()["code"].(string)
	if r.Status != 200 || code == "" {
		h.T.Fatalf("referral: %d %s", r.Status, r.Body)
	}
	return code
}

// joinWith logs user in for the first time with an invite code.
func joinWith(h *apptest.Harness, user, code string) int64 {
	h.T.Helper()
	r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(user), "invite_code": code})
	if r.Status != 200 {
		h.T.Fatalf("login %s: %d %s", user, r.Status, r.Body)
	}
	return int64(r.JSON()["member"].(map[string]any)["id"].(float64))
}

func newRefTree(h *apptest.Harness) refTree {
	h.T.Helper()
	t := refTree{top: apptest.UniqueUser("top"), inviter: apptest.UniqueUser("inviter"),
		inviteeU: apptest.UniqueUser("invitee"), invitee2U: apptest.UniqueUser("invitee2")}
	_, _, t.topID = h.Login(t.top)
	t.inviterID = joinWith(h, t.inviter, inviteCode(h, t.top))
	code := inviteCode(h, t.inviter)
	t.invitee, t.invitee2 = joinWith(h, t.inviteeU, code), joinWith(h, t.invitee2U, code)
	return t
}

// mePoints is what GET /shopper/me shows user of their points (logged in
// again: the clock may have passed their last token).
func mePoints(h *apptest.Harness, user string) points {
	h.T.Helper()
	tok, _, _ := h.Login(user)
	r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
	var me struct{ Points points }
	r.Decode(h.T, &me)
	if r.Status != 200 {
		h.T.Fatalf("/me: %d %s", r.Status, r.Body)
	}
	return me.Points
}

// journalKinds counts the kinds of user's journal entries
// (GET /shopper/points/entries).
func journalKinds(h *apptest.Harness, user string) map[string]int {
	h.T.Helper()
	tok, _, _ := h.Login(user)
	r := h.Do("GET", "/api/v1/shopper/points/entries?limit=100", nil, apptest.Auth(tok)...)
	var out struct{ Entries []struct{ Kind string } }
	r.Decode(h.T, &out)
	if r.Status != 200 {
		h.T.Fatalf("entries: %d %s", r.Status, r.Body)
	}
	kinds := map[string]int{}
	for _, e := range out.Entries {
		kinds[e.Kind]++
	}
	return kinds
}

// The order webhook and referral meet: an invitee's first paid order pays
// the inviter (and the inviter's inviter) once, pending as long as the
// order's own points are, and a second order pays nothing more.
func TestFirstPaidOrderRewardIsPendingUntilTheReturnWindowEnds(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("admin"), baseRule)
	tr := newRefTree(h)
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, domain.Shanghai)
	h.Clock.Set(at.Add(time.Minute))
	for i := 1; i <= 2; i++ {
		if r := post(h, paid(fmt.Sprint("ev-ref-", i), fmt.Sprint("O-REF-", i), byID(tr.invitee), at, 5000)); r.Status != 200 {
			t.Fatalf("paid %d: %d %s", i, r.Status, r.Body)
		}
	}
	l1, l2 := h.Config.Referral.Rewards.FirstOrderInviter, h.Config.Referral.Rewards.FirstOrderSecondLv
	if got := mePoints(h, tr.inviter); got != (points{Pending: l1}) {
		t.Fatalf("inviter's /me %+v, want %d pending once", got, l1)
	}
	if got := mePoints(h, tr.top); got != (points{Pending: l2}) {
		t.Fatalf("second level's /me %+v, want %d pending", got, l2)
	}
	window := h.Config.Orders.ReturnWindow
	h.Clock.Set(at.Add(window - time.Minute))
	if got := mePoints(h, tr.inviter); got != (points{Pending: l1}) {
		t.Fatalf("inviter's /me a minute before the window ends %+v", got)
	}
	h.Clock.Set(at.Add(window + time.Minute))
	if got := mePoints(h, tr.inviter); got != (points{Available: l1}) {
		t.Fatalf("inviter's /me after the window %+v, want %d available", got, l1)
	}
	if got := mePoints(h, tr.top); got != (points{Available: l2}) {
		t.Fatalf("second level's /me after the window %+v, want %d available", got, l2)
	}

	// With no return window the reward is available at once, as the order's points are.
	h0 := apptest.New(t, withSecret, func(c *configs.Config) { c.Orders.ReturnWindow = 0 })
	tr0 := newRefTree(h0)
	if r := post(h0, paid("ev-ref0", "O-REF0", byID(tr0.invitee), h0.Clock.Now(), 5000)); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	if got := mePoints(h0, tr0.inviter); got != (points{Available: l1}) {
		t.Fatalf("inviter's /me with no return window %+v, want %d available", got, l1)
	}
}

// An invitee who pays and gets the whole order refunded within the return
// window leaves their inviters nothing: the pending rewards are reversed
// with the refund; replaying the refund changes nothing, and the invitee's
// next order pays no first-order reward again (it is per invitee, once).
func TestFullRefundWithinTheWindowReversesTheFirstOrderReward(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("admin"), baseRule)
	tr := newRefTree(h)
	at := h.Clock.Now()
	if r := post(h, paid("ev-rf-1", "O-RF-1", byID(tr.invitee), at, 3000, 2000)); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	l1 := h.Config.Referral.Rewards.FirstOrderInviter
	if got := mePoints(h, tr.inviter); got.Pending != l1 {
		t.Fatalf("inviter's /me %+v before the refund", got)
	}
	h.Clock.Advance(time.Hour)
	// A partial refund first, then the rest: the second brings the order to nothing paid.
	if r := post(h, refund("ev-rf-r1", "O-RF-1", h.Clock.Now(), line{SKU: "SKU-1", Qty: 1, AmountFen: 3000})); r.Status != 200 {
		t.Fatalf("partial refund: %d %s", r.Status, r.Body)
	}
	if got := mePoints(h, tr.inviter); got.Pending != l1 {
		t.Fatalf("inviter's /me after a partial refund %+v, want %d pending", got, l1)
	}
	full := refund("ev-rf-r2", "O-RF-1", h.Clock.Now())
	if r := post(h, full); r.Status != 200 || r.JSON()["points_reversed"].(float64) != 20 {
		t.Fatalf("full refund: %d %s", r.Status, r.Body)
	}
	check := func(when string) {
		t.Helper()
		for _, u := range []string{tr.inviter, tr.top, tr.inviteeU} {
			if got := mePoints(h, u); got != (points{}) {
				t.Fatalf("%s: %s's /me %+v, want nothing", when, u, got)
			}
		}
		for _, u := range []string{tr.inviter, tr.top} {
			if k := journalKinds(h, u); k["earn"] != 1 || k["reverse"] != 1 {
				t.Fatalf("%s: %s's journal %v, want the reward and its reversal", when, u, k)
			}
		}
		for _, id := range []int64{tr.inviterID, tr.topID, tr.invitee} {
			if v, err := h.App.Ledger.Check(context.Background(), id); err != nil || len(v) > 0 {
				t.Fatalf("%s: ledger of %d: %v %v", when, id, v, err)
			}
		}
		tok, _, _ := h.Login(tr.inviter)
		if r := h.Do("GET", "/api/v1/shopper/referral", nil, apptest.Auth(tok)...); r.Status != 200 || r.JSON()["rewards_earned"].(float64) != 0 {
			t.Fatalf("%s: inviter's referral overview %d %s", when, r.Status, r.Body)
		}
	}
	check("after the full refund")
	if r := post(h, full); r.Status != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replayed refund: %d %s", r.Status, r.Body)
	}
	if r := post(h, refund("ev-rf-r3", "O-RF-1", h.Clock.Now())); r.Status != 422 {
		t.Fatalf("a refund of a fully refunded order: %d %s", r.Status, r.Body)
	}
	check("after the replays")
	// The next order is not a first order: no reward, now or after its window.
	if r := post(h, paid("ev-rf-2", "O-RF-2", byID(tr.invitee), h.Clock.Now(), 5000)); r.Status != 200 {
		t.Fatalf("second order: %d %s", r.Status, r.Body)
	}
	h.Clock.Advance(h.Config.Orders.ReturnWindow + time.Hour)
	if got := mePoints(h, tr.inviter); got != (points{}) {
		t.Fatalf("inviter's /me after the invitee's second order %+v, want nothing", got)
	}
}

// A partial refund leaves the first-order reward; so does a full refund
// after the return window (the points are the inviter's by then).
func TestPartialOrLateRefundKeepsTheFirstOrderReward(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	tr := newRefTree(h)
	at := h.Clock.Now()
	window := h.Config.Orders.ReturnWindow
	l1, l2 := h.Config.Referral.Rewards.FirstOrderInviter, h.Config.Referral.Rewards.FirstOrderSecondLv
	// invitee: a partial refund within the window.
	if r := post(h, paid("ev-pk-1", "O-PK-1", byID(tr.invitee), at, 3000, 2000)); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	h.Clock.Advance(time.Hour)
	if r := post(h, refund("ev-pk-r", "O-PK-1", h.Clock.Now(), line{SKU: "SKU-2", Qty: 1, AmountFen: 2000})); r.Status != 200 {
		t.Fatalf("partial refund: %d %s", r.Status, r.Body)
	}
	if got := mePoints(h, tr.inviter); got != (points{Pending: l1}) {
		t.Fatalf("inviter's /me after a partial refund %+v, want %d pending", got, l1)
	}
	// invitee2: a full refund after the window.
	if r := post(h, paid("ev-lt-1", "O-LT-1", byID(tr.invitee2), at, 5000)); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	h.Clock.Set(at.Add(window + time.Minute))
	if r := post(h, refund("ev-lt-r", "O-LT-1", h.Clock.Now())); r.Status != 200 {
		t.Fatalf("late refund: %d %s", r.Status, r.Body)
	}
	if got := mePoints(h, tr.inviter); got != (points{Available: 2 * l1}) {
		t.Fatalf("inviter's /me %+v, want %d available (both rewards kept)", got, 2*l1)
	}
	if got := mePoints(h, tr.top); got != (points{Available: 2 * l2}) {
		t.Fatalf("second level's /me %+v, want %d available", got, 2*l2)
	}
	if k := journalKinds(h, tr.inviter); k["reverse"] != 0 {
		t.Fatalf("inviter's journal %v: a reward was reversed", k)
	}
}

// First paid orders of several invitees of one inviter arriving at once,
// among other members' orders, are grouped, and the inviter is paid once
// per invitee (their bindings are read for the whole group at once),
// pending like one-by-one; an invitee paying several orders at once pays
// one reward. A full refund of a first order paid in a group reverses its
// reward as it would one paid alone.
func TestConcurrentFirstPaidOrdersRewardTheInviterOncePerInvitee(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret, func(c *configs.Config) { c.Referral.DailyCapPoints = 0 })
	admin := h.ConsoleLogin("admin")
	createRule(h, admin, baseRule)
	inviter := apptest.UniqueUser("inviter")
	_, _, inviterID := h.Login(inviter)
	code := inviteCode(h, inviter)
	var members []int64
	for range 3 {
		members = append(members, joinWith(h, apptest.UniqueUser("invitee"), code))
	}
	for range 5 {
		_, _, id := h.Login(apptest.UniqueUser("plain"))
		members = append(members, id)
	}
	at := h.Clock.Now()
	var wg sync.WaitGroup
	for round := range 2 {
		for i, id := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := post(h, paid(fmt.Sprint("ev-cref-", round, "-", i), fmt.Sprint("O-CREF-", round, "-", i), byID(id), at, 5000)); r.Status != 200 {
					t.Errorf("paid: %d %s", r.Status, r.Body)
				}
			}()
		}
		wg.Wait()
	}
	// A fourth invitee pays four orders at once: one of them is the first.
	burst := joinWith(h, apptest.UniqueUser("invitee"), code)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := post(h, paid(fmt.Sprint("ev-burst-", i), fmt.Sprint("O-BURST-", i), byID(burst), at, 5000)); r.Status != 200 {
				t.Errorf("paid: %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	reward := h.Config.Referral.Rewards.FirstOrderInviter
	if got := mePoints(h, inviter); got != (points{Pending: 4 * reward}) {
		t.Fatalf("inviter's /me %+v for 4 invitees' orders, want %d pending", got, 4*reward)
	}
	if groups, events := h.App.Orders.GroupStats(); groups == 0 || events < int64(2*len(members)) {
		t.Fatalf("%d groups answered %d of %d events", groups, events, 2*len(members))
	}
	// The first invitee's first order (round 0) was paid in a group.
	h.Clock.Advance(time.Hour)
	if r := post(h, refund("ev-cref-r", "O-CREF-0-0", h.Clock.Now())); r.Status != 200 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	if got := mePoints(h, inviter); got != (points{Pending: 3 * reward}) {
		t.Fatalf("inviter's /me %+v after a first order's full refund, want %d pending", got, 3*reward)
	}
	if v, err := h.App.Ledger.Check(context.Background(), inviterID); err != nil || len(v) > 0 {
		t.Fatalf("inviter's ledger: %v %v", v, err)
	}
}

// Paid events naming their members by openid, as a mini-program shop's
// order system does, are grouped like events by id, and earn what the
// same orders earn one by one.
func TestConcurrentPaidEventsByOpenIDAreGrouped(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	admin := h.ConsoleLogin("admin")
	createRule(h, admin, baseRule)
	var openids []string
	for range 8 {
		_, _, id := h.Login(apptest.UniqueUser("openid"))
		m, err := h.App.Members.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		openids = append(openids, m.OpenID)
	}
	_, _, control := h.Login(apptest.UniqueUser("control"))
	at := h.Clock.Now()
	for round := range 2 {
		if r := post(h, paid(fmt.Sprint("ev-ctl-", round), fmt.Sprint("O-CTL-", round), byID(control), at, 5000)); r.Status != 200 {
			t.Fatalf("control paid: %d %s", r.Status, r.Body)
		}
	}
	want := balance(h, control)
	if want.Available+want.Pending == 0 {
		t.Fatalf("the control member earned nothing: %+v", want)
	}
	g0, e0 := h.App.Orders.GroupStats()
	var wg sync.WaitGroup
	for round := range 2 {
		for i, oid := range openids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := paid(fmt.Sprint("ev-oid-", round, "-", i), fmt.Sprint("O-OID-", round, "-", i), map[string]any{"openid": oid}, at, 5000)
				if r := post(h, ev); r.Status != 200 {
					t.Errorf("paid: %d %s", r.Status, r.Body)
				}
			}()
		}
		wg.Wait()
	}
	if groups, events := h.App.Orders.GroupStats(); groups == g0 || events-e0 != int64(2*len(openids)) {
		t.Fatalf("%d groups answered %d of %d events by openid", groups-g0, events-e0, 2*len(openids))
	}
	for _, oid := range openids {
		m, err := h.App.Members.Store.ByOpenID(context.Background(), oid)
		if err != nil {
			t.Fatal(err)
		}
		if got := balance(h, m.ID); got != want {
			t.Fatalf("member %d earned %+v by openid; the same orders by id earned %+v", m.ID, got, want)
		}
		if v, err := h.App.Ledger.Check(context.Background(), m.ID); err != nil || len(v) > 0 {
			t.Fatalf("ledger of %d: %v %v", m.ID, v, err)
		}
	}
	// A replay answers the first outcome; the same event_id by id instead of openid is another event.
	_, _, first := h.Login(apptest.UniqueUser("replay"))
	m, _ := h.App.Members.Get(context.Background(), first)
	ev := paid("ev-oid-replay", "O-OID-REPLAY", map[string]any{"openid": m.OpenID}, at, 5000)
	if r := post(h, ev); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	if r := post(h, ev); r.Status != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	if r := post(h, paid("ev-oid-replay", "O-OID-REPLAY", byID(first), at, 5000)); r.Status != 409 {
		t.Fatalf("the event_id with the member by id: %d %s, want 409", r.Status, r.Body)
	}
}

// An order id or an event id may be 64 characters, and 64 Chinese
// characters are 192 bytes: an invitee's first order with such ids pays
// its points and its referral rewards (the ledger keys and references
// built from them stay within the ledger's limits), and a full refund
// takes them back, on MySQL's sized columns too.
func TestFirstOrderWithTheLongestIDsPaysTheReward(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("admin"), baseRule)
	l1 := h.Config.Referral.Rewards.FirstOrderInviter
	for i, long := range []string{strings.Repeat("O", 64), strings.Repeat("订", 64)} {
		tr := newRefTree(h)
		order, event := long, strings.Repeat("事", 63)+fmt.Sprint(i)
		at := h.Clock.Now()
		if r := post(h, paid(event, order, byID(tr.invitee), at, 5000)); r.Status != 200 || r.JSON()["points_awarded"] != float64(50) {
			t.Fatalf("first paid order with a 64-character id: %d %s", r.Status, r.Body)
		}
		if got := mePoints(h, tr.inviter); got != (points{Pending: l1}) {
			t.Fatalf("inviter's /me %+v, want %d pending", got, l1)
		}
		if got := mePoints(h, tr.inviteeU); got != (points{Pending: 50}) {
			t.Fatalf("invitee's /me %+v, want the order's 50 pending", got)
		}
		refund := map[string]any{"event_id": strings.Repeat("退", 62) + fmt.Sprint(i) + "r", "type": "refunded", "order_id": order, "total_fen": 0, "occurred_at": at.Format(time.RFC3339)}
		if r := post(h, refund); r.Status != 200 {
			t.Fatalf("full refund: %d %s", r.Status, r.Body)
		}
		if got := mePoints(h, tr.inviter); got != (points{}) {
			t.Fatalf("inviter's /me after the full refund %+v, want nothing", got)
		}
		if got := mePoints(h, tr.inviteeU); got != (points{}) {
			t.Fatalf("invitee's /me after the full refund %+v, want nothing", got)
		}
	}
}
