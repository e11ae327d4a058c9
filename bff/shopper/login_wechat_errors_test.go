package shopper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

// injectFault makes the next n jscode2session calls fail. These tests do not
// run in parallel: the simulator is shared by the whole test process.
func injectFault(t *testing.T, fault map[string]any) {
	t.Helper()
	_, url := apptest.Sim()
	b, _ := json.Marshal(fault)
	resp, err := http.Post(url+"/_sim/faults", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("inject fault: %d", resp.StatusCode)
	}
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, url+"/_sim/faults", nil)
		if r, err := http.DefaultClient.Do(req); err == nil {
			r.Body.Close()
		}
	})
}

func TestLoginMapsWeChatErrors(t *testing.T) {
	h := apptest.New(t)
	cases := []struct {
		name   string
		fault  map[string]any
		status int
		code   string
	}{
		{"rate limited 45011", map[string]any{"api": "jscode2session", "errcode": 45011, "times": 1}, 429, "RATE_LIMITED"},
		{"busy once is retried", map[string]any{"api": "jscode2session", "errcode": -1, "times": 1}, 200, ""},
		{"busy twice", map[string]any{"api": "jscode2session", "errcode": -1, "times": 2}, 503, "UNAVAILABLE"},
		{"http 502", map[string]any{"api": "jscode2session", "http_status": 502, "times": 2}, 503, "UNAVAILABLE"},
		// WeChat's verdict on a high-risk user: no outage, no retry.
		{"code blocked 40226", map[string]any{"api": "jscode2session", "errcode": 40226, "times": 1}, 403, "FORBIDDEN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			injectFault(t, tc.fault)
			r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(apptest.UniqueUser("wxerr"))})
			if r.Status != tc.status || r.ErrorCode() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
			if tc.status == 429 && r.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			if tc.status == 403 && r.Header.Get("Retry-After") != "" {
				t.Fatalf("403 with Retry-After %s", r.Header.Get("Retry-After"))
			}
		})
	}
}

// A mistyped mini-program secret or appid is the operator's to fix:
// WeChat's 40125 (invalid appsecret) and 40013 (invalid appid) answer 503
// MISCONFIGURED, not 401 (the shopper did nothing wrong) nor 500.
func TestLoginWithWrongCredentialsIsMisconfigured(t *testing.T) {
	t.Parallel()
	good := apptest.New(t)
	good.Sim.RegisterApp(good.Config.WeChat.Mini.AppID, string(good.Config.WeChat.Mini.Secret))
	for _, tc := range []struct {
		name   string
		mutate func(*configs.Config)
	}{
		{"wrong secret", func(c *configs.Config) { c.WeChat.Mini.Secret = "mistyped-secret" }},
		{"wrong appid", func(c *configs.Config) { c.WeChat.Mini.AppID = "mini-typo" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := apptest.New(t, tc.mutate)
			user := apptest.UniqueUser("wxcred")
			r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(user)})
			if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "MISCONFIGURED" {
				t.Fatalf("got %d %s, want 503 MISCONFIGURED", r.Status, r.Body)
			}
			var n int64
			h.Env.DB.Conn(context.Background()).Table("members").Count(&n)
			if n != 0 {
				t.Fatalf("%d members created", n)
			}
		})
	}
	if r := good.Do("POST", "/api/v1/shopper/login", map[string]string{"code": good.Code(apptest.UniqueUser("wxcred"))}); r.Status != http.StatusOK {
		t.Fatalf("right credentials: %d %s", r.Status, r.Body)
	}
}
