// Package apptest runs the whole wired service in a test: real stores from
// testenv (SQLite + miniredis, or MariaDB + Redis in CI), the WeChat
// simulator behind the real SDK, a fake clock, and every response checked
// against docs/openapi.yaml so the document cannot drift from the code.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"log/slog"

	"github.com/jifen/jifen/cmd/jifen/app"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/docs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/repo/testenv"
	"github.com/jifen/jifen/wechat"
	"github.com/jifen/jifen/wechat/sim"
)

var (
	simOnce   sync.Once
	simServer *sim.Server
	simURL    string
	specOnce  sync.Once
	specRoute routers.Router
	specDoc   *openapi3.T
	specErr   error
	nonce     atomic.Int64
)

// Sim returns the process-wide simulator every harness talks to (the SDK's
// HTTP client is process-global).
func Sim() (*sim.Server, string) {
	simOnce.Do(func() {
		simServer = sim.New(time.Now)
		srv := httptest.NewServer(simServer)
		simURL = srv.URL
		if err := wechat.UseSimulator(srv.URL); err != nil {
			panic(err) // httptest URLs are always valid
		}
	})
	return simServer, simURL
}

func router() (routers.Router, error) {
	specOnce.Do(func() {
		// WeChat and WeCom callbacks post XML: checked as an opaque string.
		openapi3filter.RegisterBodyDecoder("text/xml", openapi3filter.FileBodyDecoder)
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(docs.OpenAPI)
		if err != nil {
			specErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			specErr = fmt.Errorf("openapi.yaml invalid: %w", err)
			return
		}
		doc.Servers = nil
		specDoc = doc
		specRoute, specErr = legacy.NewRouter(doc)
	})
	return specRoute, specErr
}

// Spec is docs/openapi.yaml, loaded and validated once per process.
func Spec(t testing.TB) *openapi3.T {
	t.Helper()
	if _, err := router(); err != nil {
		t.Fatalf("openapi: %v", err)
	}
	return specDoc
}

// Harness is one test's running service.
type Harness struct {
	T      testing.TB
	Env    *testenv.Env
	Config *configs.Config
	Clock  *domain.FakeClock
	App    *app.App
	Sim    *sim.Server
}

// Start is 2026-11-23 10:00 Asia/Shanghai, a Monday.
var Start = time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai)

// New starts the service on fresh stores. mutate, when given, edits the
// configuration before wiring.
func New(t testing.TB, mutate ...func(*configs.Config)) *Harness {
	t.Helper()
	return NewOn(t, testenv.New(t), mutate...)
}

// NewOn is New on stores the test built itself (testenv.New with options,
// e.g. WithProxies to take MariaDB or Redis away mid-test).
func NewOn(t testing.TB, env *testenv.Env, mutate ...func(*configs.Config)) *Harness {
	t.Helper()
	cfg, err := configs.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mutate {
		m(cfg)
	}
	return start(t, env, cfg, domain.NewFakeClock(Start))
}

// Instance is another instance of the same service, as a second `jifen
// serve` behind the load balancer: the same configuration and clock, on
// env, which is h.Env.Instance(t) (the same database and Redis through
// connections of its own, so a test can cut one instance's Redis).
func (h *Harness) Instance(env *testenv.Env) *Harness {
	h.T.Helper()
	cfg := *h.Config
	return start(h.T, env, &cfg, h.Clock)
}

