package hooks_test

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
)

func TestPaidOrderEarnsPendingPointsOnceWithBreakdown(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	admin := h.ConsoleLogin("admin")
	createRule(h, admin, baseRule)
	createRule(h, admin, weekendRule)
	// Saturday 2026-11-28: 120 元 → base 120 + weekend ×2 → 240.
	sat := time.Date(2026, 11, 28, 15, 0, 0, 0, domain.Shanghai)
	h.Clock.Set(sat.Add(time.Minute))
	tok, _, id := h.Login(apptest.UniqueUser("paid"))
	otherTok, _, _ := h.Login(apptest.UniqueUser("other"))
	ev := paid("ev-1", "O-1", byID(id), sat, 10000, 2000)
	r := post(h, ev)
	if r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	out := r.JSON()
	if out["status"] != "applied" || out["points_awarded"].(float64) != 240 {
		t.Fatalf("outcome %s", r.Body)
	}
	if b := balance(h, id); b.Pending != 240 || b.Available != 0 {
		t.Fatalf("balance after paid %+v", b)
	}

	replay := post(h, ev)
	if replay.Status != 200 || string(replay.Body) != string(r.Body) || replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", replay.Status, replay.Body)
	}
	ev2 := paid("ev-1", "O-1", byID(id), sat, 10000, 2001)
	if r := post(h, ev2); r.Status != 409 || r.ErrorCode() != "IDEMPOTENCY_CONFLICT" {
		t.Fatalf("same event id, other body: %d %s", r.Status, r.Body)
	}
	if r := post(h, paid("ev-2", "O-1", byID(id), sat, 12000)); r.Status != 409 {
		t.Fatalf("same order, new event id: %d %s", r.Status, r.Body)
	}
	if b := balance(h, id); b.Pending != 240 {
		t.Fatalf("replays changed the balance: %+v", b)
	}

	// The shopper sees why; another member gets 404.
	r = h.Do("GET", "/api/v1/shopper/orders/O-1/points", nil, apptest.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("order points: %d %s", r.Status, r.Body)
	}
	var bd struct {
		Points int64 `json:"points"`
		Lines  []struct {
			Rule    string `json:"rule"`
			Version int    `json:"version"`
			Points  int64  `json:"points"`
		} `json:"lines"`
	}
	r.Decode(t, &bd)
	var sum int64
	for _, l := range bd.Lines {
		sum += l.Points
	}
	if bd.Points != 240 || sum != 240 || len(bd.Lines) != 2 || bd.Lines[1].Rule != "周末双倍" || bd.Lines[1].Points != 120 || bd.Lines[0].Version != 1 {
		t.Fatalf("breakdown %s", r.Body)
	}
	if r := h.Do("GET", "/api/v1/shopper/orders/O-1/points", nil, apptest.Auth(otherTok)...); r.Status != 404 {
		t.Fatalf("other member's order: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/shopper/orders/O-1/points", nil); r.Status != 401 {
		t.Fatalf("no token: %d", r.Status)
	}

	// After the return window the points become available.
	h.Clock.Set(sat.Add(7*24*time.Hour + time.Minute))
	if _, err := h.App.Ledger.ReleasePending(t.Context(), h.Clock.Now(), 100); err != nil {
		t.Fatal(err)
	}
	if b := balance(h, id); b.Available != 240 || b.Pending != 0 {
		t.Fatalf("after the return window %+v", b)
	}
}

