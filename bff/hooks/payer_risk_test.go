package hooks_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// paidBy is a paid order event of member for 100 yuan paid with account.
func paidBy(h *apptest.Harness, event string, member int64, account string) {
	h.T.Helper()
	ev := paid(event, "O-"+event, byID(member), h.Clock.Now(), 10000)
	if account != "" {
		ev["payer_account"] = account
	}
	if r := post(h, ev); r.Status != 200 {
		h.T.Fatalf("paid %s: %d %s", event, r.Status, r.Body)
	}
}

// shared_payer (more than 3 members on one account within 24 hours): six
// members paying with one card ten minutes apart give open flags 0, 0, 0,
// 4, 5, 6 (the fourth flags the four, each later one its own member); a
// second order of a flagged member and a replayed event add nothing; the
// flags hold the members and name the account, the members and the
// orders. A payer_account on a refund, or one with spaces, is 400.
func TestRiskSharedPayer(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	onlyRiskRule(t, h, "shared_payer")
	var ids []int64
	var per []int
	for i := range 6 {
		_, _, id := h.Login(apptest.UniqueUser("farm"))
		ids = append(ids, id)
		paidBy(h, fmt.Sprintf("farm-%d", i), id, "card:9f86d081884c7d65")
		per = append(per, len(riskFlags(t, h)))
		h.Clock.Advance(10 * time.Minute)
	}
	if fmt.Sprint(per) != "[0 0 0 4 5 6]" {
		t.Fatalf("open flags after each order %v, want [0 0 0 4 5 6]", per)
	}
	paidBy(h, "farm-again", ids[0], "card:9f86d081884c7d65")
	if r := post(h, paid("farm-5", "O-farm-5", byID(ids[5]), h.Clock.Now().Add(-10*time.Minute), 10000)); r.Status != 409 {
		t.Fatalf("the same event without its payer: %d %s", r.Status, r.Body)
	}
	flags := riskFlags(t, h)
	if len(flags) != 6 {
		t.Fatalf("%d flags, want 6", len(flags))
	}
	byMember := map[int64]riskFlagView{}
	for _, f := range flags {
		byMember[f.MemberID] = f
	}
	for i, id := range ids {
		f := byMember[id]
		want := int64(4 + max(0, i-3))
		if f.Rule != "shared_payer" || f.Key != fmt.Sprintf("member %d", id) || f.Count != want || !f.Held {
			t.Fatalf("member %d: flag %+v, want count %d", id, f, want)
		}
	}
	ev := byMember[ids[3]].Evidence
	members, _ := ev["members"].([]any)
	payments, _ := ev["payments"].([]any)
	if ev["payer_account"] != "card:9f86d081884c7d65" || len(members) != 4 || len(payments) != 4 ||
		payments[3].(map[string]any)["order_id"] != "O-farm-3" {
		t.Fatalf("evidence %+v", ev)
	}
	r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(ids[0], "T-farm", 10000, 0, 100, 100), "h-farm")
	if r.Status != 403 || r.ErrorCode() != "ACCOUNT_HELD" {
		t.Fatalf("a held member's checkout: %d %s", r.Status, r.Body)
	}
	bad := paid("bad-1", "O-bad-1", byID(ids[0]), h.Clock.Now(), 10000)
	bad["payer_account"] = "two words"
	if r := postSpec(h, false, bad); r.Status != 400 || r.Fields()["payer_account"] == nil {
		t.Fatalf("a payer with a space: %d %s", r.Status, r.Body)
	}
	ref := refund("bad-2", "O-farm-0", h.Clock.Now())
	ref["payer_account"] = "card:1"
	if r := post(h, ref); r.Status != 400 || r.Fields()["payer_account"] == nil {
		t.Fatalf("a payer on a refund: %d %s", r.Status, r.Body)
	}
}

// Ordinary payments at a larger volume raise nothing: 40 households of
// three members sharing a card, each paying twice in a day; 40 members
// paying with their own cards; and five members on one card but a day and
// an hour apart.
func TestRiskSharedPayerOrdinary(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	onlyRiskRule(t, h, "shared_payer")
	n := 0
	next := func(member int64, account string) {
		n++
		paidBy(h, fmt.Sprintf("o-%d", n), member, account)
	}
	for hh := range 40 {
		_, _, own := h.Login(apptest.UniqueUser("own"))
		next(own, fmt.Sprintf("card:own-%d", hh))
		var family []int64
		for range 3 {
			_, _, id := h.Login(apptest.UniqueUser("family"))
			family = append(family, id)
		}
		for range 2 {
			for _, id := range family {
				next(id, fmt.Sprintf("card:family-%d", hh))
			}
			h.Clock.Advance(time.Minute)
		}
	}
	for range 5 {
		_, _, id := h.Login(apptest.UniqueUser("slow"))
		next(id, "card:slow")
		h.Clock.Advance(25 * time.Hour)
	}
	if flags := riskFlags(t, h); len(flags) != 0 {
		t.Fatalf("ordinary payments raised %d flags: %+v", len(flags), flags)
	}
}
