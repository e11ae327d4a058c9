package hooks_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/bff/bfftest"
	"github.com/jifen/jifen/domain"
)

// The order webhook and referral meet: an invitee's first paid order pays
// the inviter once, and a second order pays nothing more.
func TestFirstPaidOrderRewardsTheInviter(t *testing.T) {
	t.Parallel()
	h := bfftest.New(t, withSecret)
	inviterTok, _, inviterID := h.Login(bfftest.UniqueUser("inviter"))
	r := h.Do("GET", "/api/v1/shopper/referral", nil, bfftest.Auth(inviterTok)...)
	code, _ := r.JSON()["code"].(string)
	if r.Status != 200 || code == "" {
		t.Fatalf("referral: %d %s", r.Status, r.Body)
	}
	r = h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(bfftest.UniqueUser("invitee")), "invite_code": code})
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