func TestRefundReversesTheRefundedShare(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("marketer"), baseRule)
	_, _, id := h.Login(apptest.UniqueUser("refund"))
	now := h.Clock.Now()
	if r := post(h, paid("p1", "O-R", byID(id), now, 30000, 10000)); r.Status != 200 { // 400 points
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	// Partial refund of line 2 (100 元 of 400): 100 points back, from pending.
	r := post(h, refund("r1", "O-R", now, line{SKU: "SKU-2", Qty: 1, AmountFen: 10000}))
	if r.Status != 200 || r.JSON()["points_reversed"].(float64) != 100 {
		t.Fatalf("partial refund: %d %s", r.Status, r.Body)
	}
	if b := balance(h, id); b.Pending != 300 {
		t.Fatalf("after partial refund %+v", b)
	}
	// Line 2 again: more than was paid for it.
	if r := post(h, refund("r2", "O-R", now, line{SKU: "SKU-2", Qty: 1, AmountFen: 1})); r.Status != 422 {
		t.Fatalf("refund beyond the line: %d %s", r.Status, r.Body)
	}
	// Points become available, the member spends 250, then the rest is refunded: 300 back, 250 owed.
	h.Clock.Advance(8 * 24 * time.Hour)
	if _, err := h.App.Ledger.ReleasePending(t.Context(), h.Clock.Now(), 100); err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Adjust.Adjust(t.Context(), adjustActor, adjustReq(id, -250)); err != nil {
		t.Fatal(err)
	}
	r = post(h, refund("r3", "O-R", h.Clock.Now()))
	if r.Status != 200 || r.JSON()["points_reversed"].(float64) != 300 {
		t.Fatalf("full refund: %d %s", r.Status, r.Body)
	}
	if b := balance(h, id); b.Available != 0 || b.Debt != 250 {
		t.Fatalf("after full refund %+v", b)
	}
	if r := post(h, refund("r4", "O-R", h.Clock.Now())); r.Status != 422 {
		t.Fatalf("refund of a fully refunded order: %d %s", r.Status, r.Body)
	}
	if r := post(h, refund("r5", "O-nope", h.Clock.Now())); r.Status != 409 || r.ErrorCode() != "ORDER_NOT_PAID" {
		t.Fatalf("refund of an unknown order: %d %s", r.Status, r.Body)
	}
	if n := count(t, h, "order_events"); n != 3 {
		t.Fatalf("%d events stored, want 3 (refused ones leave nothing)", n)
	}
}

// Any order id the webhook takes can be looked up: the mini-program
// escapes it into the path (encodeURIComponent), "/" included, and gets
// the order back under the id the order system sent.
func TestOrderPointsOfOrderIDsWithReservedCharacters(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("marketer"), baseRule)
	tok, _, id := h.Login(apptest.UniqueUser("order-ids"))
	now := h.Clock.Now()
	points := func(orderID, escaped string) {
		t.Helper()
		r := h.Do("GET", "/api/v1/shopper/orders/"+escaped+"/points", nil, apptest.Auth(tok)...)
		if r.Status != 200 || r.JSON()["order_id"] != orderID || r.JSON()["points"].(float64) != 10 {
			t.Errorf("order points of %q (/orders/%s/points): %d %s", orderID, escaped, r.Status, r.Body)
		}
	}
	for i, orderID := range []string{"A/xyz", "B/", "/C", "D?x=1#y", "E%2F", "F 订单+1", "G+/h", "I;j=1", "..", "K/../L"} {
		if r := post(h, paid(fmt.Sprintf("ev-ids-%d", i), orderID, byID(id), now, 1000)); r.Status != 200 {
			t.Fatalf("paid %q: %d %s", orderID, r.Status, r.Body)
		}
		points(orderID, url.PathEscape(orderID))
	}
	// Escapes in lower case, as some clients write them.
	points("F 订单+1", "F%20%e8%ae%a2%e5%8d%95+1")
	points("A/xyz", "A%2fxyz")
	// An id with a "/" sent unescaped is another path.
	if r := h.Do("GET", "/api/v1/shopper/orders/A/xyz/points", nil, apptest.Auth(tok)...); r.Status != 404 || r.ErrorCode() != "NOT_FOUND" {
		t.Errorf("/orders/A/xyz/points: %d %s", r.Status, r.Body)
	}
}

