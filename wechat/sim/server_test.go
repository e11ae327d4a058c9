package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// client talks to one simulator over real HTTP.
type client struct {
	t   *testing.T
	srv *httptest.Server
	sim *Server
}

func newClient(t *testing.T, clock func() time.Time) *client {
	t.Helper()
	s := New(clock)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &client{t: t, srv: srv, sim: s}
}

// do sends one request and decodes a JSON object answer (nil for none).
func (c *client) do(method, host, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, bytes.NewBufferString(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if host != "" {
		req.Header.Set(HostHeader, host)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	var m map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, m
}

func (c *client) token(appID string) string {
	c.t.Helper()
	_, m := c.do("GET", "", "/_sim/cgi-bin/token?grant_type=client_credential&appid="+appID+"&secret=s", "")
	tok, _ := m["access_token"].(string)
	if tok == "" {
		c.t.Fatalf("no token: %v", m)
	}
	return tok
}

func (c *client) fault(f string) {
	c.t.Helper()
	if st, m := c.do("POST", "", "/_sim/faults", f); st != http.StatusCreated {
		c.t.Fatalf("add fault %s: %d %v", f, st, m)
	}
}

func errcode(m map[string]any) int {
	n, _ := m["errcode"].(float64)
	return int(n)
}

type row struct {
	name       string
	method     string
	host       string
	path       string
	body       string
	wantStatus int
	wantCode   int
	check      func(t *testing.T, m map[string]any)
}

// run plays rows in order against c: rows may depend on earlier ones.
func (c *client) run(rows []row) {
	for _, r := range rows {
		c.t.Run(r.name, func(t *testing.T) {
			method := r.method
			if method == "" {
				method = "GET"
			}
			want := r.wantStatus
			if want == 0 {
				want = http.StatusOK
			}
			st, m := c.do(method, r.host, r.path, r.body)
			if st != want || errcode(m) != r.wantCode {
				t.Fatalf("got HTTP %d errcode %d (%v), want HTTP %d errcode %d", st, errcode(m), m, want, r.wantCode)
			}
			if r.wantCode != 0 {
				if msg, _ := m["errmsg"].(string); msg == "" {
					t.Errorf("errcode %d without errmsg", r.wantCode)
				}
			}
			if r.check != nil {
				r.check(t, m)
			}
		})
	}
}

func TestToken(t *testing.T) {
	c := newClient(t, nil)
	c.run([]row{
		{name: "ok", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s", check: func(t *testing.T, m map[string]any) {
			if tok, _ := m["access_token"].(string); len(tok) < 32 {
				t.Errorf("access_token %q", tok)
			}
			if m["expires_in"] != 7200.0 {
				t.Errorf("expires_in %v", m["expires_in"])
			}
		}},
		{name: "explicit host", host: HostWeChat, path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s"},
		{name: "bad secret", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=bad", wantCode: 40125},
		{name: "no appid", path: "/_sim/cgi-bin/token?grant_type=client_credential&secret=s", wantCode: 41002},
		{name: "no secret", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wx1", wantCode: 41004},
		{name: "wrong grant", path: "/_sim/cgi-bin/token?grant_type=x&appid=wx1&secret=s", wantCode: 40002},
		{name: "POST", method: "POST", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s", wantCode: 43001},
		{name: "not on WeCom", host: HostWeCom, path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s", wantStatus: 404, wantCode: 40066},
		{name: "no prefix", path: "/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s", wantStatus: 404, wantCode: 40066},
		{name: "unknown API", path: "/_sim/cgi-bin/nothing", wantStatus: 404, wantCode: 40066},
	})
}

func TestWorkToken(t *testing.T) {
	c := newClient(t, nil)
	c.run([]row{
		{name: "ok", host: HostWeCom, path: "/_sim/cgi-bin/gettoken?corpid=ww1&corpsecret=s", check: func(t *testing.T, m map[string]any) {
			if m["errmsg"] != "ok" || m["access_token"] == "" || m["expires_in"] != 7200.0 {
				t.Errorf("reply %v", m)
			}
		}},
		{name: "bad secret", host: HostWeCom, path: "/_sim/cgi-bin/gettoken?corpid=ww1&corpsecret=bad", wantCode: 40001},
		{name: "no corpid", host: HostWeCom, path: "/_sim/cgi-bin/gettoken?corpsecret=s", wantCode: 41002},
		{name: "no secret", host: HostWeCom, path: "/_sim/cgi-bin/gettoken?corpid=ww1", wantCode: 41004},
		{name: "not on WeChat", path: "/_sim/cgi-bin/gettoken?corpid=ww1&corpsecret=s", wantStatus: 404, wantCode: 40066},
	})
}

func TestJSCode2Session(t *testing.T) {
	c := newClient(t, nil)
	login := func(code string) string {
		return "/_sim/sns/jscode2session?appid=wx1&secret=s&grant_type=authorization_code&js_code=" + url.QueryEscape(code)
	}
	c.run([]row{
		{name: "ok", path: login("sim:alice:1"), check: func(t *testing.T, m map[string]any) {
			if m["openid"] != "sim-openid-alice" || m["unionid"] != "sim-unionid-alice" {
				t.Errorf("reply %v", m)
			}
			key, _ := base64.StdEncoding.DecodeString(m["session_key"].(string))
			if len(key) != 16 {
				t.Errorf("session_key %v", m["session_key"])
			}
		}},
		{name: "same code again", path: login("sim:alice:1"), wantCode: 40163},
		{name: "same user new nonce", path: login("sim:alice:2"), check: func(t *testing.T, m map[string]any) {
			if m["openid"] != "sim-openid-alice" {
				t.Errorf("reply %v", m)
			}
		}},
		{name: "nonce with colon", path: login("sim:bob:a:b")},
		{name: "bad", path: login("bad-code"), wantCode: 40029},
		{name: "bad shaped like sim", path: login("badsim:carol:1"), wantCode: 40029},
		{name: "no nonce", path: login("sim:carol"), wantCode: 40029},
		{name: "empty user", path: login("sim::1"), wantCode: 40029},
		{name: "other shape", path: login("0a1b2c"), wantCode: 40029},
		{name: "no code", path: "/_sim/sns/jscode2session?appid=wx1&secret=s&grant_type=authorization_code", wantCode: 41008},
		{name: "bad secret", path: "/_sim/sns/jscode2session?appid=wx1&secret=bad&grant_type=authorization_code&js_code=sim:dan:1", wantCode: 40125},
		{name: "bad secret did not use the code", path: login("sim:dan:1")},
		{name: "wrong grant", path: "/_sim/sns/jscode2session?appid=wx1&secret=s&grant_type=x&js_code=sim:erin:1", wantCode: 40002},
		{name: "another secret for a known appid", path: "/_sim/sns/jscode2session?appid=wx1&secret=s2&grant_type=authorization_code&js_code=sim:fay:1", wantCode: 40125},
		{name: "another secret did not use the code", path: login("sim:fay:1")},
		{name: "not an appid", path: "/_sim/sns/jscode2session?appid=ww1&secret=s&grant_type=authorization_code&js_code=sim:gus:1", wantCode: 40013},
	})
}

// An app's secret is the one RegisterApp named, or else the first one a
// call used; the token APIs and jscode2session refuse any other.
func TestAppSecrets(t *testing.T) {
	c := newClient(t, nil)
	c.sim.RegisterApp("wxreg", "right")
	c.run([]row{
		{name: "registered, wrong", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wxreg&secret=s", wantCode: 40125},
		{name: "registered, right", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wxreg&secret=right"},
		{name: "stable_token, wrong", method: "POST", path: "/_sim/cgi-bin/stable_token", body: `{"grant_type":"client_credential","appid":"wxreg","secret":"s"}`, wantCode: 40125},
		{name: "first use learns", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wxnew&secret=first"},
		{name: "then refuses another", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wxnew&secret=second", wantCode: 40125},
		{name: "bad is never learned", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wxbad&secret=bad", wantCode: 40125},
		{name: "so another still works", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wxbad&secret=good"},
		{name: "not an appid", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=ww9&secret=s", wantCode: 40013},
	})
}

func TestJSCode2SessionOnceUnderConcurrency(t *testing.T) {
	c := newClient(t, nil)
	var ok, used atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := http.Get(c.srv.URL + "/_sim/sns/jscode2session?appid=wx1&secret=s&grant_type=authorization_code&js_code=sim:zed:1")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			switch errcode(m) {
			case 0:
				ok.Add(1)
			case 40163:
				used.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || used.Load() != 19 {
		t.Fatalf("ok %d, used %d; want 1 and 19", ok.Load(), used.Load())
	}
}

func TestGetUserPhoneNumber(t *testing.T) {
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	c := newClient(t, func() time.Time { return now })
	tok := c.token("wxphone")
	_, wm := c.do("GET", HostWeCom, "/_sim/cgi-bin/gettoken?corpid=ww1&corpsecret=s", "")
	workTok := wm["access_token"].(string)
	path := "/_sim/wxa/business/getuserphonenumber?access_token="
	c.run([]row{
		{name: "ok", method: "POST", path: path + tok, body: `{"code":"sim-phone:13800001111"}`, check: func(t *testing.T, m map[string]any) {
			info, _ := m["phone_info"].(map[string]any)
			wmark, _ := info["watermark"].(map[string]any)
			if m["errmsg"] != "ok" || info["phoneNumber"] != "13800001111" || info["purePhoneNumber"] != "13800001111" ||
				info["countryCode"] != "86" || wmark["appid"] != "wxphone" || wmark["timestamp"] != float64(now.Unix()) {
				t.Errorf("reply %v", m)
			}
		}},
		{name: "same code again", method: "POST", path: path + tok, body: `{"code":"sim-phone:13800001111"}`, wantCode: 40029},
		{name: "same number, another code", method: "POST", path: path + tok, body: `{"code":"sim-phone:13800001111:2"}`},
		{name: "ten digits", method: "POST", path: path + tok, body: `{"code":"sim-phone:1380000111"}`, wantCode: 40029},
		{name: "letters", method: "POST", path: path + tok, body: `{"code":"sim-phone:1380000111x"}`, wantCode: 40029},
		{name: "login code", method: "POST", path: path + tok, body: `{"code":"sim:alice:1"}`, wantCode: 40029},
		{name: "not JSON", method: "POST", path: path + tok, body: `code=sim-phone:13800001111`, wantCode: 47001},
		{name: "GET", path: path + tok, wantCode: 43002},
		{name: "no token", method: "POST", path: "/_sim/wxa/business/getuserphonenumber", body: `{"code":"sim-phone:13800001111"}`, wantCode: 41001},
		{name: "unknown token", method: "POST", path: path + "nope", body: `{"code":"sim-phone:13800001111"}`, wantCode: 40001},
		{name: "WeCom token", method: "POST", path: path + workTok, body: `{"code":"sim-phone:13800001111"}`, wantCode: 40001},
	})
}

// A getPhoneNumber code works once and for five minutes from its issue, as
// WeChat documents; WeChat answers 40029 for a used or expired one.
func TestPhoneCodesOnceAndFiveMinutes(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := newClient(t, clock)
	tok := c.token("wxphone")
	use := func(code string) int {
		_, m := c.do("POST", "", "/_sim/wxa/business/getuserphonenumber?access_token="+tok, `{"code":"`+code+`"}`)
		return errcode(m)
	}
	fresh := c.sim.PhoneCode("13800002222", time.Time{})
	almost := c.sim.PhoneCode("13800002222", now.Add(-phoneCodeTTL+time.Second))
	expired := c.sim.PhoneCode("13800002222", now.Add(-phoneCodeTTL))
	if got := use(fresh); got != 0 {
		t.Fatalf("fresh code: %d", got)
	}
	if got := use(fresh); got != 40029 {
		t.Fatalf("used code: %d, want 40029", got)
	}
	if got := use(almost); got != 0 {
		t.Fatalf("code 4m59s old: %d", got)
	}
	if got := use(expired); got != 40029 {
		t.Fatalf("code 5 min old: %d, want 40029", got)
	}
	st, m := c.do("POST", "", "/_sim/phone_codes", `{"phone":"13800003333","issued_at":"2025-03-01T09:54:00Z"}`)
	if st != http.StatusCreated {
		t.Fatalf("POST /_sim/phone_codes: %d %v", st, m)
	}
	if got := use(m["code"].(string)); got != 40029 {
		t.Fatalf("code issued 6 min ago through the control: %d, want 40029", got)
	}
	_, m = c.do("POST", "", "/_sim/phone_codes", `{"phone":"13800003333"}`)
	if got := use(m["code"].(string)); got != 0 {
		t.Fatalf("code issued now through the control: %d", got)
	}
	for _, bad := range []string{`{"phone":"123"}`, `{"phone":"13800003333","x":1}`, `nope`} {
		if st, _ := c.do("POST", "", "/_sim/phone_codes", bad); st != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400", bad, st)
		}
	}
}

func TestTokenExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	c := newClient(t, clock)
	phone := func(tok string) int {
		code := c.sim.PhoneCode("13800001111", time.Time{})
		_, m := c.do("POST", "", "/_sim/wxa/business/getuserphonenumber?access_token="+tok, `{"code":"`+code+`"}`)
		return errcode(m)
	}

	tok := c.token("wx1")
	advance(7199 * time.Second)
	if got := phone(tok); got != 0 {
		t.Fatalf("at 7199 s: errcode %d", got)
	}
	advance(time.Second)
	if got := phone(tok); got != 42001 {
		t.Fatalf("at 7200 s: errcode %d, want 42001", got)
	}

	tok = c.token("wx1")
	if st, _ := c.do("POST", "", "/_sim/tokens/expire", ""); st != http.StatusNoContent {
		t.Fatalf("expire: HTTP %d", st)
	}
	if got := phone(tok); got != 40001 {
		t.Fatalf("after expire: errcode %d, want 40001", got)
	}
	if got := phone(c.token("wx1")); got != 0 {
		t.Fatalf("new token: errcode %d", got)
	}
	if st, _ := c.do("GET", "", "/_sim/tokens/expire", ""); st != http.StatusMethodNotAllowed {
		t.Fatalf("GET expire: HTTP %d", st)
	}
}

func TestFaults(t *testing.T) {
	c := newClient(t, nil)
	login := func(code string) string {
		return "/_sim/sns/jscode2session?appid=wx1&secret=s&grant_type=authorization_code&js_code=" + code
	}

	c.fault(`{"api":"jscode2session","errcode":-1,"times":2}`)
	c.fault(`{"api":"jscode2session","errcode":45011}`)
	c.fault(`{"api":"token","http_status":502}`)
	c.run([]row{
		{name: "busy 1", path: login("sim:a:1"), wantCode: -1},
		{name: "busy 2", path: login("sim:a:1"), wantCode: -1},
		{name: "rate limited next", path: login("sim:a:1"), wantCode: 45011, check: func(t *testing.T, m map[string]any) {
			if m["errmsg"] != messages[codeRateLimited] {
				t.Errorf("errmsg %v", m["errmsg"])
			}
		}},
		{name: "faults did not use the code", path: login("sim:a:1")},
		{name: "token 502", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s", wantStatus: 502, wantCode: -1},
		{name: "token back", path: "/_sim/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s"},
	})
	if f := c.sim.Faults(); len(f) != 0 {
		t.Fatalf("faults left: %v", f)
	}

	t.Run("own errmsg", func(t *testing.T) {
		c.fault(`{"api":"jscode2session","errcode":40029,"errmsg":"custom"}`)
		_, m := c.do("GET", "", login("sim:b:1"), "")
		if errcode(m) != 40029 || m["errmsg"] != "custom" {
			t.Fatalf("reply %v", m)
		}
	})

	t.Run("delay", func(t *testing.T) {
		c.fault(`{"api":"jscode2session","delay_ms":150}`)
		start := time.Now()
		_, m := c.do("GET", "", login("sim:c:1"), "")
		if el := time.Since(start); el < 150*time.Millisecond || errcode(m) != 0 {
			t.Fatalf("took %v, reply %v", el, m)
		}
		start = time.Now()
		c.do("GET", "", login("sim:c:2"), "")
		if el := time.Since(start); el > 100*time.Millisecond {
			t.Fatalf("second call delayed too: %v", el)
		}
	})

	t.Run("clear", func(t *testing.T) {
		c.fault(`{"api":"jscode2session","errcode":-1,"times":5}`)
		if st, _ := c.do("DELETE", "", "/_sim/faults", ""); st != http.StatusNoContent {
			t.Fatalf("DELETE: HTTP %d", st)
		}
		if _, m := c.do("GET", "", login("sim:d:1"), ""); errcode(m) != 0 {
			t.Fatalf("fault survived clear: %v", m)
		}
	})

	for _, bad := range []string{
		`{"api":"nothing","errcode":-1}`,
		`{"api":"token"}`,
		`{"api":"token","errcode":-1,"times":-1}`,
		`{"api":"token","http_status":200}`,
		`{"api":"token","errcode":-1,"extra":1}`,
		`not json`,
	} {
		t.Run("reject "+bad, func(t *testing.T) {
			if st, _ := c.do("POST", "", "/_sim/faults", bad); st != http.StatusBadRequest {
				t.Fatalf("HTTP %d, want 400", st)
			}
		})
	}
	if f := c.sim.Faults(); len(f) != 0 {
		t.Fatalf("rejected faults were kept: %v", f)
	}
}

func TestCalls(t *testing.T) {
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	c := newClient(t, func() time.Time { return at })
	tok := c.token("wx1")
	c.do("GET", "", "/_sim/sns/jscode2session?appid=wx2&secret=topsecret&grant_type=authorization_code&js_code=bad", "")
	c.do("POST", "", "/_sim/wxa/business/getuserphonenumber?access_token="+tok, `{"code":"sim-phone:13800001111"}`)
	c.do("GET", HostWeCom, "/_sim/cgi-bin/gettoken?corpid=ww1&corpsecret=topsecret", "")

	all := c.sim.Calls("")
	if len(all) != 4 {
		t.Fatalf("%d calls, want 4: %v", len(all), all)
	}
	login := c.sim.Calls("jscode2session")
	if len(login) != 1 {
		t.Fatalf("jscode2session calls: %v", login)
	}
	want := Call{API: "jscode2session", Host: HostWeChat, ErrCode: 40029, Status: 200, Time: at}
	got := login[0]
	if got.API != want.API || got.Host != want.Host || got.ErrCode != want.ErrCode || got.Status != want.Status || !got.Time.Equal(at) {
		t.Fatalf("call %+v, want %+v", got, want)
	}
	if got.Params["secret"] != "***" || got.Params["js_code"] != "bad" || got.Params["appid"] != "wx2" {
		t.Fatalf("params %v", got.Params)
	}
	phone := c.sim.Calls("getuserphonenumber")
	if len(phone) != 1 || phone[0].Params["code"] != "sim-phone:13800001111" || phone[0].ErrCode != 0 {
		t.Fatalf("phone calls: %+v", phone)
	}
	if w := c.sim.Calls("gettoken"); len(w) != 1 || w[0].Host != HostWeCom || w[0].Params["corpsecret"] != "***" {
		t.Fatalf("gettoken calls: %+v", w)
	}

	resp, err := http.Get(c.srv.URL + "/_sim/calls?api=jscode2session")
	if err != nil {
		t.Fatal(err)
	}
	var overHTTP []Call
	err = json.NewDecoder(resp.Body).Decode(&overHTTP)
	resp.Body.Close()
	if err != nil || len(overHTTP) != 1 || overHTTP[0].ErrCode != 40029 || overHTTP[0].Params["secret"] != "***" {
		t.Fatalf("GET /_sim/calls: %v %+v", err, overHTTP)
	}

	if st, _ := c.do("DELETE", "", "/_sim/calls", ""); st != http.StatusNoContent {
		t.Fatalf("DELETE calls: HTTP %d", st)
	}
	if n := len(c.sim.Calls("")); n != 0 {
		t.Fatalf("%d calls after clear", n)
	}
}

// wxacode refuses a page the released mini-program lacks (41030) unless
// check_path is false; DefaultPages and PublishPages are released.
func TestWXACodePages(t *testing.T) {
	c := newClient(t, nil)
	tok := c.token("wxqr")
	path := "/_sim/wxa/getwxacodeunlimit?access_token=" + tok
	c.run([]row{
		{name: "default page", method: "POST", path: path, body: `{"scene":"a=1","page":"pages/index/index"}`},
		{name: "unreleased", method: "POST", path: path, body: `{"scene":"a=1","page":"pages/new/new"}`, wantCode: 41030},
		{name: "unreleased, check_path false", method: "POST", path: path, body: `{"scene":"a=1","page":"pages/new/new","check_path":false}`},
		{name: "check_path true", method: "POST", path: path, body: `{"scene":"a=1","page":"pages/new/new","check_path":true}`, wantCode: 41030},
	})
	if st, _ := c.do("POST", "", "/_sim/pages", `{"appid":"wxqr","pages":["pages/new/new"]}`); st != http.StatusNoContent {
		t.Fatalf("POST /_sim/pages: %d", st)
	}
	c.run([]row{
		{name: "released", method: "POST", path: path, body: `{"scene":"a=1","page":"pages/new/new"}`},
		{name: "released for another app only", method: "POST", path: "/_sim/wxa/getwxacodeunlimit?access_token=" + c.token("wxqr2"), body: `{"scene":"a=1","page":"pages/new/new"}`, wantCode: 41030},
	})
}

// The record keeps the last maxCalls calls, oldest first, however many
// came before; cleared, it starts again.
func TestCallsKeepsTheLatest(t *testing.T) {
	s := New(func() time.Time { return time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC) })
	call := func(i int) {
		r := httptest.NewRequest("GET", fmt.Sprintf("/_sim/sns/jscode2session?appid=wx2&secret=s&grant_type=authorization_code&js_code=bad-%d", i), nil)
		s.ServeHTTP(httptest.NewRecorder(), r)
	}
	const extra = 7
	for i := range maxCalls + extra {
		call(i)
	}
	all := s.Calls("")
	if len(all) != maxCalls {
		t.Fatalf("%d calls kept, want %d", len(all), maxCalls)
	}
	for i, c := range all {
		if want := fmt.Sprintf("bad-%d", i+extra); c.Params["js_code"] != want {
			t.Fatalf("call %d is %v, want %s", i, c.Params["js_code"], want)
		}
	}
	s.ClearCalls()
	call(-1)
	if all := s.Calls("jscode2session"); len(all) != 1 || all[0].Params["js_code"] != "bad--1" {
		t.Fatalf("after clearing: %+v", all)
	}
}

// Used codes are remembered up to a bound, oldest forgotten first: a code
// is refused again while remembered, and the simulator's memory does not
// grow with every login however long it runs.
func TestUsedCodesAreBounded(t *testing.T) {
	s := New(func() time.Time { return time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC) })
	s.usedCodes = newCodeMemory[bool](3)
	login := func(code string) int {
		r := httptest.NewRequest("GET", "/_sim/sns/jscode2session?appid=wx2&secret=s&grant_type=authorization_code&js_code="+code, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		var out struct {
			Errcode int `json:"errcode"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: %v %s", code, err, w.Body)
		}
		return out.Errcode
	}
	for _, c := range []string{"sim:a:1", "sim:b:1", "sim:c:1"} {
		if got := login(c); got != 0 {
			t.Fatalf("first use of %s: errcode %d", c, got)
		}
	}
	if got := login("sim:c:1"); got != 40163 {
		t.Fatalf("sim:c:1 again: errcode %d, want 40163", got)
	}
	for i := range 50 {
		if got := login(fmt.Sprintf("sim:n%d:1", i)); got != 0 {
			t.Fatalf("login %d: errcode %d", i, got)
		}
	}
	if n := s.usedCodes.len(); n != 3 {
		t.Fatalf("%d codes remembered after 53 logins, want the bound 3", n)
	}
	if got := login("sim:n49:1"); got != 40163 {
		t.Fatalf("the newest code again: errcode %d, want 40163", got)
	}
	if got := login("sim:a:1"); got != 0 {
		t.Fatalf("a code forgotten 50 logins ago: errcode %d, want it taken as new", got)
	}
	if d := New(nil); d.usedCodes.max != maxCodes || d.phoneCodes.max != maxCodes {
		t.Fatalf("a new simulator remembers %d login and %d phone codes, want %d", d.usedCodes.max, d.phoneCodes.max, maxCodes)
	}
}
