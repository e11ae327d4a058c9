package console_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/risk"
)

// patternPolicy is the default policy at version with one pattern rule
// left on, holding.
func patternPolicy(version int, name string, edit func(r *risk.Rule)) map[string]any {
	p := risk.DefaultPolicy()
	for i := range p.Rules {
		p.Rules[i].Enabled = p.Rules[i].Name == name
		if p.Rules[i].Name == name {
			p.Rules[i].Hold = true
			if edit != nil {
				edit(&p.Rules[i])
			}
		}
	}
	return map[string]any{"version": version, "rules": p.Rules}
}

type flagJSON struct {
	ID       int64          `json:"id"`
	MemberID int64          `json:"member_id"`
	Rule     string         `json:"rule"`
	Key      string         `json:"key"`
	Count    int64          `json:"count"`
	Held     bool           `json:"held"`
	Evidence map[string]any `json:"evidence"`
}

func openFlags(t *testing.T, h *apptest.Harness, auth []string) []flagJSON {
	t.Helper()
	var out struct {
		Flags []flagJSON `json:"flags"`
	}
	r := h.Do("GET", "/api/v1/console/risk/flags?status=open", nil, auth...)
	r.Decode(t, &out)
	if r.Status != 200 {
		t.Fatalf("queue: %d %s", r.Status, r.Body)
	}
	return out.Flags
}

// Points laundering through the mall and through paid draws: a member
// earning 500 and redeeming a 400-point item two minutes later, three
// times an hour apart, is flagged and held on the third redemption; the
// fourth answers 403 ACCOUNT_HELD and moves no points; earning goes on.
// Another member doing the same through a paid lottery is flagged too; a
// third member redeeming as often but an hour after earning is not.
func TestRiskLaunderingOverHTTP(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) { c.Orders.WebhookSecret = "test-webhook-secret-0123456789" })
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	auditor := apptest.Auth(h.ConsoleLogin("auditor"))
	if r := h.Do("PUT", "/api/v1/console/risk/policy", patternPolicy(1, "points_laundering", nil), marketer...); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
	item := createItem(t, h, marketer, `{"kind":"virtual","name":"券","category":"c","points":400,"stock":100,"enabled":true}`)
	paid := createCampaignID(t, h, marketer, 150)
	userA, userB, userC := apptest.UniqueUser("launderA"), apptest.UniqueUser("launderB"), apptest.UniqueUser("launderC")
	tokA, _, a := h.Login(userA)
	tokB, _, b := h.Login(userB)
	tokC, _, c := h.Login(userC)
	ctx := context.Background()
	earn := func(m int64, key string) {
		t.Helper()
		if _, err := h.App.Ledger.Earn(ctx, ledger.EarnInput{MemberID: m, Points: 500, Key: key, Ref: ledger.Ref{Type: "order", ID: key}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		tokA, _, _ = h.Login(userA) // an hour on: tokens of the hour before expired
		tokB, _, _ = h.Login(userB)
		earn(a, fmt.Sprintf("a-%d", i))
		earn(b, fmt.Sprintf("b-%d", i))
		earn(c, fmt.Sprintf("c-%d", i))
		h.Clock.Advance(2 * time.Minute)
		if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil,
			append(apptest.Auth(tokA), "Idempotency-Key", fmt.Sprintf("ma-%d", i))...); r.Status != 201 {
			t.Fatalf("redemption %d: %d %s", i, r.Status, r.Body)
		}
		if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", paid), nil,
			append(apptest.Auth(tokB), "Idempotency-Key", fmt.Sprintf("db-%d", i))...); r.Status != 201 {
			t.Fatalf("draw %d: %d %s", i, r.Status, r.Body)
		}
		h.Clock.Advance(time.Hour)
		tokC, _, _ = h.Login(userC)
		if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil,
			append(apptest.Auth(tokC), "Idempotency-Key", fmt.Sprintf("mc-%d", i))...); r.Status != 201 {
			t.Fatalf("slow redemption %d: %d %s", i, r.Status, r.Body)
		}
	}
	tokA, _, _ = h.Login(userA)
	marketer, auditor = apptest.Auth(h.ConsoleLogin("marketer")), apptest.Auth(h.ConsoleLogin("auditor"))
	flags := openFlags(t, h, auditor)
	got := map[int64]flagJSON{}
	for _, f := range flags {
		got[f.MemberID] = f
	}
	if len(flags) != 2 || got[a].Count != 3 || got[b].Count != 3 || !got[a].Held || got[a].Key != fmt.Sprintf("member %d", a) {
		t.Fatalf("flags %+v, want one each on A and B", flags)
	}
	if cycles, _ := got[a].Evidence["cycles"].([]any); len(cycles) != 3 {
		t.Fatalf("evidence %+v", got[a].Evidence)
	}
	before, err := h.App.Ledger.Balance(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	earn(a, "a-3")
	h.Clock.Advance(time.Minute)
	r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil, append(apptest.Auth(tokA), "Idempotency-Key", "ma-3")...)
	if r.Status != http.StatusForbidden || r.ErrorCode() != "ACCOUNT_HELD" {
		t.Fatalf("held member's redemption: %d %s", r.Status, r.Body)
	}
	after, err := h.App.Ledger.Balance(ctx, a)
	if err != nil || after.Available != before.Available+500 {
		t.Fatalf("balance %+v → %+v (%v): the earning counts, the refused spend does not", before, after, err)
	}
	// A reviewer confirms: the hold stays, and the decision is audited.
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/risk/flags/%d/decision", got[a].ID), `{"decision":"confirm","note":"套现"}`, marketer...); r.Status != 200 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil, append(apptest.Auth(tokA), "Idempotency-Key", "ma-4")...); r.ErrorCode() != "ACCOUNT_HELD" {
		t.Fatalf("confirmed member's redemption: %d %s", r.Status, r.Body)
	}
	au := h.Do("GET", fmt.Sprintf("/api/v1/console/audit?target=member:%d", a), nil, auditor...)
	var trail struct {
		Entries []struct{ Actor, Action string } `json:"entries"`
	}
	au.Decode(t, &trail)
	if len(trail.Entries) != 2 || trail.Entries[0].Action != "risk.flag.confirm" || trail.Entries[1].Action != "risk.hold.place" || trail.Entries[1].Actor != "risk" {
		t.Fatalf("audit %+v", trail.Entries)
	}
}