// A refund that arrives before its order's paid event is refused with an
// answer a retry policy retries (409 ORDER_NOT_PAID, Retry-After) and is
// not stored, so the same event sent again after the paid event applies.
func TestRefundBeforeItsPaidEventIsRefusedUntilThePaidEventArrives(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("marketer"), baseRule)
	_, _, id := h.Login(apptest.UniqueUser("early-refund"))
	now := h.Clock.Now()
	early := refund("r-early", "O-E", now)
	r := post(h, early)
	if r.Status != 409 || r.ErrorCode() != "ORDER_NOT_PAID" {
		t.Fatalf("refund before paid: %d %s; want 409 ORDER_NOT_PAID", r.Status, r.Body)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("refund before paid: Retry-After %q, want seconds", r.Header.Get("Retry-After"))
	}
	if n := count(t, h, "order_events"); n != 0 {
		t.Fatalf("%d events stored, want none", n)
	}
	if r := post(h, paid("p-early", "O-E", byID(id), now, 12000)); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	r = post(h, early)
	if r.Status != 200 || r.JSON()["points_reversed"].(float64) != 120 || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the same refund after paid: %d %s", r.Status, r.Body)
	}
	if b := balance(h, id); b.Pending != 0 || b.Available != 0 {
		t.Fatalf("after the refund %+v", b)
	}
}

// A refund line's qty, with the earlier refunds of its SKU, never exceeds
// the qty ordered of that SKU (as its amount never exceeds what was paid):
// 422, and nothing is written. A qty the order or the refund leaves out
// (0) is not compared.
func TestRefundQtyNeverExceedsTheQtyOrdered(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("marketer"), baseRule)
	_, _, id := h.Login(apptest.UniqueUser("refundqty"))
	now := h.Clock.Now()
	order := paid("q1", "O-Q", byID(id), now, 30000, 10000, 10000, 5000)
	order["lines"] = []line{{SKU: "A", Category: "A", Qty: 2, AmountFen: 30000}, {SKU: "A", Category: "A", Qty: 1, AmountFen: 10000},
		{SKU: "B", Category: "A", Qty: 1, AmountFen: 10000}, {SKU: "C", Category: "A", AmountFen: 5000}}
	if r := post(h, order); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	events := count(t, h, "order_events")
	refused := func(name string, lines ...line) {
		t.Helper()
		r := post(h, refund("x-"+name, "O-Q", now, lines...))
		if r.Status != 422 || r.ErrorCode() != "RULE_VIOLATION" {
			t.Errorf("%s: %d %s; want 422 RULE_VIOLATION", name, r.Status, r.Body)
		}
	}
	refused("4 of the 3 A ordered", line{SKU: "A", Qty: 4, AmountFen: 100})
	refused("2 of the 1 B ordered", line{SKU: "B", Qty: 2, AmountFen: 100})
	refused("2 B over two lines", line{SKU: "B", Qty: 1, AmountFen: 100}, line{SKU: "B", Qty: 1, AmountFen: 100})
	// 2 of A now, then 2 more: 4 of the 3 ordered in all.
	if r := post(h, refund("r1", "O-Q", now, line{SKU: "A", Qty: 2, AmountFen: 1000})); r.Status != 200 {
		t.Fatalf("refund of 2 A: %d %s", r.Status, r.Body)
	}
	refused("2 more A", line{SKU: "A", Qty: 2, AmountFen: 1000})
	if n := count(t, h, "order_events"); n != events+1 {
		t.Fatalf("%d events stored, want %d (refused ones leave nothing)", n, events+1)
	}
	for _, ok := range []struct {
		name string
		l    line
	}{
		{"the last A", line{SKU: "A", Qty: 1, AmountFen: 1000}},
		{"B without a qty", line{SKU: "B", AmountFen: 1000}},
		{"C, ordered without a qty", line{SKU: "C", Qty: 5, AmountFen: 1000}},
	} {
		if r := post(h, refund("ok-"+ok.name, "O-Q", now, ok.l)); r.Status != 200 {
			t.Errorf("%s: %d %s", ok.name, r.Status, r.Body)
		}
	}
	refused("A once all were refunded", line{SKU: "A", Qty: 1, AmountFen: 1})
}

