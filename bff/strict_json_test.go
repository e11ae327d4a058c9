package bff_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A request body says one thing to docs/openapi.yaml and to the handler: a
// key that is not exactly a field's name (another case, a Unicode fold) and
// a key given twice in one object are 400 INVALID naming the field by its
// full path, on the console and on the signed hooks alike, and apply
// nothing. encoding/json alone matched "Delta" and "reaſon" to delta and
// reason and kept the last of repeated keys: {"delta":1,"Delta":500} moved
// 500 points.
func TestRequestKeysAreExactAndOnce(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := h.ConsoleLogin("admin")
	marketer := h.ConsoleLogin("marketer")
	_, _, member := h.Login(apptest.UniqueUser("strictjson"))
	adjust := fmt.Sprintf("/api/v1/console/members/%d/adjustments", member)
	signed := func(raw string) []string {
		ts := strconv.FormatInt(h.Clock.Now().Unix(), 10)
		return []string{hooks.HeaderTimestamp, ts, hooks.HeaderSignature, hooks.Sign([]byte(h.Config.Orders.WebhookSecret), ts, []byte(raw))}
	}
	quoteBody := func(line1 string) string {
		return fmt.Sprintf(`{"member_id":%d,"currency":"CNY","total_fen":3000,"lines":[{"sku":"A1","category":"A","qty":1,"amount_fen":1000},%s]}`, member, line1)
	}
	const unknown, dup = "unknown field", "duplicate key"
	cases := []struct {
		name string
		// specValid: a repeated key is valid to the spec's validator,
		// which reads JSON keeping the last; every other bad body is not.
		specValid    bool
		method, path string
		body         string
		headers      []string
		field        string
		problem      string
	}{
		{"a second spelling", false, "POST", adjust, `{"delta":1,"Delta":500,"reason":"x"}`, nil, "Delta", unknown},
		{"upper case", false, "POST", adjust, `{"DELTA":3,"REASON":"upper"}`, nil, "DELTA", unknown},
		{"long s", false, "POST", adjust, `{"delta":1,"reaſon":"x"}`, nil, "reaſon", unknown},
		{"repeated", true, "POST", adjust, `{"delta":1,"delta":2,"reason":"x"}`, nil, "delta", dup},

		{"nested unknown", false, "POST", "/api/v1/console/campaigns", `{"name":"严格","audience":{"expiring_within_days":7},"schedule":{"bogus":1}}`,
			apptest.Auth(marketer), "schedule.bogus", unknown},
		{"nested case variant", false, "POST", "/api/v1/console/campaigns", `{"name":"严格","audience":{"Expiring_within_days":7}}`,
			apptest.Auth(marketer), "audience.Expiring_within_days", unknown},
		{"nested repeated", true, "POST", "/api/v1/console/campaigns", `{"name":"严格","audience":{"expiring_within_days":7},"schedule":{"cron":"0 9 * * *","cron":"0 10 * * *"}}`,
			apptest.Auth(marketer), "schedule.cron", dup},
		{"repeated map key", true, "POST", "/api/v1/console/campaigns", `{"name":"严格","audience":{"expiring_within_days":7},"throttle_per_minute":{"subscribe":5,"subscribe":6}}`,
			apptest.Auth(marketer), "throttle_per_minute.subscribe", dup},
		{"wrong type in a map", false, "POST", "/api/v1/console/campaigns", `{"name":"严格","throttle_per_minute":{"subscribe":"5"}}`,
			apptest.Auth(marketer), "throttle_per_minute.subscribe", "must be an integer"},

		{"signed: wrong type in the second line", false, "POST", "/api/v1/hooks/checkout/quote",
			quoteBody(`{"sku":"B1","qty":"1","amount_fen":2000}`), nil, "lines[1].qty", "must be an integer"},
		{"signed: unknown in the second line", false, "POST", "/api/v1/hooks/checkout/quote",
			quoteBody(`{"sku":"B1","qty":1,"amount_fen":2000,"bogus":1}`), nil, "lines[1].bogus", unknown},
		{"signed: case variant in the second line", false, "POST", "/api/v1/hooks/checkout/quote",
			quoteBody(`{"sku":"B1","qty":1,"amount_fen":2000,"Amount_fen":1}`), nil, "lines[1].Amount_fen", unknown},
		{"signed: repeated in the second line", true, "POST", "/api/v1/hooks/checkout/quote",
			quoteBody(`{"sku":"B1","qty":1,"amount_fen":2000,"amount_fen":0}`), nil, "lines[1].amount_fen", dup},
		{"signed: repeated at the top", true, "POST", "/api/v1/hooks/orders",
			fmt.Sprintf(`{"event_id":"strict-1","type":"paid","order_id":"O-strict-1","member":{"member_id":%d},"member":{"member_id":1},`+
				`"occurred_at":"2026-11-23T10:00:00+08:00","total_fen":100,"lines":[{"sku":"A","qty":1,"amount_fen":100}]}`, member), nil, "member", dup},
	}
	for i, c := range cases {
		headers := c.headers
		switch {
		case c.path == adjust:
			headers = append(apptest.Auth(admin), "Idempotency-Key", fmt.Sprintf("strict-%d", i))
		case headers == nil:
			headers = signed(c.body)
		}
		r := h.Send(c.specValid, c.method, c.path, c.body, headers...)
		if got, _ := r.Fields()[c.field].(string); r.Status != 400 || r.ErrorCode() != "INVALID" || len(r.Fields()) != 1 ||
			len(got) < len(c.problem) || got[:len(c.problem)] != c.problem {
			t.Errorf("%s: %d %s; want 400 INVALID with fields {%q: %q…}", c.name, r.Status, r.Body, c.field, c.problem)
		}
	}
	if bal, err := h.App.Ledger.Balance(context.Background(), member); err != nil || bal.Available != 0 {
		t.Fatalf("refused bodies moved points: %+v %v", bal, err)
	}

	// Valid bodies, nested objects, arrays, maps and null where the spec
	// allows it, still pass.
	if r := h.Do("POST", adjust, `{"delta":7,"reason":"ok"}`, append(apptest.Auth(admin), "Idempotency-Key", "strict-ok")...); r.Status != 201 {
		t.Fatalf("adjust: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/console/campaigns", `{"name":"严格","audience":{"expiring_within_days":7},"channels":["subscribe"],`+
		`"schedule":{"cron":"0 9 * * *"},"throttle_per_minute":{"subscribe":5},"variables":{"Shop":"a","shop":"b"}}`, apptest.Auth(marketer)...); r.Status != 201 {
		t.Fatalf("campaign: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/console/tasks", `{"type":"share","title":"分享","period":"daily","target":1,"reward_points":5,"valid_from":null,"valid_to":null}`,
		apptest.Auth(admin)...); r.Status != 201 {
		t.Fatalf("task with null times: %d %s", r.Status, r.Body)
	}
	q := quoteBody(`{"sku":"B1","category":"B","qty":2,"amount_fen":2000}`)
	if r := h.Do("POST", "/api/v1/hooks/checkout/quote", q, signed(q)...); r.Status != 200 {
		t.Fatalf("quote: %d %s", r.Status, r.Body)
	}
}
