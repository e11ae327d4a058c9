package bff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo/testenv"
)

// fuzzOp is one operation of docs/openapi.yaml the fuzzer calls.
type fuzzOp struct {
	method, path string
	op           *openapi3.Operation
	params       []*openapi3.Parameter
}

// fuzzer sends random requests, shaped by docs/openapi.yaml and then
// broken in the ways clients and attackers break them: wrong types, huge
// and negative numbers, malformed and oversized JSON, other members' ids,
// forged, missing and wrong-audience tokens, bad signatures.
type fuzzer struct {
	h       *apptest.Harness
	rnd     *rand.Rand
	ops     []fuzzOp
	tokens  map[string]string
	ids     []string
	secrets map[string][]byte
}

func newFuzzer(t *testing.T, h *apptest.Harness, seed uint64) *fuzzer {
	f := &fuzzer{h: h, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), tokens: map[string]string{}}
	f.tokens["console"] = h.ConsoleLogin("admin")
	var me, other int64
	f.tokens["shopper"], _, me = h.Login(apptest.UniqueUser("fuzz"))
	_, _, other = h.Login(apptest.UniqueUser("fuzzother"))
	f.tokens["guide"] = guideToken(t, h, f.tokens["console"])
	f.ids = []string{strconv.FormatInt(me, 10), strconv.FormatInt(other, 10), "1", "2", "0", "-1",
		"9223372036854775807", "9223372036854775808", "abc", "1.5", "%00", "..%2F..", strings.Repeat("9", 300)}
	f.secrets = map[string][]byte{
		"/api/v1/hooks/orders":  []byte(h.Config.Orders.WebhookSecret),
		"/api/v1/hooks/reviews": []byte(h.Config.Tasks.ReviewHookSecret),
	}
	for _, p := range []string{"quote", "holds", "holds/{id}/capture", "holds/{id}/release"} {
		f.secrets["/api/v1/hooks/checkout/"+p] = []byte(h.Config.Orders.WebhookSecret)
	}
	spec := apptest.Spec(t)
	paths := spec.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := spec.Paths.Value(path)
		methods := make([]string, 0)
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			op := item.Operations()[m]
			var params []*openapi3.Parameter
			for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				params = append(params, p.Value)
			}
			f.ops = append(f.ops, fuzzOp{method: m, path: path, op: op, params: params})
		}
	}
	return f
}

func (f *fuzzer) pick(n int) int { return f.rnd.IntN(n) }

// scalar is a value of some JSON type, often not the one asked for.
func (f *fuzzer) scalar() any {
	switch f.pick(12) {
	case 0:
		return nil
	case 1:
		return true
	case 2:
		return -1
	case 3:
		return 0
	case 4:
		return json.Number("9223372036854775808")
	case 5:
		return json.Number("-9223372036854775808")
	case 6:
		return 1.5
	case 7:
		return strings.Repeat("长", 1+f.pick(3000))
	case 8:
		return "2026-13-45"
	case 9:
		return []any{1, "x"}
	case 10:
		return map[string]any{"x": 1}
	default:
		return "<script>'\"%00"
	}
}

// value builds a value for s: most of the time of the right shape, with
// random breakage at every depth.
func (f *fuzzer) value(s *openapi3.Schema, depth int) any {
	if s == nil || depth > 4 || f.pick(8) == 0 {
		return f.scalar()
	}
	if len(s.Enum) > 0 {
		return s.Enum[f.pick(len(s.Enum))]
	}
	switch {
	case s.Type.Is("object") || len(s.Properties) > 0 || len(s.AllOf) > 0:
		out := map[string]any{}
		props := map[string]*openapi3.SchemaRef{}
		for _, sub := range append([]*openapi3.SchemaRef{{Value: s}}, s.AllOf...) {
			for name, p := range sub.Value.Properties {
				props[name] = p
			}
		}
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if f.pick(5) > 0 {
				out[n] = f.value(props[n].Value, depth+1)
			}
		}
		if f.pick(10) == 0 {
			out["unknown_field"] = 1
		}
		return out
	case s.Type.Is("array"):
		n := f.pick(4)
		if f.pick(20) == 0 {
			n = 1000
		}
		out := make([]any, n)
		for i := range out {
			var item *openapi3.Schema
			if s.Items != nil {
				item = s.Items.Value
			}
			out[i] = f.value(item, depth+1)
		}
		return out
	case s.Type.Is("integer"):
		return []any{0, 1, 5, 100, 10000, -5, 1 << 40, json.Number("1000000000000")}[f.pick(8)]
	case s.Type.Is("number"):
		return []any{0.5, 1, -1, 1e300}[f.pick(4)]
	case s.Type.Is("boolean"):
		return f.pick(2) == 0
	case s.Type.Is("string"):
		switch s.Format {
		case "date-time":
			return []string{"2026-11-23T10:00:00+08:00", "2026-12-31T23:59:59Z", "yesterday"}[f.pick(3)]
		case "date":
			return []string{"2026-11-22", "2026-02-30", "2026-11-23"}[f.pick(3)]
		}
		return []string{"", "x", "双十二", "sku-1", strings.Repeat("a", 65), "sim:fuzz:1", "2026-11"}[f.pick(7)]
	}
	return f.scalar()
}

