package bff_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	if r := h.Do("GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := h.Do("GET", "/readyz", nil); r.Status != 200 || r.JSON()["status"] != "ready" {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	h.DoInvalid("POST", "/api/v1/shopper/login", `{`)
	// Metrics are on the admin listener (server.metrics_addr), not here.
	if r := h.DoInvalid("GET", "/metrics", nil); r.Status != 404 {
		t.Fatalf("public /metrics: %d, want 404", r.Status)
	}
	rec := httptest.NewRecorder()
	h.App.Admin.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `jifen_http_requests_total{method="POST",route="/api/v1/shopper/login",status="400"} 1`) {
		t.Fatalf("metrics do not count the login by route and status:\n%s", rec.Body)
	}
	if r := h.Do("GET", "/api/v1/nope", nil); r.Status != 404 || r.ErrorCode() != "NOT_FOUND" {
		t.Fatalf("unknown route: %d %s", r.Status, r.Body)
	}
	// A known route with another method: 405 in the one error shape.
	if r := h.DoInvalid("DELETE", "/healthz", ""); r.Status != 405 || r.ErrorCode() != "METHOD_NOT_ALLOWED" || r.JSON()["request_id"] == "" {
		t.Fatalf("wrong method: %d %s", r.Status, r.Body)
	}
}

// Redis is a cache: without it the service is degraded but ready, or a
// shared Redis outage would take every instance out of the load balancer.
func TestReadyzWithRedisDown(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	if h.Env.Mini == nil {
		// Real Redis in CI: stop talking to it by closing our client instead.
		h.Env.Redis.C.Close()
	} else {
		h.Env.Mini.Close()
	}
	r := h.Do("GET", "/readyz", nil)
	if deg, _ := r.JSON()["degraded"].(map[string]any); r.Status != 200 || deg["redis"] == nil {
		t.Fatalf("readyz with Redis down: %d %s; want 200 degraded redis", r.Status, r.Body)
	}
}

func TestRateLimitPerIP(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) { c.RateLimit.PerIPPerMinute = 3 })
	var last int
	var retry string
	for i := 0; i < 5; i++ {
		r := h.DoInvalid("POST", "/api/v1/shopper/login", `{`)
		last, retry = r.Status, r.Header.Get("Retry-After")
	}
	if last != 429 || retry == "" {
		t.Fatalf("6th request in a minute: %d Retry-After=%q", last, retry)
	}
}

func TestRateLimitPerMember(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) { c.RateLimit.PerMemberPerMinute = 2 })
	tok, _, _ := h.Login(apptest.UniqueUser("rl"))
	codes := []int{}
	for i := 0; i < 4; i++ {
		codes = append(codes, h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...).Status)
	}
	if codes[0] != 200 || codes[3] != 429 {
		t.Fatalf("statuses %v, want 200 first and 429 last", codes)
	}
}

// X-Forwarded-For and X-Real-IP name the client only when the peer is a
// trusted proxy: from anyone else (the default trusts nobody) a forged
// header does not pick a fresh per-IP rate-limit key.
func TestRateLimitPerIPIgnoresForgedForwarding(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) { c.RateLimit.PerIPPerMinute = 3 })
	var last *apptest.Response
	for i := 0; i < 5; i++ {
		last = h.DoInvalid("POST", "/api/v1/shopper/login", `{`,
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1), "X-Real-IP", fmt.Sprintf("198.51.100.%d", i+1))
	}
	if last.Status != 429 {
		t.Fatalf("5th request in a minute from one peer with forged forwarding headers: %d; want 429", last.Status)
	}
}

