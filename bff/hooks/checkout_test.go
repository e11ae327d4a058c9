package hooks_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/checkout"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/repo/checkoutstore"
)

func checkoutAuditor(h *apptest.Harness) checkout.Auditor { return &checkoutstore.Store{DB: h.Env.DB} }

// coSend sends a request signed like the order webhook, with an
// Idempotency-Key when key is not empty.
func coSend(h *apptest.Harness, specValid bool, method, path string, body any, key string) *apptest.Response {
	h.T.Helper()
	var raw []byte
	if body != nil {
		raw = toBytes(body)
	}
	ts := strconv.FormatInt(h.Clock.Now().Unix(), 10)
	signed := raw
	if method == "GET" {
		signed = hooks.SignedLine(method, path)
	}
	headers := []string{hooks.HeaderTimestamp, ts, hooks.HeaderSignature, hooks.Sign([]byte(h.Config.Orders.WebhookSecret), ts, signed)}
	if key != "" {
		headers = append(headers, "Idempotency-Key", key)
	}
	var b any
	if body != nil {
		b = raw
	}
	return h.Send(specValid, method, path, b, headers...)
}

// coOrder is an order at checkout: lines of category A and B.
func coOrder(member int64, a, b int64) map[string]any {
	ls := []line{{SKU: "A1", Category: "A", Qty: 1, AmountFen: a}}
	if b > 0 {
		ls = append(ls, line{SKU: "B1", Category: "B", Qty: 1, AmountFen: b})
	}
	return map[string]any{"member_id": member, "currency": "CNY", "total_fen": a + b, "lines": ls}
}

func holdBody(member int64, order string, a, b, points, value int64) map[string]any {
	m := coOrder(member, a, b)
	m["order_id"], m["points"], m["value_fen"] = order, points, value
	return m
}

type holdView struct {
	ID             int64  `json:"id"`
	OrderID        string `json:"order_id"`
	Status         string `json:"status"`
	Points         int64  `json:"points"`
	ValueFen       int64  `json:"value_fen"`
	PointsReturned int64  `json:"points_returned"`
}

func holdOf(t *testing.T, r *apptest.Response) holdView {
	t.Helper()
	var out struct {
		Hold holdView `json:"hold"`
	}
	r.Decode(t, &out)
	return out.Hold
}

// give credits points to a member through a console adjustment.
func give(h *apptest.Harness, member, points int64) {
	h.T.Helper()
	if _, err := h.App.Adjust.Adjust(context.Background(), adjustActor, adjustReq(member, points)); err != nil {
		h.T.Fatal(err)
	}
}

func fullBalance(h *apptest.Harness, member int64) ledger.Balance {
	h.T.Helper()
	b, err := h.App.Ledger.Balance(context.Background(), member)
	if err != nil {
		h.T.Fatal(err)
	}
	return b
}

func checkLedger(t *testing.T, h *apptest.Harness) {
	t.Helper()
	n, err := h.App.Ledger.CheckAll(context.Background(), 100, func(id int64, v []ledger.Violation) {
		if len(v) > 0 {
			t.Errorf("member %d: %v", id, v)
		}
	})
	if err != nil || n == 0 {
		t.Fatalf("check all: %d accounts, %v", n, err)
	}
}

// writes counts the rows every refused request must leave alone.
func writes(t *testing.T, h *apptest.Harness) [3]int64 {
	return [3]int64{count(t, h, "checkouts"), count(t, h, "ledger_entries"), count(t, h, "ledger_holds")}
}