// An account farm binding four sequential numbers through the phone route:
// the fourth bind flags and holds all four, each visible on its member's
// risk page with the sequence as evidence; a held member still signs in
// but cannot spend; clearing a member's only flag lifts the hold. A fifth
// member on a number 50 away is not flagged.
func TestRiskPhoneFarmOverHTTP(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) { c.Orders.WebhookSecret = "test-webhook-secret-0123456789" })
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	auditor := apptest.Auth(h.ConsoleLogin("auditor"))
	if r := h.Do("PUT", "/api/v1/console/risk/policy", patternPolicy(1, "phone_sequence", nil), marketer...); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
	var ids []int64
	var toks []string
	for i, phone := range []string{"13712340001", "13712340003", "13712340002", "13712340060", "13712340004"} {
		tok, _, id := h.Login(apptest.UniqueUser(fmt.Sprintf("farm%d", i)))
		ids, toks = append(ids, id), append(toks, tok)
		if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": h.PhoneCode(phone)}, apptest.Auth(tok)...); r.Status != 200 {
			t.Fatalf("bind %s: %d %s", phone, r.Status, r.Body)
		}
		h.Clock.Advance(time.Minute)
	}
	flags := openFlags(t, h, auditor)
	if len(flags) != 4 {
		t.Fatalf("%d flags, want 4: %+v", len(flags), flags)
	}
	flagged := map[int64]flagJSON{}
	for _, f := range flags {
		flagged[f.MemberID] = f
		if f.Rule != "phone_sequence" || f.Count != 4 || !f.Held {
			t.Fatalf("flag %+v", f)
		}
	}
	if _, ok := flagged[ids[3]]; ok || len(flagged) != 4 {
		t.Fatalf("flagged %v: want members 0, 1, 2 and 4 of %v", flagged, ids)
	}
	mr := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/risk", ids[0]), nil, auditor...)
	var page struct {
		Hold  map[string]any `json:"hold"`
		Flags []flagJSON     `json:"flags"`
	}
	mr.Decode(t, &page)
	if page.Hold == nil || len(page.Flags) != 1 || page.Flags[0].Key != "13712340001" {
		t.Fatalf("member page: %s", mr.Body)
	}
	if phones, _ := page.Flags[0].Evidence["phones"].([]any); len(phones) != 4 {
		t.Fatalf("evidence %+v", page.Flags[0].Evidence)
	}
	if r := signedHold(h, ids[0], "farm-c1"); r.ErrorCode() != "ACCOUNT_HELD" {
		t.Fatalf("held member's checkout: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(toks[0])...); r.Status != 201 {
		t.Fatalf("held member's sign-in: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/risk/flags/%d/decision", page.Flags[0].ID), `{"decision":"clear","note":"号段巧合"}`, marketer...); r.Status != 200 {
		t.Fatalf("clear: %d %s", r.Status, r.Body)
	}
	if r := signedHold(h, ids[0], "farm-c2"); r.ErrorCode() == "ACCOUNT_HELD" {
		t.Fatalf("cleared member still held: %d %s", r.Status, r.Body)
	}
	if r := signedHold(h, ids[1], "farm-c3"); r.ErrorCode() != "ACCOUNT_HELD" {
		t.Fatalf("the others stay held: %d %s", r.Status, r.Body)
	}
}

