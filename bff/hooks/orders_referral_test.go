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
