package hooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/adjustment"
)

// post signs body with the configured secret at the harness clock and
// posts it to the order webhook.
func post(h *apptest.Harness, body any) *apptest.Response {
	h.T.Helper()
	return postSpec(h, true, body)
}

// postSpec is post that says whether docs/openapi.yaml allows the event.
func postSpec(h *apptest.Harness, specValid bool, body any) *apptest.Response {
	h.T.Helper()
	raw := toBytes(body)
	ts := strconv.FormatInt(h.Clock.Now().Unix(), 10)
	return h.Send(specValid, "POST", "/api/v1/hooks/orders", raw,
		hooks.HeaderTimestamp, ts, hooks.HeaderSignature, hooks.Sign([]byte(h.Config.Orders.WebhookSecret), ts, raw))
}

func toBytes(body any) []byte {
	switch b := body.(type) {
	case string:
		return []byte(b)
	case []byte:
		return b
	}
	j, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return j
}

type line struct {
	SKU       string `json:"sku"`
	Category  string `json:"category"`
	Qty       int64  `json:"qty"`
	AmountFen int64  `json:"amount_fen"`
}

// paid builds a paid event for member id with one line per amount (fen).
func paid(event, order string, member map[string]any, at time.Time, amounts ...int64) map[string]any {
	var total int64
	var ls []line
	for i, a := range amounts {
		total += a
		ls = append(ls, line{SKU: fmt.Sprintf("SKU-%d", i+1), Category: "A", Qty: 1, AmountFen: a})
	}
	return map[string]any{"event_id": event, "type": "paid", "order_id": order, "member": member,
		"store_id": "S001", "channel": "mini", "occurred_at": at.Format(time.RFC3339), "total_fen": total, "lines": ls}
}

func byID(id int64) map[string]any { return map[string]any{"member_id": id} }

func refund(event, order string, at time.Time, lines ...line) map[string]any {
	m := map[string]any{"event_id": event, "type": "refunded", "order_id": order, "occurred_at": at.Format(time.RFC3339)}
	if len(lines) > 0 {
		m["refund_lines"] = lines
	}
	return m
}

// createRule creates a rule through the console and returns its id.
func createRule(h *apptest.Harness, tok string, rule string) int64 {
	h.T.Helper()
	r := h.Do("POST", "/api/v1/console/rules", rule, apptest.Auth(tok)...)
	if r.Status != 201 {
		h.T.Fatalf("create rule: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON()["rule"].(map[string]any)["id"].(float64))
}

const (
	baseRule    = `{"name":"基础","trigger":"order_paid","effect":{"kind":"rate","brackets":[{"from_fen":0,"per_mille":1000}]}}`
	weekendRule = `{"name":"周末双倍","trigger":"order_paid","priority":10,"conditions":{"weekdays":[6,7]},"effect":{"kind":"multiplier","per_mille":2000}}`
)

func count(t testing.TB, h *apptest.Harness, table string) int64 {
	t.Helper()
	var n int64
	if err := h.Env.DB.Conn(context.Background()).Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

type points struct {
	Available, Pending, Debt int64
}

// balance reads the member's ledger balance (the access token would
// expire as the tests travel in time).
func balance(h *apptest.Harness, memberID int64) points {
	h.T.Helper()
	b, err := h.App.Ledger.Balance(context.Background(), memberID)
	if err != nil {
		h.T.Fatal(err)
	}
	return points{b.Available, b.Pending, b.Debt}
}

func withSecret(c *configs.Config) { c.Orders.WebhookSecret = "test-webhook-secret-0123456789" }

var adjustActor = adjustment.Actor{Name: "admin", Role: "admin"}

func adjustReq(member, delta int64) adjustment.Request {
	return adjustment.Request{MemberID: member, Delta: domain.Points(delta), Reason: "test spend", Key: fmt.Sprintf("adj-%d-%d", member, delta)}
}