// Referral rewards to a member who never orders, through the login and
// phone routes: with min_rewards 2, the second invitee binding a phone
// (each pays the inviter) flags and holds the inviter.
func TestRiskReferralNoOrderOverHTTP(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) { c.Orders.WebhookSecret = "test-webhook-secret-0123456789" })
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	auditor := apptest.Auth(h.ConsoleLogin("auditor"))
	if r := h.Do("PUT", "/api/v1/console/risk/policy", patternPolicy(1, "referral_no_order", func(r *risk.Rule) { r.MinRewards = 2 }), marketer...); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
	tok, _, inviter := h.Login(apptest.UniqueUser("collector"))
	ref := h.Do("GET", "/api/v1/shopper/referral", nil, apptest.Auth(tok)...)
	code, _ := ref.JSON()["code"].(string)
	if ref.Status != 200 || code == "" {
		t.Fatalf("referral: %d %s", ref.Status, ref.Body)
	}
	for i, phone := range []string{"15011112222", "15633334444"} {
		r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(apptest.UniqueUser(fmt.Sprintf("fake%d", i))), "invite_code": code})
		if r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		access, _ := r.JSON()["access_token"].(string)
		if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": h.PhoneCode(phone)}, apptest.Auth(access)...); r.Status != 200 {
			t.Fatalf("bind: %d %s", r.Status, r.Body)
		}
		if n := len(openFlags(t, h, auditor)); n != i {
			t.Fatalf("after %d rewards: %d flags", i+1, n)
		}
	}
	flags := openFlags(t, h, auditor)
	if len(flags) != 1 || flags[0].MemberID != inviter || flags[0].Count != 2 || !flags[0].Held || flags[0].Evidence["rewards"] != 2.0 {
		t.Fatalf("flags %+v", flags)
	}
	if r := signedHold(h, inviter, "collector-c1"); r.ErrorCode() != "ACCOUNT_HELD" {
		t.Fatalf("collector's checkout: %d %s", r.Status, r.Body)
	}
}

// A rule configured in risk.rules is the policy in force until a marketer
// saves one: here points_laundering at 2 cycles, holding, flags on the
// second quick redemption.
func TestRiskConfiguredRule(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) {
		c.Risk.Rules = []configs.RiskRule{{Name: "points_laundering", Kind: "points_laundering", Action: "spend", Dimension: "member",
			Enabled: true, Hold: true, MaxMinutes: 5, MinTimes: 2, MinPoints: 100, WindowHours: 24}}
	})
	auditor := apptest.Auth(h.ConsoleLogin("auditor"))
	p := h.Do("GET", "/api/v1/console/risk/policy", nil, auditor...)
	var pol struct {
		Policy struct {
			Version int         `json:"version"`
			Rules   []risk.Rule `json:"rules"`
		} `json:"policy"`
	}
	p.Decode(t, &pol)
	var got *risk.Rule
	for i, r := range pol.Policy.Rules {
		if r.Name == "points_laundering" {
			got = &pol.Policy.Rules[i]
		}
	}
	if pol.Policy.Version != 1 || len(pol.Policy.Rules) != len(risk.DefaultPolicy().Rules) || got == nil || got.MinTimes != 2 || !got.Hold || got.MaxMinutes != 5 {
		t.Fatalf("policy: %s", p.Body)
	}
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	item := createItem(t, h, marketer, `{"kind":"virtual","name":"券","category":"c","points":400,"stock":100,"enabled":true}`)
	tok, _, m := h.Login(apptest.UniqueUser("cfg"))
	for i := range 2 {
		if _, err := h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: m, Points: 500, Key: fmt.Sprintf("cfg-%d", i),
			Ref: ledger.Ref{Type: "order", ID: fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
		h.Clock.Advance(time.Minute)
		if r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil, append(apptest.Auth(tok), "Idempotency-Key", fmt.Sprintf("cfg-%d", i))...); r.Status != 201 {
			t.Fatalf("redemption %d: %d %s", i, r.Status, r.Body)
		}
	}
	if flags := openFlags(t, h, auditor); len(flags) != 1 || flags[0].MemberID != m || flags[0].Count != 2 || !flags[0].Held {
		t.Fatalf("flags %+v", flags)
	}
}
