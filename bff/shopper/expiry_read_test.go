package shopper_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

// Points past their expiry instant are gone from every view at that
// instant, before the nightly expiry job runs: the shopper's balance (even
// a /me answer cached before), the console's member page and lots, the
// history (which shows the expiry), and the balance a sign-in answers.
func TestExpiredPointsLeaveEveryViewAtTheirInstant(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) { c.Console.ExpiryPolicy = "days:1" })
	admin := h.ConsoleLogin("admin")
	user := apptest.UniqueUser("expread")
	tok, _, id := h.Login(user)
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), `{"delta":300,"reason":"补偿"}`,
		append(apptest.Auth(admin), "Idempotency-Key", "expread-1")...); r.Status != 201 {
		t.Fatalf("adjust: %d %s", r.Status, r.Body)
	}
	var me struct {
		Points struct {
			Available int64 `json:"available"`
			Expiring  []struct {
				Amount    int64     `json:"amount"`
				ExpiresAt time.Time `json:"expires_at"`
			} `json:"expiring"`
		} `json:"points"`
	}
	getMe := func() {
		t.Helper()
		r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
		if r.Status != 200 {
			t.Fatalf("me: %d %s", r.Status, r.Body)
		}
		me.Points.Expiring = nil
		r.Decode(t, &me)
	}
	getMe()
	getMe() // the second answer may come from the cache
	if me.Points.Available != 300 || len(me.Points.Expiring) != 1 || me.Points.Expiring[0].Amount != 300 {
		t.Fatalf("before: %+v", me.Points)
	}
	expiresAt := me.Points.Expiring[0].ExpiresAt

	h.Clock.Set(expiresAt.Add(-time.Second))
	tok, _, _ = h.Login(user) // the access token of the day before has expired
	if getMe(); me.Points.Available != 300 {
		t.Fatalf("a second before the expiry: %+v", me.Points)
	}
	getMe() // cached again, a second before the points expire
	h.Clock.Set(expiresAt.Add(5 * time.Second))
	if getMe(); me.Points.Available != 0 || len(me.Points.Expiring) != 0 {
		t.Fatalf("after the expiry instant, /me: %+v", me.Points)
	}

	admin = h.ConsoleLogin("admin")
	r := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d", id), nil, apptest.Auth(admin)...)
	var page struct {
		Account struct {
			Available int64 `json:"available"`
		} `json:"account"`
		Lots []struct {
			Remaining int64 `json:"remaining"`
		} `json:"lots"`
	}
	if r.Decode(t, &page); r.Status != 200 || page.Account.Available != 0 || len(page.Lots) != 0 {
		t.Fatalf("console member page: %d %s", r.Status, r.Body)
	}
	var hist struct {
		Entries []struct {
			Kind         string `json:"kind"`
			Delta        int64  `json:"delta"`
			BalanceAfter int64  `json:"balance_after"`
		} `json:"entries"`
	}
	r = h.Do("GET", "/api/v1/shopper/points/entries", nil, apptest.Auth(tok)...)
	if r.Decode(t, &hist); r.Status != 200 || len(hist.Entries) != 2 || hist.Entries[0].Kind != "expire" ||
		hist.Entries[0].Delta != -300 || hist.Entries[0].BalanceAfter != 0 {
		t.Fatalf("history: %d %s", r.Status, r.Body)
	}
	r = h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)...)
	if r.Status != 201 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	var si signinResp
	if r.Decode(t, &si); si.total() == 0 || si.Balance != si.total() {
		t.Fatalf("sign-in answered balance %d after earning %d: %s", si.Balance, si.total(), r.Body)
	}
}

// The balance a sign-in or a task claim answers leaves out points past
// their expiry instant and counts pending points come due, as /me does,
// when the earn is the first thing to touch the account since then. The
// earn reads no lots, so its entry's balance_after still counted the
// expired points: the shopper was told 310 points right after midnight
// and /me said 10.
func TestEarnAnswersLeaveOutPointsExpiredBeforeAnyRead(t *testing.T) {
	t.Parallel()
	for _, committers := range []int{1, 0} { // sign-ins in groups, and one by one
		t.Run(fmt.Sprintf("signin_group_commits=%d", committers), func(t *testing.T) {
			t.Parallel()
			earnAnswersLeaveOutExpired(t, committers)
		})
	}
}

func earnAnswersLeaveOutExpired(t *testing.T, committers int) {
	h := apptest.New(t, func(c *configs.Config) {
		c.Console.ExpiryPolicy = "days:1"
		c.Engage.Signin.GroupCommits = committers
	})
	admin := h.ConsoleLogin("admin")
	task := createTask(t, h, `{"type":"share","title":"分享","period":"daily","target":1,"reward_points":15}`)
	user := apptest.UniqueUser("expearn")
	tok, _, id := h.Login(user)
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), `{"delta":300,"reason":"补偿"}`,
		append(apptest.Auth(admin), "Idempotency-Key", "expearn-1")...); r.Status != 201 {
		t.Fatalf("adjust: %d %s", r.Status, r.Body)
	}
	// Past the expiry instant of the 300 points; nothing reads them.
	h.Clock.Set(h.Clock.Now().Add(72 * time.Hour))
	tok, _, _ = h.Login(user)
	r := h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)...)
	if r.Status != 201 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	var si signinResp
	if r.Decode(t, &si); si.total() == 0 || si.Balance != si.total() {
		t.Fatalf("sign-in answered balance %d after earning %d with the 300 points expired: %s", si.Balance, si.total(), r.Body)
	}
	if r := h.Do("POST", "/api/v1/shopper/events/share", map[string]any{"page": "/pages/home"}, apptest.Auth(tok)...); r.Status != 200 {
		t.Fatalf("share: %d %s", r.Status, r.Body)
	}
	// Another 300 expire before the claim, unread again.
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), `{"delta":300,"reason":"补偿"}`,
		append(apptest.Auth(h.ConsoleLogin("admin")), "Idempotency-Key", "expearn-2")...); r.Status != 201 {
		t.Fatalf("adjust: %d %s", r.Status, r.Body)
	}
	h.Clock.Set(h.Clock.Now().Add(72 * time.Hour))
	tok, _, _ = h.Login(user)
	if r := h.Do("POST", "/api/v1/shopper/events/share", map[string]any{"page": "/pages/home"}, apptest.Auth(tok)...); r.Status != 200 {
		t.Fatalf("share: %d %s", r.Status, r.Body)
	}
	r = h.Do("POST", fmt.Sprintf("/api/v1/shopper/tasks/%d/claim", task), nil, append(apptest.Auth(tok), "Idempotency-Key", "expearn-claim")...)
	if r.Status != 201 {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
	var claim struct {
		Balance int64 `json:"balance"`
		Points  int64 `json:"points"`
	}
	if r.Decode(t, &claim); claim.Balance != si.total()+claim.Points {
		t.Fatalf("claim answered balance %d, want %d: %s", claim.Balance, si.total()+claim.Points, r.Body)
	}
	r = h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
	if got := int64(r.JSON()["points"].(map[string]any)["available"].(float64)); got != claim.Balance {
		t.Fatalf("/me says %d, the claim said %d", got, claim.Balance)
	}
}
