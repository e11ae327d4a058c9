// Package bfftest runs the whole wired service in a test: real stores from
// testenv (SQLite + miniredis, or MariaDB + Redis in CI), the WeChat
// simulator behind the real SDK, a fake clock, and every response checked
// against docs/openapi.yaml so the document cannot drift from the code.
package bfftest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
		specRoute, specErr = legacy.NewRouter(doc)
	})
	return specRoute, specErr
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
	s, url := Sim()
	env := testenv.New(t)
	cfg, err := configs.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mutate {
		m(cfg)
	}
	clock := domain.NewFakeClock(Start)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if os.Getenv("JIFEN_TEST_LOG") != "" {
		logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	a, err := app.New(cfg, &app.Stores{DB: env.DB, Redis: env.Redis}, app.Options{Clock: clock, Logger: logger, SimulatorURL: url})
	if err != nil {
		t.Fatal(err)
	}
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

// Do sends a request. body may be nil, a string/[]byte sent verbatim, or a
// value marshalled to JSON. headers are name, value pairs. The response is
// validated against docs/openapi.yaml.
func (h *Harness) Do(method, path string, body any, headers ...string) *Response {
	h.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.App.Handler.ServeHTTP(rec, req)
	resp := &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	h.validate(req, resp)
	return resp
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
	route, params, err := rt.FindRoute(vreq)
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