func TestCheckoutQuoteHoldCaptureRelease(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, _, id := h.Login(apptest.UniqueUser("co"))
	give(h, id, 5000)

	// The default policy: 100 points = 1 yuan, up to half of the order.
	r := coSend(h, true, "POST", "/api/v1/hooks/checkout/quote", coOrder(id, 10000, 2000), "")
	if r.Status != 200 {
		t.Fatalf("quote: %d %s", r.Status, r.Body)
	}
	q := r.JSON()["quote"].(map[string]any)
	if q["usable_points"].(float64) != 5000 || q["value_fen"].(float64) != 5000 || q["max_value_fen"].(float64) != 6000 || q["available_points"].(float64) != 5000 {
		t.Fatalf("default quote %s", r.Body)
	}

	// A marketer excludes category B, caps points at 30% and sets a minimum.
	mkt := h.ConsoleLogin("marketer")
	pol := map[string]any{"version": 1, "enabled": true, "points_per_unit": 100, "unit_fen": 100, "max_share_permille": 300,
		"min_order_fen": 5000, "excluded_categories": []string{"B"}}
	if r := h.Do("PUT", "/api/v1/console/checkout/policy", pol, apptest.Auth(mkt)...); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
	if r := h.Do("PUT", "/api/v1/console/checkout/policy", pol, apptest.Auth(mkt)...); r.Status != 409 {
		t.Fatalf("stale policy edit: %d %s", r.Status, r.Body)
	}
	if r := h.Do("PUT", "/api/v1/console/checkout/policy", pol, apptest.Auth(h.ConsoleLogin("auditor"))...); r.Status != 403 {
		t.Fatalf("auditor edits the policy: %d %s", r.Status, r.Body)
	}
	r = coSend(h, true, "POST", "/api/v1/hooks/checkout/quote", coOrder(id, 10000, 2000), "")
	if q := r.JSON()["quote"].(map[string]any); q["usable_points"].(float64) != 3000 || q["eligible_fen"].(float64) != 10000 || q["policy_version"].(float64) != 2 {
		t.Fatalf("quote under version 2: %s", r.Body)
	}
	r = coSend(h, true, "POST", "/api/v1/hooks/checkout/quote", coOrder(id, 4000, 0), "")
	if q := r.JSON()["quote"].(map[string]any); q["usable_points"].(float64) != 0 || q["reason"] == "" {
		t.Fatalf("quote below the minimum: %s", r.Body)
	}

	before := writes(t, h)
	bad := func(name string, specValid bool, method, path string, body any, key string, status int, code string) {
		t.Helper()
		r := coSend(h, specValid, method, path, body, key)
		if r.Status != status || (code != "" && r.ErrorCode() != code) {
			t.Errorf("%s: %d %s, want %d %s", name, r.Status, r.Body, status, code)
		}
	}
	usd := holdBody(id, "O-1", 10000, 2000, 3000, 3000)
	usd["currency"] = "USD"
	mism := holdBody(id, "O-1", 10000, 2000, 3000, 3000)
	mism["total_fen"] = 12001
	bad("more than the quote", true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "O-1", 10000, 2000, 3100, 3100), "k0", 422, "RULE_VIOLATION")
	bad("not whole units", true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "O-1", 10000, 2000, 2950, 2950), "k0", 400, "INVALID")
	bad("value mismatch", true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "O-1", 10000, 2000, 3000, 2999), "k0", 422, "RULE_VIOLATION")
	bad("currency", false, "POST", "/api/v1/hooks/checkout/holds", usd, "k0", 400, "INVALID")
	bad("lines do not sum", true, "POST", "/api/v1/hooks/checkout/holds", mism, "k0", 400, "INVALID")
	bad("unknown member", true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id+1000, "O-1", 10000, 2000, 3000, 3000), "k0", 404, "NOT_FOUND")
	bad("no key", false, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "O-1", 10000, 2000, 3000, 3000), "", 400, "INVALID")
	bad("malformed", false, "POST", "/api/v1/hooks/checkout/holds", `{"member_id":`, "k0", 400, "INVALID")
	bad("wrong type", false, "POST", "/api/v1/hooks/checkout/holds", `{"member_id":"1","currency":"CNY","total_fen":1,"lines":[],"order_id":"x","points":1,"value_fen":1}`, "k0", 400, "INVALID")
	bad("unknown field", false, "POST", "/api/v1/hooks/checkout/quote", `{"member_id":1,"currency":"CNY","total_fen":1,"lines":[{"sku":"a","amount_fen":1}],"coupon":1}`, "", 400, "INVALID")
	raw := toBytes(holdBody(id, "O-1", 10000, 2000, 3000, 3000))
	ts := strconv.FormatInt(h.Clock.Now().Unix(), 10)
	if r := h.DoInvalid("POST", "/api/v1/hooks/checkout/holds", raw, "Idempotency-Key", "k0"); r.Status != 401 {
		t.Errorf("unsigned hold: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/hooks/checkout/holds", raw, "Idempotency-Key", "k0", hooks.HeaderTimestamp, ts,
		hooks.HeaderSignature, hooks.Sign([]byte("another-secret-0123456789"), ts, raw)); r.Status != 401 {
		t.Errorf("forged hold: %d %s", r.Status, r.Body)
	}
	if got := writes(t, h); got != before {
		t.Fatalf("refused holds wrote: %v → %v", before, got)
	}

	// The hold, its replay, and the key reused for another hold.
	r = coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "O-1", 10000, 2000, 3000, 3000), "k1")
	if r.Status != 201 {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	hv := holdOf(t, r)
	if hv.Status != "held" || hv.Points != 3000 || hv.ValueFen != 3000 {
		t.Fatalf("hold %s", r.Body)
	}
	rep := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "O-1", 10000, 2000, 3000, 3000), "k1")
	if rep.Status != 201 || string(rep.Body) != string(r.Body) || rep.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", rep.Status, rep.Body)
	}
	bad("key reused", true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "O-9", 10000, 2000, 1000, 1000), "k1", 409, "IDEMPOTENCY_CONFLICT")
	bad("second hold of the order", true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "O-1", 10000, 2000, 1000, 1000), "k2", 409, "CONFLICT")
	if b := fullBalance(h, id); b.Available != 2000 || b.Held != 3000 {
		t.Fatalf("balance after hold: %+v", b)
	}

	// Capture: refused mismatches write nothing; then once.
	path := fmt.Sprintf("/api/v1/hooks/checkout/holds/%d", hv.ID)
	cap := func(order string, total int64, cur string) map[string]any {
		return map[string]any{"order_id": order, "total_fen": total, "currency": cur}
	}
	before = writes(t, h)
	bad("capture: other amount", true, "POST", path+"/capture", cap("O-1", 12001, "CNY"), "c0", 422, "RULE_VIOLATION")
	bad("capture: other order", true, "POST", path+"/capture", cap("O-2", 12000, "CNY"), "c0", 422, "RULE_VIOLATION")
	bad("capture: currency", false, "POST", path+"/capture", cap("O-1", 12000, "USD"), "c0", 400, "INVALID")
	bad("capture: unknown hold", true, "POST", "/api/v1/hooks/checkout/holds/999999/capture", cap("O-1", 12000, "CNY"), "c0", 404, "NOT_FOUND")
	bad("capture: no key", false, "POST", path+"/capture", cap("O-1", 12000, "CNY"), "", 400, "INVALID")
	bad("release: other order", true, "POST", path+"/release", map[string]any{"order_id": "O-2"}, "r0", 422, "RULE_VIOLATION")
	bad("release: unknown hold", true, "POST", "/api/v1/hooks/checkout/holds/999999/release", map[string]any{"order_id": "O-1"}, "r0", 404, "NOT_FOUND")
	bad("get: unknown hold", true, "GET", "/api/v1/hooks/checkout/holds/999999", nil, "", 404, "NOT_FOUND")
	bad("capture: malformed", false, "POST", path+"/capture", `{"order_id":`, "c0", 400, "INVALID")
	bad("capture: wrong type", false, "POST", path+"/capture", `{"order_id":"O-1","total_fen":"12000","currency":"CNY"}`, "c0", 400, "INVALID")
	if got := writes(t, h); got != before {
		t.Fatalf("refused captures wrote: %v → %v", before, got)
	}
	r = coSend(h, true, "POST", path+"/capture", cap("O-1", 12000, "CNY"), "c1")
	if r.Status != 200 || holdOf(t, r).Status != "captured" {
		t.Fatalf("capture: %d %s", r.Status, r.Body)
	}
	if rep := coSend(h, true, "POST", path+"/capture", cap("O-1", 12000, "CNY"), "c1"); rep.Status != 200 || rep.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("capture replay: %d %s", rep.Status, rep.Body)
	}
	before = writes(t, h)
	bad("double capture", true, "POST", path+"/capture", cap("O-1", 12000, "CNY"), "c2", 409, "CONFLICT")
	bad("release after capture", true, "POST", path+"/release", map[string]any{"order_id": "O-1"}, "r1", 409, "CONFLICT")
	if got := writes(t, h); got != before {
		t.Fatalf("refused closes wrote: %v → %v", before, got)
	}
	if b := fullBalance(h, id); b.Available != 2000 || b.Held != 0 {
		t.Fatalf("balance after capture: %+v", b)
	}

	// Cancel: a second order's hold is released, the points come back.
	r = coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "O-2", 10000, 0, 2000, 2000), "k3")
	if r.Status != 201 {
		t.Fatalf("hold 2: %d %s", r.Status, r.Body)
	}
	h2 := holdOf(t, r)
	r = coSend(h, true, "POST", fmt.Sprintf("/api/v1/hooks/checkout/holds/%d/release", h2.ID), map[string]any{"order_id": "O-2"}, "r2")
	if r.Status != 200 || holdOf(t, r).Status != "released" {
		t.Fatalf("release: %d %s", r.Status, r.Body)
	}
	if r := coSend(h, true, "GET", fmt.Sprintf("/api/v1/hooks/checkout/holds/%d", h2.ID), nil, ""); r.Status != 200 || holdOf(t, r).Status != "released" {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	if b := fullBalance(h, id); b.Available != 2000 || b.Held != 0 {
		t.Fatalf("balance after release: %+v", b)
	}
	// A GET signs its method and path: a signature captured for one hold
	// reads no other, and the empty body's signature (the old scheme) none.
	now := strconv.FormatInt(h.Clock.Now().Unix(), 10)
	secret := []byte(h.Config.Orders.WebhookSecret)
	for name, sig := range map[string]string{
		"another hold's signature": hooks.Sign(secret, now, hooks.SignedLine("GET", path)),
		"the empty body's":         hooks.Sign(secret, now, nil),
	} {
		r := h.Send(true, "GET", fmt.Sprintf("/api/v1/hooks/checkout/holds/%d", h2.ID), nil, hooks.HeaderTimestamp, now, hooks.HeaderSignature, sig)
		if r.Status != 401 || r.ErrorCode() != "UNAUTHORIZED" {
			t.Errorf("GET hold %d with %s: %d %s; want 401", h2.ID, name, r.Status, r.Body)
		}
	}
	// The order may be held again once released.
	if r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "O-2", 10000, 0, 1000, 1000), "k4"); r.Status != 201 {
		t.Fatalf("hold again after release: %d %s", r.Status, r.Body)
	}
	checkLedger(t, h)
}

