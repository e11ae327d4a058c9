package shopper_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/orders"
)

// refMember is one logged-in shopper of a referral scenario.
type refMember struct {
	user  string
	token string
	id    int64
	code  string
}

var phoneSeq atomic.Int64

func nextPhone() string {
	return fmt.Sprintf("139%08d", time.Now().UnixNano()%1e6*100+phoneSeq.Add(1)%100)
}

func refJoin(t *testing.T, h *apptest.Harness, user, invite string) refMember {
	t.Helper()
	body := map[string]string{"code": h.Code(user)}
	if invite != "" {
		body["invite_code"] = invite
	}
	r := h.Do("POST", "/api/v1/shopper/login", body)
	if r.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", user, r.Status, r.Body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		Member      struct {
			ID int64 `json:"id"`
		} `json:"member"`
	}
	r.Decode(t, &out)
	m := refMember{user: user, token: out.AccessToken, id: out.Member.ID}
	m.code = refOverview(t, h, m).Code
	return m
}

type overview struct {
	Code    string `json:"code"`
	Invited struct {
		Level1 int64 `json:"level1"`
		Level2 int64 `json:"level2"`
	} `json:"invited"`
	RewardsEarned int64  `json:"rewards_earned"`
	Rules         string `json:"rules"`
}

func refOverview(t *testing.T, h *apptest.Harness, m refMember) overview {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/referral", nil, apptest.Auth(m.token)...)
	if r.Status != http.StatusOK {
		t.Fatalf("referral: %d %s", r.Status, r.Body)
	}
	var o overview
	r.Decode(t, &o)
	return o
}

func refPoints(t *testing.T, h *apptest.Harness, m refMember) int64 {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(m.token)...)
	if r.Status != http.StatusOK {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON()["points"].(map[string]any)["available"].(float64))
}

func bindPhone(t *testing.T, h *apptest.Harness, m refMember, phone string) {
	t.Helper()
	if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": h.PhoneCode(phone)}, apptest.Auth(m.token)...); r.Status != http.StatusOK {
		t.Fatalf("phone: %d %s", r.Status, r.Body)
	}
}

func bind(h *apptest.Harness, m refMember, code string) *apptest.Response {
	return h.Do("POST", "/api/v1/shopper/referral/bind", map[string]string{"code": code}, apptest.Auth(m.token)...)
}

func TestReferralBindingRules(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	a := refJoin(t, h, apptest.UniqueUser("ra"), "")
	b := refJoin(t, h, apptest.UniqueUser("rb"), "")
	c := refJoin(t, h, apptest.UniqueUser("rc"), "")
	if len(a.code) != 6 || a.code == b.code {
		t.Fatalf("codes %q %q", a.code, b.code)
	}
	if again := refOverview(t, h, a).Code; again != a.code {
		t.Fatalf("code changed: %s then %s", a.code, again)
	}
	cases := []struct {
		name   string
		who    refMember
		code   string
		status int
		err    string
	}{
		{"malformed", b, "abc", 400, "INVALID"},
		{"ambiguous characters", b, "IO0L1A", 400, "INVALID"},
		{"unknown", b, unknownCode(a, b, c), 404, "NOT_FOUND"},
		{"self", b, b.code, 422, "RULE_VIOLATION"},
		{"b to a", b, a.code, 201, ""},
		{"second binding", b, c.code, 409, "CONFLICT"},
		{"c to b", c, b.code, 201, ""},
		{"cycle a→c (c→b→a)", a, c.code, 422, "RULE_VIOLATION"},
		{"cycle a→b", a, b.code, 422, "RULE_VIOLATION"},
	}
	for _, tc := range cases {
		r := bind(h, tc.who, tc.code)
		if r.Status != tc.status || (tc.err != "" && r.ErrorCode() != tc.err) {
			t.Fatalf("%s: %d %s, want %d %s", tc.name, r.Status, r.Body, tc.status, tc.err)
		}
	}
	oa := refOverview(t, h, a)
	if oa.Invited.Level1 != 1 || oa.Invited.Level2 != 1 || oa.Rules == "" {
		t.Fatalf("a's overview: %+v", oa)
	}
	// Lower-case input binds too (scanned codes get normalised).
	d := refJoin(t, h, apptest.UniqueUser("rd"), "")
	if r := bind(h, d, " "+toLower(a.code)+" "); r.Status != 201 {
		t.Fatalf("lower-case: %d %s", r.Status, r.Body)
	}
}

