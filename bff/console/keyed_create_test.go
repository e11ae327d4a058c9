package console_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// An API client that lost the answer to a create sends it again with the
// same Idempotency-Key: it gets the first answer, and nothing is created
// twice — two identical earning rules would pay every order twice.
func TestKeyedCreatesCreateOnce(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	with := func(hdr []string, key string) []string {
		return append(append([]string{}, hdr...), "Idempotency-Key", key)
	}
	rules := count(t, h, "rules")

	first := h.Do("POST", "/api/v1/console/rules", rateRule, with(marketer, "rule-1")...)
	if first.Status != 201 || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first create: %d %v %s", first.Status, first.Header, first.Body)
	}
	again := h.Do("POST", "/api/v1/console/rules", rateRule, with(marketer, "rule-1")...)
	if again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.Body, first.Body) {
		t.Fatalf("sent again: %d %v %s, want the first answer %s", again.Status, again.Header, again.Body, first.Body)
	}
	if len(first.Body) <= 255 {
		t.Fatalf("the answer (%d bytes) does not test a long one", len(first.Body))
	}
	if n := count(t, h, "rules"); n != rules+1 {
		t.Fatalf("%d rules created by one create sent twice", n-rules)
	}

	// The key with another request: refused, nothing created.
	other := h.Do("POST", "/api/v1/console/rules", `{"name":"另一条","trigger":"order_paid","effect":{"kind":"fixed","points":5}}`, with(marketer, "rule-1")...)
	if other.Status != 409 || other.ErrorCode() != "IDEMPOTENCY_CONFLICT" {
		t.Fatalf("another request under the key: %d %s", other.Status, other.Body)
	}
	// Another user's key of the same name is theirs; without a key every
	// request creates.
	if r := h.Do("POST", "/api/v1/console/rules", rateRule, with(admin, "rule-1")...); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("another user's key: %d %v %s", r.Status, r.Header, r.Body)
	}
	for range 2 {
		if r := h.Do("POST", "/api/v1/console/rules", rateRule, marketer...); r.Status != 201 {
			t.Fatalf("create without a key: %d %s", r.Status, r.Body)
		}
	}
	if n := count(t, h, "rules"); n != rules+4 {
		t.Fatalf("%d rules, want %d", n-rules, 4)
	}

	// A refused create keeps nothing: corrected, it goes through under
	// the same key.
	if r := h.Send(true, "POST", "/api/v1/console/stores", `{"robot_key":"k"}`, with(marketer, "store-1")...); r.Status != 400 {
		t.Fatalf("store without a name: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/console/stores", `{"name":"幂等店","robot_key":"k"}`, with(marketer, "store-1")...); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("corrected store: %d %v %s", r.Status, r.Header, r.Body)
	}

	// Copies sent at once: one creates, every copy answers its item.
	items := count(t, h, "mall_items")
	const copies = 6
	bodies := make([][]byte, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() {
			r := h.Do("POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"幂等券","category":"coffee","points":100,"stock":5,"enabled":true}`,
				with(marketer, "item-1")...)
			if r.Status != 201 {
				t.Errorf("copy %d: %d %s", i, r.Status, r.Body)
			}
			bodies[i] = r.Body
		})
	}
	wg.Wait()
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("copies answered differently:\n%s\n%s", bodies[0], bodies[i])
		}
	}
	if n := count(t, h, "mall_items"); n != items+1 {
		t.Fatalf("%d items created by %d copies of one create", n-items, copies)
	}
}
