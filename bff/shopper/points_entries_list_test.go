package shopper_test

import (
	"fmt"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

func TestPointsEntriesPaginationStableUnderInserts(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	tok, _, id := h.Login(apptest.UniqueUser("pages"))
	admin := h.ConsoleLogin("admin")
	adjust := func(i int) {
		r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), fmt.Sprintf(`{"delta":%d,"reason":"r"}`, i),
			append(apptest.Auth(admin), "Idempotency-Key", fmt.Sprintf("page-%d", i))...)
		if r.Status != 201 {
			t.Fatalf("adjust: %d %s", r.Status, r.Body)
		}
	}
	for i := 1; i <= 5; i++ {
		adjust(i)
	}
	var seen []float64
	cursor := ""
	for page := 0; page < 10; page++ {
		r := h.Do("GET", "/api/v1/shopper/points/entries?limit=2"+cursor, nil, apptest.Auth(tok)...)
		if r.Status != 200 {
			t.Fatalf("page: %d %s", r.Status, r.Body)
		}
		for _, e := range r.JSON()["entries"].([]any) {
			em := e.(map[string]any)
			seen = append(seen, em["delta"].(float64))
			if em["title"] == "" {
				t.Fatal("entry without title")
			}
		}
		if page == 0 {
			adjust(6) // a new entry arrives while the shopper scrolls
		}
		next := r.JSON()["next_cursor"]
		if next == nil {
			break
		}
		cursor = fmt.Sprintf("&cursor=%.0f", next.(float64))
	}
	want := []float64{5, 4, 3, 2, 1}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("pages gave %v, want %v (no skip, no repeat)", seen, want)
	}
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?cursor=-1", "?cursor=abc"} {
		if r := h.DoInvalid("GET", "/api/v1/shopper/points/entries"+q, nil, apptest.Auth(tok)...); r.Status != 400 {
			t.Fatalf("%s: %d", q, r.Status)
		}
	}
	if r := h.Do("GET", "/api/v1/shopper/points/entries", nil); r.Status != 401 {
		t.Fatalf("no token: %d", r.Status)
	}
}