// A checkout line is at least one of something: a quote or hold whose
// line has no quantity (0, or left out) or an absurd one is refused,
// naming the line, and writes nothing.
func TestCheckoutLinesNeedAQuantity(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, _, id := h.Login(apptest.UniqueUser("coqty"))
	give(h, id, 5000)
	withQty := func(body map[string]any, qty ...int64) map[string]any {
		ls := body["lines"].([]line)
		for i, q := range qty {
			ls[i].Qty = q
		}
		return body
	}
	noQty := coOrder(id, 10000, 0)
	noQty["lines"] = []map[string]any{{"sku": "A1", "category": "A", "amount_fen": 10000}}
	before := writes(t, h)
	for _, c := range []struct {
		name, path string
		body       map[string]any
		field      string
	}{
		{"quote, qty 0", "/api/v1/hooks/checkout/quote", withQty(coOrder(id, 10000, 2000), 1, 0), "lines[1].qty"},
		{"quote, qty left out", "/api/v1/hooks/checkout/quote", noQty, "lines[0].qty"},
		{"quote, qty too large", "/api/v1/hooks/checkout/quote", withQty(coOrder(id, 10000, 0), 1_000_001), "lines[0].qty"},
		{"quote, qty negative", "/api/v1/hooks/checkout/quote", withQty(coOrder(id, 10000, 0), -1), "lines[0].qty"},
		{"hold, qty 0", "/api/v1/hooks/checkout/holds", withQty(holdBody(id, "O-Q", 10000, 2000, 3000, 3000), 0), "lines[0].qty"},
	} {
		r := coSend(h, false, "POST", c.path, c.body, "kq")
		if r.Status != 400 || r.ErrorCode() != "INVALID" || r.Fields()[c.field] == nil {
			t.Errorf("%s: %d %s; want 400 INVALID naming %s", c.name, r.Status, r.Body, c.field)
		}
	}
	if got := writes(t, h); got != before {
		t.Fatalf("refused holds wrote: %v → %v", before, got)
	}
	// One of each, and the most a line may be, are fine.
	if r := coSend(h, true, "POST", "/api/v1/hooks/checkout/quote", withQty(coOrder(id, 10000, 2000), 1, 1_000_000), ""); r.Status != 200 {
		t.Fatalf("quote of 1 and 1000000: %d %s", r.Status, r.Body)
	}
}

