package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/repo/testenv"
)

// TestSimClockMovesTheServiceAndItsJobs runs the service as serve wires it
// (no clock from the caller, the in-process simulator on its own port) and
// moves its clock a day forward through /_sim/clock: the shopper who signed
// in today can sign in again, with a two-day streak, and the clock the jobs
// read has moved too.
func TestSimClockMovesTheServiceAndItsJobs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.Addr = ln.Addr().String()
	cfg.Clock.Offset = 2 * time.Hour
	env := testenv.New(t)
	a, err := app.New(cfg, &app.Stores{DB: env.DB, Redis: env.Redis}, app.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	call := func(method, path, token string, body any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	offsetOf := func(m map[string]any) float64 { v, _ := m["offset_seconds"].(float64); return v }

	status, st := call("GET", "/_sim/clock", "", nil)
	if status != http.StatusOK || offsetOf(st) != 7200 {
		t.Fatalf("GET /_sim/clock = %d %v, want 200 with the configured 2h offset", status, st)
	}
	if ahead := a.Clock.Now().Sub(time.Now()); ahead < 2*time.Hour-time.Minute || ahead > 2*time.Hour+time.Minute {
		t.Fatalf("the service runs %v ahead of the wall clock, want 2h", ahead)
	}

	status, login := call("POST", "/api/v1/shopper/login", "", map[string]string{"code": "sim:clock-user:1"})
	if status != http.StatusOK {
		t.Fatalf("login = %d %v", status, login)
	}
	token, _ := login["access_token"].(string)
	if status, out := call("POST", "/api/v1/shopper/signin", token, nil); status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("first sign-in = %d %v", status, out)
	}
	if status, out := call("POST", "/api/v1/shopper/signin", token, nil); status != http.StatusConflict {
		t.Fatalf("second sign-in the same day = %d %v, want 409", status, out)
	}

	for _, bad := range []any{map[string]string{"advance": "-1h"}, map[string]string{"advance": "soon"}, map[string]any{"advance": 86400}, map[string]string{"back": "1h"}} {
		if status, out := call("POST", "/_sim/clock", "", bad); status != http.StatusBadRequest || !strings.Contains(strings.ToLower(out["error"].(map[string]any)["code"].(string)), "invalid") {
			t.Fatalf("POST /_sim/clock %v = %d %v, want 400 INVALID", bad, status, out)
		}
	}
	status, st = call("POST", "/_sim/clock", "", map[string]string{"advance": "24h"})
	if status != http.StatusOK || offsetOf(st) != 26*3600 {
		t.Fatalf("advance 24h = %d %v, want offset 26h", status, st)
	}
	if ahead := a.Clock.Now().Sub(time.Now()); ahead < 26*time.Hour-time.Minute {
		t.Fatalf("the jobs' clock runs %v ahead, want 26h", ahead)
	}
	// A day later the access token has expired, as it would have: the
	// client refreshes it, as the mini-program client does on a 401.
	if status, out := call("POST", "/api/v1/shopper/signin", token, nil); status != http.StatusUnauthorized {
		t.Fatalf("sign-in with a day-old access token = %d %v, want 401", status, out)
	}
	status, ref := call("POST", "/api/v1/shopper/token/refresh", "", map[string]any{"refresh_token": login["refresh_token"]})
	if status != http.StatusOK {
		t.Fatalf("refresh = %d %v", status, ref)
	}
	token, _ = ref["access_token"].(string)
	status, out := call("POST", "/api/v1/shopper/signin", token, nil)
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("sign-in the next day = %d %v", status, out)
	}
	if streak, _ := out["streak"].(float64); streak != 2 {
		t.Fatalf("streak after moving a day = %v, want 2 (%v)", out["streak"], out)
	}

	// The order system signs by its own clock, the wall's, not by the
	// demo's moved one: both are accepted, a timestamp off both is not.
	hook := func(n int, ts time.Time) int {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"event_id": fmt.Sprint("clock-ev-", n), "type": "paid", "order_id": fmt.Sprint("CLOCK-", n),
			"member": map[string]string{"openid": "sim-openid-clock-user"}, "occurred_at": a.Clock.Now().UTC().Format(time.RFC3339),
			"total_fen": 1000, "lines": []map[string]any{{"sku": "A", "qty": 1, "amount_fen": 1000}}})
		stamp := strconv.FormatInt(ts.Unix(), 10)
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/hooks/orders", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(hooks.HeaderTimestamp, stamp)
		req.Header.Set(hooks.HeaderSignature, hooks.Sign([]byte(cfg.Orders.WebhookSecret), stamp, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for n, c := range []struct {
		name string
		ts   time.Time
		want int
	}{
		{"signed by the wall clock", time.Now(), http.StatusOK},
		{"signed by the moved clock", a.Clock.Now(), http.StatusOK},
		{"an hour off both", time.Now().Add(-time.Hour), http.StatusUnauthorized},
	} {
		if got := hook(n, c.ts); got != c.want {
			t.Errorf("order event %s, the clock moved 26h: %d, want %d", c.name, got, c.want)
		}
	}
}

// TestClockOffsetIsRefusedInProduction: a production service never runs on
// a shifted clock, and no setting moves it backwards.
func TestClockOffsetIsRefusedInProduction(t *testing.T) {
	for name, mutate := range map[string]func(*configs.Config){
		"production": func(c *configs.Config) { c.MySQL.DSN = "u:p@tcp(db:3306)/jifen"; c.Clock.Offset = time.Hour },
		"negative":   func(c *configs.Config) { c.Clock.Offset = -time.Hour },
	} {
		cfg, err := configs.Load("", nil)
		if err != nil {
			t.Fatal(err)
		}
		mutate(cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "clock.offset") {
			t.Errorf("%s: Validate() = %v, want an error naming clock.offset", name, err)
		}
	}
}