func (f *fuzzer) param(p *openapi3.Parameter) string {
	if p.In == "path" || f.pick(3) == 0 {
		return f.ids[f.pick(len(f.ids))]
	}
	var s *openapi3.Schema
	if p.Schema != nil {
		s = p.Schema.Value
	}
	b, _ := json.Marshal(f.value(s, 3))
	return strings.Trim(string(b), `"`)
}

// request builds one random request for op.
func (f *fuzzer) request(o fuzzOp) *http.Request {
	path := o.path
	query := []string{}
	for _, p := range o.params {
		v := f.param(p)
		switch p.In {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.Name+"}", v)
		case "query":
			if f.pick(2) == 0 {
				query = append(query, p.Name+"="+v)
			}
		}
	}
	if len(query) > 0 {
		path += "?" + strings.Join(query, "&")
	}
	var body []byte
	if o.op.RequestBody != nil || f.pick(10) == 0 {
		switch f.pick(12) {
		case 0:
			body = []byte(`{"delta": 1,`)
		case 1:
			body = []byte(`[]`)
		case 2:
			body = bytes.Repeat([]byte(`{"a":`), 1+f.pick(100000))
		case 3:
			body = append([]byte(`{"reason":"`), append(bytes.Repeat([]byte("x"), 2<<20), '"', '}')...)
		default:
			var s *openapi3.Schema
			if o.op.RequestBody != nil {
				if c := o.op.RequestBody.Value.Content.Get("application/json"); c != nil && c.Schema != nil {
					s = c.Schema.Value
				}
			}
			body, _ = json.Marshal(f.value(s, 0))
		}
	}
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req = httptest.NewRequest(o.method, "http://jifen.test"+escapePath(path), rd)
		req.Header.Set("Content-Type", []string{"application/json", "application/json", "text/plain", "text/xml"}[f.pick(4)])
	} else {
		req = httptest.NewRequest(o.method, "http://jifen.test"+escapePath(path), nil)
	}
	scheme := ""
	if o.op.Security != nil && len(*o.op.Security) > 0 {
		for s := range (*o.op.Security)[0] {
			scheme = s
		}
	}
	switch f.pick(10) {
	case 0: // no token
	case 1:
		req.Header.Set("Authorization", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.")
	case 2: // a token of another audience
		others := []string{"shopper", "console", "guide"}
		req.Header.Set("Authorization", "Bearer "+f.tokens[others[f.pick(3)]])
	default:
		if tok := f.tokens[scheme]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	if f.pick(3) > 0 {
		req.Header.Set("Idempotency-Key", fmt.Sprintf("fuzz-%d", f.pick(50)))
	}
	if secret, ok := f.secrets[o.path]; ok && f.pick(4) > 0 {
		ts := strconv.FormatInt(f.h.Clock.Now().Unix(), 10)
		req.Header.Set("X-Jifen-Timestamp", ts)
		req.Header.Set("X-Jifen-Signature", hooks.Sign(secret, ts, body))
	}
	return req
}

var unsafePath = regexp.MustCompile(`[^A-Za-z0-9/_\-.~%?=&{}]`)

// escapePath percent-encodes what httptest.NewRequest would refuse to parse.
func escapePath(p string) string {
	return unsafePath.ReplaceAllStringFunc(p, func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			fmt.Fprintf(&b, "%%%02X", c)
		}
		return b.String()
	})
}