func TestCheckoutHoldExpiresAndTheJobReleasesIt(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, _, id := h.Login(apptest.UniqueUser("coexp"))
	give(h, id, 1000)
	body := holdBody(id, "E-1", 10000, 0, 500, 500)
	body["deadline"] = h.Clock.Now().Add(10 * time.Minute).Format(time.RFC3339)
	r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", body, "e1")
	if r.Status != 201 {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	hv := holdOf(t, r)
	late := holdBody(id, "E-2", 10000, 0, 100, 100)
	late["deadline"] = h.Clock.Now().Add(25 * time.Hour).Format(time.RFC3339)
	if r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", late, "e-late"); r.Status != 400 {
		t.Fatalf("deadline beyond 24h: %d %s", r.Status, r.Body)
	}

	h.Clock.Set(h.Clock.Now().Add(11 * time.Minute))
	path := fmt.Sprintf("/api/v1/hooks/checkout/holds/%d", hv.ID)
	before := writes(t, h)
	r = coSend(h, true, "POST", path+"/capture", map[string]any{"order_id": "E-1", "total_fen": 10000, "currency": "CNY"}, "ec")
	if r.Status != 409 || r.ErrorCode() != "CONFLICT" {
		t.Fatalf("capture after the deadline: %d %s", r.Status, r.Body)
	}
	if got := writes(t, h); got != before {
		t.Fatalf("late capture wrote: %v → %v", before, got)
	}
	if r := coSend(h, true, "GET", path, nil, ""); holdOf(t, r).Status != "expired" {
		t.Fatalf("status past the deadline: %s", r.Body)
	}

	// serve's scheduler runs the hold-timeouts job on every tick.
	h.App.Reminder.Scheduler.Tick(context.Background())
	if b := fullBalance(h, id); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("balance after the job: %+v", b)
	}
	h.App.Reminder.Scheduler.Tick(context.Background()) // a second run (another instance) finds nothing
	if r := coSend(h, true, "POST", path+"/release", map[string]any{"order_id": "E-1"}, "er"); r.Status != 200 || holdOf(t, r).Status != "released" {
		t.Fatalf("release after the job: %d %s", r.Status, r.Body)
	}
	// A hold past its deadline that the job has not reached yet makes way
	// for a new hold of the same order, which releases it.
	body = holdBody(id, "E-3", 10000, 0, 300, 300)
	body["deadline"] = h.Clock.Now().Add(time.Minute).Format(time.RFC3339)
	if r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", body, "e3"); r.Status != 201 {
		t.Fatalf("hold E-3: %d %s", r.Status, r.Body)
	}
	h.Clock.Set(h.Clock.Now().Add(2 * time.Minute))
	if r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "E-3", 10000, 0, 400, 400), "e3b"); r.Status != 201 {
		t.Fatalf("hold E-3 again: %d %s", r.Status, r.Body)
	}
	if b := fullBalance(h, id); b.Available != 600 || b.Held != 400 {
		t.Fatalf("balance after the replaced hold: %+v", b)
	}
	checkLedger(t, h)
}