// unknownCode is a well-formed code none of the members has.
func unknownCode(ms ...refMember) string {
	for _, c := range []string{"ZZZZZZ", "YYYYYY"} {
		taken := false
		for _, m := range ms {
			taken = taken || m.code == c
		}
		if !taken {
			return c
		}
	}
	return "WWWWWW"
}

func toLower(s string) string {
	out := []byte(s)
	for i, ch := range out {
		if ch >= 'A' && ch <= 'Z' {
			out[i] = ch + 32
		}
	}
	return string(out)
}

func TestReferralLateBindingAndLoginCode(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	a := refJoin(t, h, apptest.UniqueUser("la"), "")
	// A bad invite code at login does not fail the login.
	bad := refJoin(t, h, apptest.UniqueUser("lbad"), "nope!")
	if o := refOverview(t, h, bad); o.Code == "" {
		t.Fatal("member logged in with a bad invite code has no code")
	}
	// A good one binds.
	refJoin(t, h, apptest.UniqueUser("lgood"), a.code)
	if o := refOverview(t, h, a); o.Invited.Level1 != 1 {
		t.Fatalf("login binding: %+v", o)
	}
	late := refJoin(t, h, apptest.UniqueUser("llate"), "")
	h.Clock.Advance(72*time.Hour + time.Minute)
	late = refJoin(t, h, late.user, "") // a fresh token; the member is not new
	a = refJoin(t, h, a.user, "")
	if r := bind(h, late, a.code); r.Status != 422 || r.ErrorCode() != "RULE_VIOLATION" {
		t.Fatalf("late: %d %s", r.Status, r.Body)
	}
	if o := refOverview(t, h, a); o.Invited.Level1 != 1 {
		t.Fatalf("late binding counted: %+v", o)
	}
}

