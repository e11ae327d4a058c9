package bff_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A failed console sign-in is counted under its username in Redis: a
// username of half a megabyte, sent by anyone without a token, made a key
// of half a megabyte (rvapi:login:n:user:UUU…), kept for an hour, and as
// many in the instance's memory while Redis is away. The sign-in is still
// 401 and counted, under a key of bounded length.
func TestConsoleLoginCountsLongUsernamesUnderShortKeys(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	body, _ := json.Marshal(map[string]string{"username": strings.Repeat("U", 500_000), "password": "x"})
	for i := 1; i <= 5; i++ {
		r := h.Do("POST", "/api/v1/console/login", string(body))
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("sign-in %d with a long username: %d %.200s; want 401", i, r.Status, r.Body)
		}
	}
	// The fifth failure locked the name (and the address): counted all the same.
	if r := h.Do("POST", "/api/v1/console/login", string(body)); r.Status != http.StatusTooManyRequests {
		t.Fatalf("sixth sign-in: %d %.200s; want 429", r.Status, r.Body)
	}
	ctx := context.Background()
	keys, err := h.Env.Redis.C.Keys(ctx, h.Env.Redis.Key("login", "*")).Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("throttle keys: %v %v", keys, err)
	}
	for _, k := range keys {
		if len(k) > 200 {
			t.Errorf("a throttle key of %d bytes: %.80s…", len(k), k)
		}
	}
}