func TestCheckoutPaidEventCapturesTheHold(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, _, id := h.Login(apptest.UniqueUser("copaid"))
	_, _, other := h.Login(apptest.UniqueUser("coother"))
	give(h, id, 2000)
	r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "P-1", 10000, 0, 1000, 1000), "p1")
	if r.Status != 201 {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	hv := holdOf(t, r)
	at := h.Clock.Now()
	withHold := func(ev map[string]any, hold int64) map[string]any { ev["points_hold_id"] = hold; return ev }
	before := writes(t, h)
	orders0 := count(t, h, "orders")
	for _, c := range []struct {
		name   string
		ev     map[string]any
		status int
	}{
		{"another order", withHold(paid("pe-0", "P-2", byID(id), at, 10000), hv.ID), 422},
		{"another amount", withHold(paid("pe-0", "P-1", byID(id), at, 9000), hv.ID), 422},
		{"another member", withHold(paid("pe-0", "P-1", byID(other), at, 10000), hv.ID), 404},
		{"unknown hold", withHold(paid("pe-0", "P-1", byID(id), at, 10000), 999999), 404},
	} {
		if r := post(h, c.ev); r.Status != c.status {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}
	if got := writes(t, h); got != before || count(t, h, "orders") != orders0 {
		t.Fatalf("refused events wrote: %v → %v", before, got)
	}
	ev := withHold(paid("pe-1", "P-1", byID(id), at, 10000), hv.ID)
	if r := post(h, ev); r.Status != 200 {
		t.Fatalf("paid with hold: %d %s", r.Status, r.Body)
	}
	if r := post(h, ev); r.Status != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("paid replay: %d %s", r.Status, r.Body)
	}
	if r := coSend(h, true, "GET", fmt.Sprintf("/api/v1/hooks/checkout/holds/%d", hv.ID), nil, ""); holdOf(t, r).Status != "captured" {
		t.Fatalf("hold after the paid event: %s", r.Body)
	}
	if b := fullBalance(h, id); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("balance: %+v", b)
	}
	checkLedger(t, h)
}