// fuzzN is the number of requests: 10,000 by default (JIFEN_FUZZ_N).
func fuzzN(t *testing.T) int {
	if s := os.Getenv("JIFEN_FUZZ_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("JIFEN_FUZZ_N=%q", s)
		}
		return n
	}
	return 10000
}

// run sends n requests and returns the answers counted by status; check
// judges each answer.
func (f *fuzzer) run(n int, check func(o fuzzOp, req *http.Request, status int, body []byte)) map[int]int {
	statuses := map[int]int{}
	for i := 0; i < n; i++ {
		o := f.ops[f.pick(len(f.ops))]
		req := f.request(o)
		rec := httptest.NewRecorder()
		f.h.App.Handler.ServeHTTP(rec, req)
		statuses[rec.Code]++
		check(o, req, rec.Code, rec.Body.Bytes())
	}
	return statuses
}

// TestFuzzedRequestsNeverAnswer5xx sends 10,000 random, mostly broken
// requests across every route of docs/openapi.yaml: none answers 5xx, every
// error is the JSON error shape, and the ledger reconciles afterwards. Then
// the database goes away: the same traffic answers only 4xx or 503
// UNAVAILABLE with Retry-After.
func TestFuzzedRequestsNeverAnswer5xx(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.WithProxies())
	h := apptest.NewOn(t, env, func(c *configs.Config) {
		c.RateLimit.PerIPPerMinute = 1 << 30
		c.RateLimit.PerMemberPerMinute = 1 << 30
	})
	f := newFuzzer(t, h, 20261205)
	if len(f.ops) < 80 {
		t.Fatalf("only %d operations in docs/openapi.yaml", len(f.ops))
	}
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	shape := func(o fuzzOp, req *http.Request, status int, body []byte) {
		if status < 400 || !strings.HasPrefix(req.URL.Path, "/api/") || len(body) == 0 {
			return
		}
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
			report("%s %s → %d without the error shape: %.200s", req.Method, req.URL, status, body)
		}
	}
	statuses := f.run(fuzzN(t), func(o fuzzOp, req *http.Request, status int, body []byte) {
		if status >= 500 {
			report("%s %s (%s %s) → %d: %.300s", req.Method, req.URL, o.method, o.path, status, body)
		}
		shape(o, req, status, body)
	})
	t.Logf("%s: statuses %v", env.Backend, statuses)
	if statuses[200]+statuses[201]+statuses[204] == 0 {
		t.Errorf("no request succeeded: the fuzzer only knocks on closed doors")
	}
	drift := 0
	if _, err := h.App.Ledger.CheckAll(context.Background(), 500, func(id int64, vs []ledger.Violation) {
		for _, v := range vs {
			drift++
			t.Errorf("reconcile: member %d: %s (%s)", v.MemberID, v.Rule, v.Detail)
		}
	}); err != nil {
		t.Fatalf("reconcile: %v", err)
	}

	// The database goes away.
	if env.SQLProxy != nil {
		env.SQLProxy.Cut()
	} else {
		env.DB.Close()
	}
	out := f.run(fuzzN(t)/10, func(o fuzzOp, req *http.Request, status int, body []byte) {
		if status >= 500 && status != http.StatusServiceUnavailable {
			report("database down: %s %s (%s %s) → %d: %.300s", req.Method, req.URL, o.method, o.path, status, body)
		}
		if status == http.StatusServiceUnavailable && strings.HasPrefix(req.URL.Path, "/api/") {
			var e struct {
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			_ = json.Unmarshal(body, &e)
			if e.Error.Code != "UNAVAILABLE" {
				report("database down: %s %s → 503 %q, want UNAVAILABLE", req.Method, req.URL, e.Error.Code)
			}
		}
		shape(o, req, status, body)
	})
	t.Logf("%s, database down: statuses %v", env.Backend, out)
	if out[http.StatusServiceUnavailable] == 0 {
		t.Errorf("with the database down no request answered 503: the outage was not reached")
	}
}