// start wires the service on env and runs what `jifen serve` runs beside
// its requests (App.Start) until the test ends.
func start(t testing.TB, env *testenv.Env, cfg *configs.Config, clock *domain.FakeClock) *Harness {
	t.Helper()
	s, url := Sim()
	// The shared simulator delivers this service's pay notifications to
	// it in process, by the notify_url's host.
	payHost := fmt.Sprintf("h%d.apptest", nonce.Add(1))
	cfg.WeChat.Pay.NotifyURL = "http://" + payHost + app.PayNotifyPath
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if os.Getenv("JIFEN_TEST_LOG") != "" {
		logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	a, err := app.New(cfg, &app.Stores{DB: env.DB, Redis: env.Redis, RedisMerges: env.RedisMerges}, app.Options{Clock: clock, Logger: logger, SimulatorURL: url})
	if err != nil {
		t.Fatal(err)
	}
	s.DeliverPayNotifications(payHost, a.Handler)
	ctx, stop := context.WithCancel(context.Background())
	wait := a.Start(ctx)
	t.Cleanup(func() { stop(); wait() })
	return &Harness{T: t, Env: env, Config: cfg, Clock: clock, App: a, Sim: s}
}

// Response is a recorded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *Response) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Decode decodes the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ErrorCode is error.code of an error answer.
func (r *Response) ErrorCode() string {
	e, _ := r.JSON()["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// Fields is error.fields of an error answer (nil otherwise).
func (r *Response) Fields() map[string]any {
	e, _ := r.JSON()["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

// Do sends a request. body may be nil, a string/[]byte sent verbatim (as
// text/xml when it starts with '<'), or a value marshalled to JSON. headers are name, value pairs. The request must
// match docs/openapi.yaml (a test that means to send a bad one uses
// DoInvalid) and so must the response.
func (h *Harness) Do(method, path string, body any, headers ...string) *Response {
	h.T.Helper()
	return h.do(true, method, path, body, headers)
}

// DoInvalid sends a request the test means to be bad (malformed JSON, a
// missing field, a wrong type, no Idempotency-Key…). It opts that one request
// out of the spec check, and fails the test if the request in fact matches
// docs/openapi.yaml: then the spec allows what the test expects the service
// to refuse, and one of the two is wrong. The response is still checked.
func (h *Harness) DoInvalid(method, path string, body any, headers ...string) *Response {
	h.T.Helper()
	return h.do(false, method, path, body, headers)
}

// Send is Do when specValid, else DoInvalid: for tables that mix requests
// the spec allows (refused for reasons it cannot express: auth, state,
// other members' ids) with requests it forbids.
func (h *Harness) Send(specValid bool, method, path string, body any, headers ...string) *Response {
	h.T.Helper()
	return h.do(specValid, method, path, body, headers)
}

func (h *Harness) do(valid bool, method, path string, body any, headers []string) *Response {
	h.T.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			h.T.Fatalf("marshal request body: %v", err)
		}
	}
	build := func() *http.Request {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(raw)
		}
		req := httptest.NewRequest(method, path, rd)
		if body != nil {
			req.Header.Set("Content-Type", contentType(raw))
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return req
	}
	req := build()
	h.checkRequest(valid, build(), raw)
	rec := httptest.NewRecorder()
	h.App.Handler.ServeHTTP(rec, req)
	resp := &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	h.validate(req, resp)
	return resp
}

// contentType is text/xml for an XML body (the WeChat and WeCom callbacks),
// else application/json; a test may still set its own header.
func contentType(raw []byte) string {
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("<")) {
		return "text/xml"
	}
	return "application/json"
}

// checkRequest validates req (its body included) against the spec: a
// request the spec does not describe fails the test unless the test said it
// is meant to be invalid, and then it must really be invalid.
func (h *Harness) checkRequest(valid bool, req *http.Request, raw []byte) {
	h.T.Helper()
	rt, err := router()
	if err != nil {
		h.T.Fatalf("openapi: %v", err)
	}
	route, params, err := findRoute(rt, req)
	if err != nil {
		// An unknown route or method: validate() fails the test unless the
		// service answered 404/405, with the answer in the message.
		return
	}
	err = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	})
	switch {
	case valid && err != nil:
		h.T.Errorf("%s %s: the request does not match docs/openapi.yaml (use DoInvalid for a request meant to be bad): %v", req.Method, req.URL.Path, err)
	case !valid && err == nil:
		h.T.Errorf("%s %s: DoInvalid sent a request that matches docs/openapi.yaml: the spec allows what the test expects to be refused (body %s)", req.Method, req.URL.Path, raw)
	}
}

