package hooks_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
)

// The order webhook and referral meet: an invitee's first paid order pays
// the inviter once, and a second order pays nothing more.
func TestFirstPaidOrderRewardsTheInviter(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	inviterTok, _, inviterID := h.Login(apptest.UniqueUser("inviter"))
	r := h.Do("GET", "/api/v1/shopper/referral", nil, apptest.Auth(inviterTok)...)
	code, _ := r.JSON()["code"].(string)
	if r.Status != 200 || code == "" {
		t.Fatalf("referral: %d %s", r.Status, r.Body)
	}
	r = h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(apptest.UniqueUser("invitee")), "invite_code": code})
	if r.Status != 200 {
		t.Fatalf("invitee login: %d %s", r.Status, r.Body)
	}
	inviteeID := int64(r.JSON()["member"].(map[string]any)["id"].(float64))
	before := balance(h, inviterID).Available
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, domain.Shanghai)
	h.Clock.Set(at.Add(time.Minute))
	for i := 1; i <= 2; i++ {
		if r := post(h, paid(fmt.Sprint("ev-ref-", i), fmt.Sprint("O-REF-", i), byID(inviteeID), at, 5000)); r.Status != 200 {
			t.Fatalf("paid %d: %d %s", i, r.Status, r.Body)
		}
	}
	reward := h.Config.Referral.Rewards.FirstOrderInviter
	if got := balance(h, inviterID).Available - before; got != reward {
		t.Fatalf("inviter got %d for the invitee's orders, want %d once", got, reward)
	}
}

// First paid orders of several invitees of one inviter arriving at once,
// among other members' orders, are grouped, and the inviter is paid once
// per invitee (their bindings are read for the whole group at once).
func TestConcurrentFirstPaidOrdersRewardTheInviterOncePerInvitee(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	admin := h.ConsoleLogin("admin")
	createRule(h, admin, baseRule)
	inviterTok, _, inviterID := h.Login(apptest.UniqueUser("inviter"))
	r := h.Do("GET", "/api/v1/shopper/referral", nil, apptest.Auth(inviterTok)...)
	code, _ := r.JSON()["code"].(string)
	var members []int64
	for i := range 3 {
		r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(apptest.UniqueUser("invitee")), "invite_code": code})
		if r.Status != 200 {
			t.Fatalf("invitee %d login: %d %s", i, r.Status, r.Body)
		}
		members = append(members, int64(r.JSON()["member"].(map[string]any)["id"].(float64)))
	}
	for range 5 {
		_, _, id := h.Login(apptest.UniqueUser("plain"))
		members = append(members, id)
	}
	before := balance(h, inviterID).Available
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
	reward := h.Config.Referral.Rewards.FirstOrderInviter
	if got := balance(h, inviterID).Available - before; got != 3*reward {
		t.Fatalf("inviter got %d for 3 invitees' orders, want %d", got, 3*reward)
	}
	if groups, events := h.App.Orders.GroupStats(); groups == 0 || events != int64(2*len(members)) {
		t.Fatalf("%d groups answered %d of %d events", groups, events, 2*len(members))
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