// Concurrent holds of one member never hold more than the balance: the
// ledger decides each under the member's account lock.
func TestCheckoutConcurrentHoldsNeverExceedTheBalance(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, _, id := h.Login(apptest.UniqueUser("coconc"))
	give(h, id, 1000)
	const n = 24
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[domain.Code]int{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.App.Checkout.Hold(context.Background(), checkout.HoldRequest{
				Order:   checkout.Order{MemberID: id, Currency: "CNY", TotalFen: 10000, Lines: []orders.Line{{SKU: "A1", Category: "A", Qty: 1, AmountFen: 10000}}},
				OrderID: fmt.Sprint("C-", i), Points: 100, ValueFen: 100, Key: fmt.Sprint("conc-", i)})
			mu.Lock()
			codes[domain.ErrorCode(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[""] != 10 || codes[domain.PointsInsufficient] != n-10 {
		t.Fatalf("outcomes %v", codes)
	}
	if b := fullBalance(h, id); b.Available != 0 || b.Held != 1000 {
		t.Fatalf("balance: %+v", b)
	}
	if got := count(t, h, "checkouts"); got != 10 {
		t.Fatalf("%d checkouts written, 10 held", got)
	}
	checkLedger(t, h)
}

// A paid order that used 3,000 points (30 units) is refunded in three
// parts: the points used come back in proportion, in whole units
// (⌊30 × refunded / total⌋ units in all), the earned points go as before,
// and the order's view shows both.
func TestCheckoutRefundsReturnPointsInProportion(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	createRule(h, h.ConsoleLogin("admin"), baseRule)
	tok, _, id := h.Login(apptest.UniqueUser("corefund"))
	give(h, id, 5000)
	r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "R-1", 10000, 2000, 3000, 3000), "rh")
	if r.Status != 201 {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	hv := holdOf(t, r)
	at := h.Clock.Now()
	ev := paid("rp-1", "R-1", byID(id), at, 10000, 2000)
	ev["points_hold_id"] = hv.ID
	if r := post(h, ev); r.Status != 200 || r.JSON()["points_awarded"].(float64) != 120 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	steps := []struct {
		event             string
		line              line
		returned, clawed  float64
		available, totalR int64
	}{
		{"rr-1", line{SKU: "SKU-1", Category: "A", AmountFen: 5000}, 1200, 50, 3200, 1200},         // 12 units; half the price back, the item kept (no qty)
		{"rr-2", line{SKU: "SKU-1", Category: "A", Qty: 1, AmountFen: 5000}, 1300, 50, 4500, 2500}, // 25 units in all
		{"rr-3", line{SKU: "SKU-2", Category: "A", Qty: 1, AmountFen: 2000}, 500, 20, 5000, 3000},  // everything
	}
	for _, s := range steps {
		r := post(h, refund(s.event, "R-1", at, s.line))
		if r.Status != 200 || r.JSON()["points_returned"].(float64) != s.returned || r.JSON()["points_reversed"].(float64) != s.clawed {
			t.Fatalf("%s: %d %s", s.event, r.Status, r.Body)
		}
		if b := fullBalance(h, id); b.Available != s.available || b.Held != 0 {
			t.Fatalf("%s: balance %+v", s.event, b)
		}
		if r := coSend(h, true, "GET", fmt.Sprintf("/api/v1/hooks/checkout/holds/%d", hv.ID), nil, ""); holdOf(t, r).PointsReturned != s.totalR {
			t.Fatalf("%s: hold %s", s.event, r.Body)
		}
		checkLedger(t, h)
	}
	if r := post(h, refund("rr-3", "R-1", at, steps[2].line)); r.Status != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("refund replay: %d %s", r.Status, r.Body)
	}
	if b := fullBalance(h, id); b.Available != 5000 || b.Pending != 0 {
		t.Fatalf("balance after replay: %+v", b)
	}
	r = h.Do("GET", "/api/v1/shopper/orders/R-1/points", nil, apptest.Auth(tok)...)
	o := r.JSON()
	if r.Status != 200 || o["points_used"].(float64) != 3000 || o["points_returned"].(float64) != 3000 || o["points"].(float64) != 120 || o["reversed"].(float64) != 120 {
		t.Fatalf("order view: %d %s", r.Status, r.Body)
	}
}

// A refund whose event id is 64 Chinese characters (192 bytes, which the
// webhook takes) gives the points used back: their ledger key was
// "checkout:refund:event:" and the id, past the ledger's 128 bytes, and the
// refund failed with 400 naming "key".
func TestCheckoutRefundWithALongEventIDReturnsThePoints(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, _, id := h.Login(apptest.UniqueUser("colongev"))
	give(h, id, 5000)
	r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", holdBody(id, "L-1", 10000, 0, 3000, 3000), "lh")
	if r.Status != 201 {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	ev := paid("lp-1", "L-1", byID(id), h.Clock.Now(), 10000)
	ev["points_hold_id"] = holdOf(t, r).ID
	if r := post(h, ev); r.Status != 200 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	event := strings.Repeat("退", 64)
	if r := post(h, refund(event, "L-1", h.Clock.Now())); r.Status != 200 || r.JSON()["points_returned"].(float64) != 3000 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	if r := post(h, refund(event, "L-1", h.Clock.Now())); r.Status != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("refund replay: %d %s", r.Status, r.Body)
	}
	if b := fullBalance(h, id); b.Available != 5000 || b.Held != 0 {
		t.Fatalf("balance: %+v", b)
	}
	checkLedger(t, h)
}

// A seeded random run of holds, captures, releases, paid and partial
// refund events, time travel (deadlines pass, lots expire, the jobs run)
// over three members: after every step the ledger's invariants and the
// checkouts' (checkout.Check, as jifen reconcile runs it) hold, and no
// step fails with anything but a 4xx refusal.
func TestCheckoutRandomSequencesKeepTheInvariants(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	createRule(h, h.ConsoleLogin("admin"), baseRule)
	ctx := context.Background()
	var members []int64
	for i := range 3 {
		_, _, id := h.Login(apptest.UniqueUser(fmt.Sprint("coseq", i)))
		members = append(members, id)
		give(h, id, 20000)
	}
	type co struct {
		id, member, total int64
		order             string
		paid              bool
	}
	var cos []*co
	rng := rand.New(rand.NewPCG(18, 2))
	ok := map[domain.Code]bool{"": true, domain.RuleViolation: true, domain.PointsInsufficient: true, domain.Conflict: true, domain.NotFound: true}
	steps := 160
	if testing.Short() {
		steps = 60
	}
	counts := map[string]int{}
	for step := range steps {
		var err error
		op := rng.IntN(10)
		switch {
		case op < 3 || len(cos) == 0: // hold
			m := members[rng.IntN(len(members))]
			total := int64(1000 + rng.IntN(20)*1000)
			c := &co{member: m, total: total, order: fmt.Sprint("S-", step)}
			points := int64(1+rng.IntN(int(total/180))) * 100 // now and then more than half: refused
			var out checkout.Checkout
			out, err = h.App.Checkout.Hold(ctx, checkout.HoldRequest{
				Order:   checkout.Order{MemberID: m, Currency: "CNY", TotalFen: total, Lines: []orders.Line{{SKU: "A1", Category: "A", Qty: 1, AmountFen: total}}},
				OrderID: c.order, Points: points, ValueFen: points, Key: fmt.Sprint("seq-h-", step),
				Deadline: h.Clock.Now().Add(time.Duration(1+rng.IntN(30)) * time.Minute)})
			if err == nil {
				c.id = out.ID
				cos = append(cos, c)
			}
			counts["hold"]++
		case op < 5: // capture, as the paid event's or the route's
			c := cos[rng.IntN(len(cos))]
			if rng.IntN(2) == 0 {
				_, err = h.App.Checkout.Capture(ctx, c.id, checkout.CaptureRequest{OrderID: c.order, TotalFen: c.total, Currency: "CNY", Key: fmt.Sprint("seq-c-", step)})
			} else if !c.paid {
				_, err = h.App.Orders.Handle(ctx, orders.Event{EventID: fmt.Sprint("seq-p-", step), Type: orders.Paid, OrderID: c.order,
					Member: orders.MemberRef{MemberID: c.member}, OccurredAt: h.Clock.Now(), TotalFen: c.total,
					Lines: []orders.Line{{SKU: "A1", Category: "A", AmountFen: c.total}}, PointsHoldID: c.id})
				c.paid = err == nil
			}
			counts["capture"]++
		case op < 6: // release
			c := cos[rng.IntN(len(cos))]
			_, err = h.App.Checkout.Release(ctx, c.id, checkout.ReleaseRequest{OrderID: c.order, Key: fmt.Sprint("seq-r-", step)})
			counts["release"]++
		case op < 8: // a partial refund of a paid order
			c := cos[rng.IntN(len(cos))]
			if !c.paid {
				break
			}
			_, err = h.App.Orders.Handle(ctx, orders.Event{EventID: fmt.Sprint("seq-f-", step), Type: orders.Refunded, OrderID: c.order,
				OccurredAt: h.Clock.Now(), TotalFen: int64(1 + rng.IntN(int(c.total/2)))})
			counts["refund"]++
		case op < 9: // minutes pass: deadlines
			h.Clock.Set(h.Clock.Now().Add(time.Duration(1+rng.IntN(20)) * time.Minute))
			h.App.Reminder.Scheduler.Tick(ctx)
		default: // months pass: pending points unlock, lots expire
			h.Clock.Set(h.Clock.Now().Add(time.Duration(20+rng.IntN(200)) * 24 * time.Hour))
			if _, err := h.App.Ledger.Expire(ctx, h.Clock.Now(), 100); err != nil {
				t.Fatal(err)
			}
			give(h, members[rng.IntN(len(members))], int64(8000+step))
			counts["months"]++
		}
		if !ok[domain.ErrorCode(err)] {
			t.Fatalf("step %d (op %d): %v", step, op, err)
		}
		counts[fmt.Sprint("code ", domain.ErrorCode(err))]++
		for _, m := range members {
			if v, err := h.App.Ledger.Check(ctx, m); err != nil || len(v) > 0 {
				t.Fatalf("step %d: member %d: %v %v", step, m, v, err)
			}
		}
		if vs, _, err := checkout.Check(ctx, checkoutAuditor(h), 100); err != nil || len(vs) > 0 {
			t.Fatalf("step %d: checkouts: %v %v", step, vs, err)
		}
	}
	t.Logf("operations: %v, %d checkouts", counts, len(cos))
	if counts["refund"] == 0 || counts["hold"] == 0 {
		t.Fatalf("the run did too little: %v", counts)
	}
}

// A hold request sent again with its Idempotency-Key after the deadline it
// named has passed answers the hold (replayed, now expired), as any replay
// does: the deadline was checked against the clock before the key was
// looked up, so the retry was told 400 "deadline must be in the next 24h"
// about a hold that exists.
func TestCheckoutHoldReplayedAfterItsDeadline(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, _, id := h.Login(apptest.UniqueUser("coreplay"))
	give(h, id, 1000)
	body := holdBody(id, "R-1", 10000, 0, 500, 500)
	body["deadline"] = h.Clock.Now().Add(10 * time.Minute).Format(time.RFC3339)
	r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", body, "r1")
	if r.Status != 201 {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	first := holdOf(t, r)
	h.Clock.Set(h.Clock.Now().Add(11 * time.Minute))
	before := writes(t, h)
	r = coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", body, "r1")
	if r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay after the deadline: %d %s", r.Status, r.Body)
	}
	if got := holdOf(t, r); got.ID != first.ID || got.Status != "expired" {
		t.Fatalf("replayed %+v, first %+v", got, first)
	}
	if got := writes(t, h); got != before {
		t.Fatalf("the replay wrote: %v → %v", before, got)
	}
	// Another request with the key is still a conflict, a new one with a
	// past deadline still 400.
	other := holdBody(id, "R-1", 10000, 0, 400, 400)
	other["deadline"] = body["deadline"]
	if r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", other, "r1"); r.Status != 409 || r.ErrorCode() != "IDEMPOTENCY_CONFLICT" {
		t.Fatalf("other body, same key: %d %s", r.Status, r.Body)
	}
	if r := coSend(h, true, "POST", "/api/v1/hooks/checkout/holds", body, "r2"); r.Status != 400 {
		t.Fatalf("a new hold with a past deadline: %d %s", r.Status, r.Body)
	}
	checkLedger(t, h)
}