func TestRateLimitPerIPBelievesTrustedProxy(t *testing.T) {
	t.Parallel()
	// httptest's requests come from 192.0.2.1.
	h := apptest.New(t, func(c *configs.Config) {
		c.RateLimit.PerIPPerMinute = 3
		c.Server.TrustedProxies = []string{"192.0.2.0/24"}
	})
	send := func(client string) int {
		return h.DoInvalid("POST", "/api/v1/shopper/login", `{`, "X-Forwarded-For", client).Status
	}
	for i := 0; i < 3; i++ {
		if st := send("203.0.113.7"); st != 400 {
			t.Fatalf("request %d of the client: %d", i+1, st)
		}
	}
	if st := send("203.0.113.7"); st != 429 {
		t.Fatalf("4th request of the client behind the proxy: %d; want 429", st)
	}
	if st := send("203.0.113.8"); st != 400 {
		t.Fatalf("another client behind the same proxy: %d; want its own limit (400 for the bad body)", st)
	}
}

// Every answer says not to sniff its type; none may be cached, least of all
// one that carries tokens.
func TestAnswersAreNotSniffedOrCached(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	login := h.Do("POST", "/api/v1/shopper/login", map[string]any{"code": h.Code(apptest.UniqueUser("hdr"))})
	if login.Status != 200 {
		t.Fatalf("login %d %s", login.Status, login.Body)
	}
	refresh := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]any{"refresh_token": login.JSON()["refresh_token"]})
	for name, r := range map[string]*apptest.Response{
		"login": login, "refresh": refresh,
		"error":   h.DoInvalid("POST", "/api/v1/shopper/login", `{`),
		"healthz": h.Do("GET", "/healthz", nil),
		"console": h.Do("POST", "/api/v1/console/login", map[string]any{"username": "admin", "password": "admin123"}),
	} {
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", name, got)
		}
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q", name, got)
		}
	}
}

// A path with a trailing slash is a 404 in the error shape, not gin's
// redirect with an HTML (GET) or empty (POST) body; only the console's
// bare /console is sent on to its page.
func TestTrailingSlashIsNotFoundNotARedirect(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	access, _, _ := h.Login(apptest.UniqueUser("slash"))
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/shopper/me/"},
		{"POST", "/api/v1/shopper/signin/"},
		{"POST", "/api/v1/hooks/orders/"},
		{"GET", "/api/v1/shopper/me%2F"}, // routes match the escaped path: an escaped slash too
	} {
		// Past the harness: its spec check ignores the trailing slash.
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(c.method, c.path, nil)
		req.Header.Set("Authorization", "Bearer "+access)
		h.App.Handler.ServeHTTP(rec, req)
		r := &apptest.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		if r.Status != 404 || r.ErrorCode() != "NOT_FOUND" || r.Header.Get("Location") != "" {
			t.Errorf("%s %s: %d %q Location %q; want 404 NOT_FOUND, no redirect", c.method, c.path, r.Status, r.Body, r.Header.Get("Location"))
		}
	}
	rec := httptest.NewRecorder()
	h.App.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/console", nil))
	if rec.Code != 303 || rec.Header().Get("Location") != "/console/" {
		t.Fatalf("GET /console: %d Location %q; want 303 to /console/", rec.Code, rec.Header().Get("Location"))
	}
	// A parameter with an escaped slash is one segment, for the 405 too.
	rec = httptest.NewRecorder()
	h.App.Handler.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/shopper/orders/A%2Fx/points", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET" {
		t.Fatalf("POST /api/v1/shopper/orders/A%%2Fx/points: %d Allow %q; want 405, Allow GET", rec.Code, rec.Header().Get("Allow"))
	}
}

// The method is the client's to choose: made-up methods are counted under
// one label, or every new one would add series to /metrics for good.
func TestMadeUpMethodsDoNotGrowMetrics(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	for i := range 20 {
		rec := httptest.NewRecorder()
		h.App.Handler.ServeHTTP(rec, httptest.NewRequest(fmt.Sprintf("M%05d", i), "/healthz", nil))
		if rec.Code != 405 {
			t.Fatalf("made-up method: %d, want 405", rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.App.Admin.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if strings.Contains(body, `method="M0`) || !strings.Contains(body, `jifen_http_requests_total{method="OTHER",route="unmatched",status="405"} 20`) {
		t.Fatalf("made-up methods are not counted under OTHER:\n%s", grepLines(body, "jifen_http_requests_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