func TestUnknownMemberIsAppliedWhenTheyRegisterOrBindThePhone(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("admin"), baseRule)
	user := apptest.UniqueUser("late")
	now := h.Clock.Now()
	r := post(h, paid("u1", "O-U1", map[string]any{"openid": "sim-openid-" + user}, now, 5000))
	if r.Status != 202 || r.JSON()["status"] != "unmatched" {
		t.Fatalf("unmatched: %d %s", r.Status, r.Body)
	}
	if r := post(h, paid("u1", "O-U1", map[string]any{"openid": "sim-openid-" + user}, now, 5000)); r.Status != 202 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("unmatched replay: %d %s", r.Status, r.Body)
	}
	phone := "139" + strconv.FormatInt(time.Now().UnixNano()%1e8+1e7, 10)[:8]
	if r := post(h, paid("u2", "O-U2", map[string]any{"phone": phone}, now, 3000)); r.Status != 202 {
		t.Fatalf("unmatched by phone: %d %s", r.Status, r.Body)
	}
	// Refund half of the phone order before the member exists.
	if r := post(h, map[string]any{"event_id": "u3", "type": "refunded", "order_id": "O-U2", "total_fen": 1000, "occurred_at": now.Format(time.RFC3339)}); r.Status != 202 {
		t.Fatalf("refund of unmatched: %d %s", r.Status, r.Body)
	}

	tok, _, id := h.Login(user)
	if b := balance(h, id); b.Pending != 50 {
		t.Fatalf("after registering %+v", b)
	}
	if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": h.PhoneCode(phone)}, apptest.Auth(tok)...); r.Status != 200 {
		t.Fatalf("bind phone: %d %s", r.Status, r.Body)
	}
	if b := balance(h, id); b.Pending != 50+20 {
		t.Fatalf("after binding the phone %+v (30 earned, 10 reversed)", b)
	}
	if r := h.Do("GET", "/api/v1/shopper/orders/O-U2/points", nil, apptest.Auth(tok)...); r.Status != 200 || r.JSON()["reversed"].(float64) != 10 {
		t.Fatalf("matched order: %d %s", r.Status, r.Body)
	}
}

func TestOrderWebhookRefusesBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, withSecret)
	createRule(h, h.ConsoleLogin("admin"), baseRule)
	_, _, id := h.Login(apptest.UniqueUser("bad"))
	now := h.Clock.Now()
	good := toBytes(paid("b1", "O-B", byID(id), now, 1000))
	secret := []byte(h.Config.Orders.WebhookSecret)
	ts := strconv.FormatInt(now.Unix(), 10)
	stale := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	with := func(mut func(m map[string]any)) []byte {
		m := paid("b1", "O-B", byID(id), now, 1000)
		mut(m)
		return toBytes(m)
	}
	cases := []struct {
		name    string
		body    []byte
		ts, sig string // "" → signed properly at ts
		want    int
	}{
		{"no signature", good, ts, "-", 401},
		{"bad signature", good, ts, strings.Repeat("ab", 32), 401},
		{"not hex", good, ts, "zz", 401},
		{"stale timestamp", good, stale, "", 401},
		{"future timestamp", good, strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10), "", 401},
		{"timestamp not a number", good, "yesterday", "", 401},
		{"signed with another secret", good, ts, hooks.Sign([]byte("another-secret-0123456789"), ts, good), 401},
		{"malformed JSON", []byte(`{"event_id":`), ts, "", 400},
		{"wrong type", []byte(`{"event_id":1}`), ts, "", 400},
		{"unknown field", with(func(m map[string]any) { m["coupon"] = "x" }), ts, "", 400},
		{"unknown line field", []byte(`{"event_id":"b1","type":"paid","order_id":"O-B","member":{"member_id":1},"occurred_at":"2026-11-23T10:00:00+08:00","total_fen":1,"lines":[{"sku":"a","amount_fen":1,"price":1}]}`), ts, "", 400},
		{"negative amount", with(func(m map[string]any) {
			m["lines"] = []line{{SKU: "a", Qty: 1, AmountFen: -1000}, {SKU: "b", Qty: 1, AmountFen: 2000}}
		}), ts, "", 400},
		{"lines not summing", with(func(m map[string]any) { m["total_fen"] = 999 }), ts, "", 400},
		{"no lines", with(func(m map[string]any) { delete(m, "lines") }), ts, "", 400},
		{"no member", with(func(m map[string]any) { m["member"] = map[string]any{} }), ts, "", 400},
		{"unknown member id", with(func(m map[string]any) { m["member"] = byID(999999) }), ts, "", 422},
		{"bad type", with(func(m map[string]any) { m["type"] = "shipped" }), ts, "", 400},
		{"bad time", with(func(m map[string]any) { m["occurred_at"] = "yesterday" }), ts, "", 400},
		{"year 1", with(func(m map[string]any) { m["occurred_at"] = "0001-01-01T00:00:01Z" }), ts, "", 400},
		{"the Unix epoch", with(func(m map[string]any) { m["occurred_at"] = "1970-01-01T00:00:00Z" }), ts, "", 400},
		{"missing event id", with(func(m map[string]any) { m["event_id"] = "" }), ts, "", 400},
		{"oversized", []byte(`{"event_id":"` + strings.Repeat("x", 2<<20) + `"}`), ts, "", 413},
	}
	// What docs/openapi.yaml itself forbids; the rest only the service can
	// refuse (signatures, sums, members).
	specForbids := map[string]bool{"no signature": true, "malformed JSON": true, "wrong type": true, "unknown field": true,
		"unknown line field": true, "negative amount": true, "bad type": true, "bad time": true, "oversized": true}
	for _, tc := range cases {
		sig := tc.sig
		if sig == "" {
			sig = hooks.Sign(secret, tc.ts, tc.body)
		}
		hdr := []string{hooks.HeaderTimestamp, tc.ts, hooks.HeaderSignature, sig}
		if sig == "-" {
			hdr = nil
		}
		r := h.Send(!specForbids[tc.name], "POST", "/api/v1/hooks/orders", tc.body, hdr...)
		if r.Status != tc.want || r.ErrorCode() == "" {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
	for _, table := range []string{"order_events", "orders", "ledger_entries", "member_tiers", "rule_usage"} {
		if n := count(t, h, table); n != 0 {
			t.Errorf("%s has %d rows after refused requests", table, n)
		}
	}
	if r := post(h, good); r.Status != 200 {
		t.Fatalf("the good request after all that: %d %s", r.Status, r.Body)
	}
}

// The shoppers' per-IP limit does not throttle the order system: a burst of
// signed events from one address is accepted, while shopper endpoints from
// the same address are limited.
func TestSignedHooksAreNotLimitedPerIP(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) {
		withSecret(c)
		c.RateLimit.PerIPPerMinute = 3
	})
	admin := h.ConsoleLogin("admin")
	createRule(h, admin, baseRule)
	_, _, id := h.Login(apptest.UniqueUser("burst"))
	for i := range 10 {
		if r := post(h, paid(fmt.Sprint("burst-", i), fmt.Sprint("B-", i), byID(id), h.Clock.Now(), 1000)); r.Status != 200 {
			t.Fatalf("event %d of a burst: %d %s", i, r.Status, r.Body)
		}
	}
	last := 0
	for range 5 {
		last = h.DoInvalid("POST", "/api/v1/shopper/login", `{`).Status
	}
	if last != 429 {
		t.Fatalf("shopper endpoint from the same address: %d, want 429 after 3 a minute", last)
	}
}
