package shopper_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/adjustment"
	"github.com/jifen/jifen/domain/orders"
)

func payOrder(t *testing.T, h *apptest.Harness, member int64, id string, fen int64) orders.Outcome {
	t.Helper()
	out, err := h.App.Orders.Handle(t.Context(), orders.Event{EventID: "ev-" + id, Type: orders.Paid, OrderID: id,
		Member: orders.MemberRef{MemberID: member}, OccurredAt: h.Clock.Now(), TotalFen: fen,
		Lines: []orders.Line{{SKU: "S", Qty: 1, AmountFen: fen}}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type tierJSON struct {
	Level struct {
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"level"`
	Growth        int64 `json:"growth"`
	NextThreshold int64 `json:"next_threshold"`
	Progress      int64 `json:"progress_permille"`
	Next          *struct {
		Code string `json:"code"`
	} `json:"next"`
	Benefits []string `json:"benefits"`
}

func getTier(t *testing.T, h *apptest.Harness, tok string) tierJSON {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/tier", nil, apptest.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("tier: %d %s", r.Status, r.Body)
	}
	var out tierJSON
	r.Decode(t, &out)
	return out
}

func TestTierGrowsWithOrdersAndCanBeBoughtOnce(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	tok, _, id := h.Login(apptest.UniqueUser("tier"))
	if tr := getTier(t, h, tok); tr.Level.Code != "normal" || tr.NextThreshold != 1000 || tr.Progress != 0 || tr.Next.Code != "silver" {
		t.Fatalf("new member %+v", tr)
	}
	payOrder(t, h, id, "T1", 50000) // 500 元
	if tr := getTier(t, h, tok); tr.Growth != 500 || tr.Progress != 500 || tr.Level.Code != "normal" {
		t.Fatalf("after 500 元 %+v", tr)
	}
	payOrder(t, h, id, "T2", 60000) // 1,100 元 → 银卡 at once
	if tr := getTier(t, h, tok); tr.Level.Code != "silver" || tr.Level.Name != "银卡" || len(tr.Benefits) == 0 {
		t.Fatalf("after 1,100 元 %+v", tr)
	}
	me := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
	if me.JSON()["tier"].(map[string]any)["code"] != "silver" {
		t.Fatalf("me: %s", me.Body)
	}
	// A refund takes growth below the threshold: no downgrade before the yearly review.
	if _, err := h.App.Orders.Handle(t.Context(), orders.Event{EventID: "rf-T2", Type: orders.Refunded, OrderID: "T2", OccurredAt: h.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if tr := getTier(t, h, tok); tr.Level.Code != "silver" || tr.Growth != 500 {
		t.Fatalf("after refund %+v", tr)
	}

	up := func(key string) *apptest.Response {
		return h.Do("POST", "/api/v1/shopper/tier/upgrade", nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
	}
	if r := up("u1"); r.Status != 422 || r.ErrorCode() != "POINTS_INSUFFICIENT" {
		t.Fatalf("upgrade without points: %d %s", r.Status, r.Body)
	}
	if r := h.DoInvalid("POST", "/api/v1/shopper/tier/upgrade", nil, apptest.Auth(tok)...); r.Status != 400 {
		t.Fatalf("upgrade without key: %d %s", r.Status, r.Body)
	}
	if _, err := h.App.Adjust.Adjust(t.Context(), adjustment.Actor{Name: "admin", Role: "admin"},
		adjustment.Request{MemberID: id, Delta: 1500, Reason: "test", Key: "seed"}); err != nil {
		t.Fatal(err)
	}
	r := up("u2")
	if r.Status != 201 || r.JSON()["purchase"].(map[string]any)["to"] != "gold" {
		t.Fatalf("upgrade: %d %s", r.Status, r.Body)
	}
	if r := up("u2"); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("upgrade replay: %d %s", r.Status, r.Body)
	}
	bal, _ := h.App.Ledger.Balance(t.Context(), id)
	if bal.Available != 500 {
		t.Fatalf("balance after one upgrade %d, want 500", bal.Available)
	}
	if r := up("u3"); r.Status != 422 { // 钻石 costs 5,000
		t.Fatalf("second upgrade: %d %s", r.Status, r.Body)
	}

	// Yearly review: a bought level is protected for 12 months, then the
	// member goes down to what growth (500 元) earns.
	h.Clock.Advance(200 * 24 * time.Hour)
	if n, err := h.App.Tiers.Review(t.Context(), h.Clock.Now(), 10); err != nil || n != 0 {
		t.Fatalf("early review moved %d: %v", n, err)
	}
	h.Clock.Advance(170 * 24 * time.Hour)
	if n, err := h.App.Tiers.Review(t.Context(), h.Clock.Now(), 10); err != nil || n != 1 {
		t.Fatalf("review after a year moved %d: %v", n, err)
	}
	tok, _, _ = h.Login(userOf(t, h, id))
	if tr := getTier(t, h, tok); tr.Level.Code != "normal" {
		t.Fatalf("after review %+v", tr)
	}
}

func userOf(t *testing.T, h *apptest.Harness, id int64) string {
	m, err := h.App.Members.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.OpenID[len("sim-openid-"):]
}

func TestTopLevelCannotBeBought(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	tok, _, id := h.Login(apptest.UniqueUser("top"))
	payOrder(t, h, id, "BIG", 2_000_000_00) // 2,000,000 元 → 钻石
	if r := h.Do("POST", "/api/v1/shopper/tier/upgrade", nil, append(apptest.Auth(tok), "Idempotency-Key", "k")...); r.Status != 422 || r.ErrorCode() != "RULE_VIOLATION" {
		t.Fatalf("top: %d %s", r.Status, r.Body)
	}
}

func TestBirthdayIsSetOnceAndPaidOncePerYear(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := h.ConsoleLogin("admin")
	if r := h.Do("POST", "/api/v1/console/rules", `{"name":"生日礼","trigger":"birthday","effect":{"kind":"fixed","points":88}}`, apptest.Auth(admin)...); r.Status != 201 {
		t.Fatalf("rule: %d %s", r.Status, r.Body)
	}
	tok, _, id := h.Login(apptest.UniqueUser("bday"))
	for name, body := range map[string]string{
		"not a date":    `{"birthday":"1990-13-01"}`,
		"future":        `{"birthday":"2030-01-01"}`,
		"wrong type":    `{"birthday":19900517}`,
		"unknown field": `{"birthday":"1990-05-17","age":36}`,
		"missing":       `{}`,
		"malformed":     `{"birthday":`,
	} {
		specAllows := name == "not a date" || name == "future"
		if r := h.Send(specAllows, "PUT", "/api/v1/shopper/profile", body, apptest.Auth(tok)...); r.Status != 400 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if r := h.Do("PUT", "/api/v1/shopper/profile", `{"birthday":"1990-11-25"}`); r.Status != 401 {
		t.Fatalf("no token: %d", r.Status)
	}
	r := h.Do("PUT", "/api/v1/shopper/profile", `{"birthday":"1990-11-25"}`, apptest.Auth(tok)...)
	if r.Status != 200 || r.JSON()["member"].(map[string]any)["birthday"] != "1990-11-25" {
		t.Fatalf("set: %d %s", r.Status, r.Body)
	}
	if r := h.Do("PUT", "/api/v1/shopper/profile", `{"birthday":"1991-01-01"}`, apptest.Auth(tok)...); r.Status != 409 {
		t.Fatalf("second set: %d %s", r.Status, r.Body)
	}
	day := domain.Day{Year: 2026, Month: 11, Day: 25}
	for i, want := range []int{1, 0} {
		n, err := h.App.Birthday.PayDay(t.Context(), day)
		if err != nil || n != want {
			t.Fatalf("run %d paid %d (%v), want %d", i, n, err, want)
		}
	}
	if n, _ := h.App.Birthday.PayDay(t.Context(), day.AddDays(1)); n != 0 {
		t.Fatalf("the next day paid %d", n)
	}
	bal, _ := h.App.Ledger.Balance(t.Context(), id)
	if bal.Available != 88 {
		t.Fatalf("balance %d, want 88", bal.Available)
	}
	if n, _ := h.App.Birthday.PayDay(t.Context(), domain.Day{Year: 2027, Month: 11, Day: 25}); n != 1 {
		t.Fatalf("next year paid %d", n)
	}
}

// The first birthday set is once even when requests race for it: one is
// stored and answered 200, every other answer is 409.
func TestBirthdaySetAtOnceStoresOne(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	for round := 0; round < 5; round++ {
		tok, _, _ := h.Login(apptest.UniqueUser("bdrace"))
		const n = 10
		start := make(chan struct{})
		type answer struct {
			status int
			day    string
		}
		answers := make(chan answer, n)
		for i := 0; i < n; i++ {
			go func(i int) {
				<-start
				day := fmt.Sprintf("1990-01-%02d", i+10)
				answers <- answer{h.Do("PUT", "/api/v1/shopper/profile", `{"birthday":"`+day+`"}`, apptest.Auth(tok)...).Status, day}
			}(i)
		}
		close(start)
		var stored []string
		for i := 0; i < n; i++ {
			a := <-answers
			switch a.status {
			case 200:
				stored = append(stored, a.day)
			case 409:
			default:
				t.Fatalf("round %d: %d", round, a.status)
			}
		}
		me := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...).JSON()["member"].(map[string]any)["birthday"]
		if len(stored) != 1 || me != stored[0] {
			t.Fatalf("round %d: %d sets answered 200 (%v), the member's birthday is %v", round, len(stored), stored, me)
		}
	}
}