func TestReferralRewardsTwoLevelsAndIdempotent(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	a := refJoin(t, h, apptest.UniqueUser("wa"), "")
	b := refJoin(t, h, apptest.UniqueUser("wb"), a.code)
	c := refJoin(t, h, apptest.UniqueUser("wc"), b.code)
	bindPhone(t, h, c, nextPhone())
	if got := refPoints(t, h, b); got != 100 {
		t.Fatalf("inviter after phone: %d, want 100", got)
	}
	if got := refPoints(t, h, a); got != 20 {
		t.Fatalf("second level after phone: %d, want 20", got)
	}
	ctx := context.Background()
	for i := 0; i < 2; i++ { // the orders feature may call twice; it pays once
		if err := h.App.Referral.OnFirstPaidOrder(ctx, orders.FirstPaid{MemberID: c.id, OrderID: "O-1"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := refPoints(t, h, b); got != 400 {
		t.Fatalf("inviter after order: %d, want 400", got)
	}
	if got := refPoints(t, h, a); got != 80 {
		t.Fatalf("second level after order: %d, want 80", got)
	}
	// Calling the phone hook again pays nothing more.
	m, err := h.App.Members.Get(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Env.DB.InTx(ctx, func(ctx context.Context) error { return h.App.Referral.OnPhoneBound(ctx, m) }); err != nil {
		t.Fatal(err)
	}
	if got := refPoints(t, h, b); got != 400 {
		t.Fatalf("inviter after repeated hook: %d, want 400", got)
	}
	if o := refOverview(t, h, b); o.RewardsEarned != 400 {
		t.Fatalf("b rewards_earned %d", o.RewardsEarned)
	}
	// An uninvited member's first order is no one's reward.
	if err := h.App.Referral.OnFirstPaidOrder(ctx, orders.FirstPaid{MemberID: a.id, OrderID: "O-2"}); err != nil {
		t.Fatal(err)
	}
}

func TestReferralDailyCap(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) { c.Referral.DailyCapPoints = 250 })
	a := refJoin(t, h, apptest.UniqueUser("ca"), "")
	var invitees []refMember
	for i := 0; i < 3; i++ {
		invitees = append(invitees, refJoin(t, h, apptest.UniqueUser(fmt.Sprint("ci", i)), a.code))
	}
	for _, m := range invitees {
		bindPhone(t, h, m, nextPhone())
	}
	if got := refPoints(t, h, a); got != 200 {
		t.Fatalf("capped day: %d, want 200 (third reward over the 250 cap)", got)
	}
	// Next Shanghai day the cap starts again.
	h.Clock.Advance(24 * time.Hour)
	a = refJoin(t, h, a.user, "")
	late := refJoin(t, h, apptest.UniqueUser("cnext"), a.code)
	bindPhone(t, h, late, nextPhone())
	if got := refPoints(t, h, a); got != 300 {
		t.Fatalf("next day: %d, want 300", got)
	}
}

func TestReferralSamePersonFlagged(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	a := refJoin(t, h, apptest.UniqueUser("fa"), "")
	person := apptest.UniqueUser("fp")
	// The same WeChat user (unionid) under a second account invites itself.
	first := refJoin(t, h, "one~"+person, a.code)
	second := refJoin(t, h, "two~"+person, first.code)
	bindPhone(t, h, first, nextPhone()) // a genuine invitee of a: a earns 100
	bindPhone(t, h, second, nextPhone())
	if got := refPoints(t, h, first); got != 0 {
		t.Fatalf("same unionid was rewarded: %d", got)
	}
	// A phone another member had before (released by support, say) is flagged.
	phone := nextPhone()
	old := refJoin(t, h, apptest.UniqueUser("fold"), "")
	bindPhone(t, h, old, phone)
	if err := h.Env.DB.Conn(context.Background()).Exec("UPDATE members SET phone = NULL WHERE id = ?", old.id).Error; err != nil {
		t.Fatal(err)
	}
	again := refJoin(t, h, apptest.UniqueUser("fnew"), a.code)
	bindPhone(t, h, again, phone)
	if got := refPoints(t, h, a); got != 100 {
		t.Fatalf("a: %d, want 100 (from first only; the reused phone is flagged)", got)
	}
	admin := h.ConsoleLogin("admin")
	r := h.Do("GET", "/api/v1/console/referrals/report", nil, apptest.Auth(admin)...)
	if r.Status != 200 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	var rep struct {
		Top []struct {
			MemberID int64 `json:"member_id"`
			Invites  int64 `json:"invites"`
		} `json:"top_inviters"`
		Flagged []struct {
			InviteeID int64  `json:"invitee_id"`
			Note      string `json:"note"`
		} `json:"flagged"`
	}
	r.Decode(t, &rep)
	if len(rep.Flagged) != 2 || len(rep.Top) == 0 || rep.Top[0].MemberID != a.id || rep.Top[0].Invites != 2 {
		t.Fatalf("report: %s", r.Body)
	}
	flagged := map[int64]bool{}
	for _, f := range rep.Flagged {
		flagged[f.InviteeID] = true
	}
	if !flagged[second.id] || !flagged[again.id] {
		t.Fatalf("flagged: %s", r.Body)
	}
	if r := h.DoInvalid("GET", "/api/v1/console/referrals/report?limit=0", nil, apptest.Auth(admin)...); r.Status != 400 {
		t.Fatalf("limit=0: %d", r.Status)
	}
}

func TestReferralInvitesBoardRebuilds(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	a := refJoin(t, h, apptest.UniqueUser("ba"), "")
	b := refJoin(t, h, apptest.UniqueUser("bb"), "")
	board := func() string {
		r := h.Do("GET", "/api/v1/shopper/leaderboards/invites", nil, apptest.Auth(a.token)...)
		if r.Status != 200 {
			t.Fatalf("board: %d %s", r.Status, r.Body)
		}
		return string(r.Body)
	}
	refJoin(t, h, apptest.UniqueUser("b1"), a.code)
	board() // built now; later bindings bump it
	refJoin(t, h, apptest.UniqueUser("b2"), a.code)
	x := refJoin(t, h, apptest.UniqueUser("b3"), "")
	if r := bind(h, x, b.code); r.Status != 201 {
		t.Fatalf("bind: %d", r.Status)
	}
	before := board()
	var v struct {
		Top []struct {
			Score int64 `json:"score"`
		} `json:"top"`
		Me struct {
			Score int64 `json:"score"`
		} `json:"me"`
	}
	if err := jsonUnmarshal(before, &v); err != nil || len(v.Top) != 2 || v.Me.Score != 2 || v.Top[1].Score != 1 {
		t.Fatalf("board before: %s", before)
	}
	if err := h.Env.Redis.DeleteAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := board(); after != before {
		t.Fatalf("after losing Redis:\n%s\nbefore:\n%s", after, before)
	}
}

func TestReferralBadInput(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	m := refJoin(t, h, apptest.UniqueUser("bi"), "")
	cases := []struct {
		name, method, path string
		body               any
		auth               []string
		status             int
	}{
		{"malformed", "POST", "/api/v1/shopper/referral/bind", `{"code":`, apptest.Auth(m.token), 400},
		{"wrong type", "POST", "/api/v1/shopper/referral/bind", `{"code":123}`, apptest.Auth(m.token), 400},
		{"unknown field", "POST", "/api/v1/shopper/referral/bind", `{"code":"AAAAAA","x":1}`, apptest.Auth(m.token), 400},
		{"empty", "POST", "/api/v1/shopper/referral/bind", ``, apptest.Auth(m.token), 400},
		{"oversized", "POST", "/api/v1/shopper/referral/bind", `{"code":"` + string(make([]byte, 2<<20)) + `"}`, apptest.Auth(m.token), 413},
		{"no auth", "POST", "/api/v1/shopper/referral/bind", `{"code":"AAAAAA"}`, nil, 401},
		{"forged", "GET", "/api/v1/shopper/referral", nil, apptest.Auth(m.token + "x"), 401},
		{"qr no auth", "GET", "/api/v1/shopper/referral/qrcode", nil, nil, 401},
		{"shopper on console", "GET", "/api/v1/console/referrals/report", nil, apptest.Auth(m.token), 401},
	}
	for _, tc := range cases {
		r := h.Send(tc.status != 400 && tc.status != 413, tc.method, tc.path, tc.body, tc.auth...)
		if r.Status != tc.status || r.ErrorCode() == "" {
			t.Fatalf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
		}
	}
	if o := refOverview(t, h, m); o.Invited.Level1 != 0 {
		t.Fatalf("changed: %+v", o)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// Bindings made at the same moment cannot close a loop between them: two
// members binding to each other, and four binding round a square, leave at
// most one and three bindings (each bind locks the members it walks).
func TestReferralConcurrentBindsCloseNoLoop(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	for round := 0; round < 12; round++ {
		size := 2 + 2*(round%2) // pairs and squares in turn
		ms := make([]refMember, size)
		for i := range ms {
			ms[i] = refJoin(t, h, apptest.UniqueUser(fmt.Sprintf("loop%d-%d", round, i)), "")
		}
		start := make(chan struct{})
		statuses := make(chan int, size)
		for i := range ms {
			go func(i int) {
				<-start
				statuses <- bind(h, ms[i], ms[(i+1)%size].code).Status
			}(i)
		}
		close(start)
		bound := 0
		for range ms {
			switch st := <-statuses; st {
			case http.StatusCreated:
				bound++
			case http.StatusUnprocessableEntity:
			default:
				t.Fatalf("round %d: bind answered %d", round, st)
			}
		}
		if bound != size-1 {
			t.Fatalf("round %d: %d of %d binds round a loop of %d passed, want %d", round, bound, size, size, size-1)
		}
	}
}