// findRoute finds req's operation in the spec as bff's router does: on
// the escaped path, so that an escaped "/" (%2F) stays inside its
// parameter, then the parameters unescaped.
func findRoute(rt routers.Router, req *http.Request) (*routers.Route, map[string]string, error) {
	sent := req.Clone(req.Context())
	u := *req.URL
	u.Path, u.RawPath = req.URL.EscapedPath(), ""
	sent.URL = &u
	route, params, err := rt.FindRoute(sent)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range params {
		if params[k], err = url.PathUnescape(v); err != nil {
			return nil, nil, err
		}
	}
	return route, params, nil
}

// Auth returns the Authorization header pair for a bearer token.
func Auth(token string) []string { return []string{"Authorization", "Bearer " + token} }

func (h *Harness) validate(req *http.Request, resp *Response) {
	h.T.Helper()
	rt, err := router()
	if err != nil {
		h.T.Fatalf("openapi: %v", err)
	}
	vreq := req.Clone(context.Background())
	vreq.Body = http.NoBody
	route, params, err := findRoute(rt, vreq)
	if err != nil {
		if resp.Status == http.StatusNotFound || resp.Status == http.StatusMethodNotAllowed {
			return // an unknown route answered as such
		}
		h.T.Fatalf("%s %s is not described in docs/openapi.yaml: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  resp.Status,
		Header:  resp.Header,
		Body:    io.NopCloser(bytes.NewReader(resp.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		h.T.Fatalf("%s %s → %d does not match docs/openapi.yaml: %v\nbody: %s", req.Method, req.URL.Path, resp.Status, err, resp.Body)
	}
}

// Login logs a new simulated WeChat user in and returns the tokens and
// member id. user must be unique per test (e.g. t.Name()).
func (h *Harness) Login(user string) (access, refresh string, memberID int64) {
	h.T.Helper()
	r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(user)})
	if r.Status != http.StatusOK {
		h.T.Fatalf("login %s: %d %s", user, r.Status, r.Body)
	}
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Member       struct {
			ID int64 `json:"id"`
		} `json:"member"`
	}
	r.Decode(h.T, &out)
	return out.AccessToken, out.RefreshToken, out.Member.ID
}

// LoginJoined is Login for a member who joined at joined: the first login
// runs with the clock there, then the clock comes back and the member logs
// in again for tokens valid now (a make-up sign-in, say, may only fill
// days since the member joined).
func (h *Harness) LoginJoined(user string, joined time.Time) (access, refresh string, memberID int64) {
	h.T.Helper()
	now := h.Clock.Now()
	h.Clock.Set(joined)
	h.Login(user)
	h.Clock.Set(now)
	return h.Login(user)
}

// MonthStart is 09:00 on the first day of Start's month, a join date that
// lets a test make up any day of the month before Start.
var MonthStart = time.Date(Start.Year(), Start.Month(), 1, 9, 0, 0, 0, Start.Location())

// PhoneCode is a getPhoneNumber code for phone, issued now: it works once,
// for five minutes, as WeChat's.
func (h *Harness) PhoneCode(phone string) string {
	return h.Sim.PhoneCode(phone, time.Time{})
}

// Code returns a fresh simulator login code for user.
func (h *Harness) Code(user string) string {
	return fmt.Sprintf("sim:%s:%d", user, nonce.Add(1))
}

// UniqueUser returns a simulator user name unique in this process.
func UniqueUser(prefix string) string {
	return fmt.Sprintf("%s%d-%d", prefix, time.Now().UnixNano()%1e9, nonce.Add(1))
}

// ConsoleLogin logs a demo console user in (admin, marketer or auditor; the
// embedded default's demo users) and returns the access token.
func (h *Harness) ConsoleLogin(username string) string {
	h.T.Helper()
	r := h.Do("POST", "/api/v1/console/login", map[string]string{"username": username, "password": username + "123"})
	if r.Status != http.StatusOK {
		h.T.Fatalf("console login %s: %d %s", username, r.Status, r.Body)
	}
	return r.JSON()["access_token"].(string)
}
