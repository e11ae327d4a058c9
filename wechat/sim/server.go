package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// Prefix is the path prefix of everything the simulator serves.
	Prefix = "/_sim"
	// HostHeader carries the host the client meant to reach.
	HostHeader = "X-Sim-Host"

	maxBody  = 1 << 20
	maxCalls = 10000
)

// Server is the simulator. It is an http.Handler; all its state is in
// memory and safe for concurrent use.
type Server struct {
	now    func() time.Time
	byPath map[routeKey]route
	byName map[string]route

	mu         sync.Mutex
	tokens     map[string]accessToken
	apps       map[string]*appTokens   // current token and quotas per host/appid (token.go)
	usedCodes  *codeMemory[bool]       // login and WeCom OAuth codes used (codes.go)
	phoneCodes *codeMemory[*phoneCode] // getPhoneNumber codes (miniprogram.go)
	secrets    map[string]string       // appid → the secret it accepts (apps.go)
	pages      map[string]bool         // appid|page published (wxacode.go)
	unbound    map[string]bool         // official accounts not on the open platform (official_account.go)
	faults     []Fault
	calls      []Call
	oldest     int                 // calls[oldest] is the oldest once calls is full
	notify     notifyState         // subscribe quotas, robot windows, deliveries (notify.go)
	followers  followerState       // the official account's followers (official_account.go)
	templates  map[string]Template // kind|id → the accounts' templates (templates.go)
	pay        payState            // WeChat Pay merchants and orders (pay.go)
}

type routeKey struct{ host, path string }

// New returns a simulator reading time from clock (time.Now when nil).
func New(clock func() time.Time) *Server {
	if clock == nil {
		clock = time.Now
	}
	s := &Server{
		now:        clock,
		byPath:     map[routeKey]route{},
		byName:     map[string]route{},
		tokens:     map[string]accessToken{},
		usedCodes:  newCodeMemory[bool](maxCodes),
		phoneCodes: newCodeMemory[*phoneCode](maxCodes),
	}
	for _, rt := range s.routes() {
		if rt.name == "" {
			rt.name = rt.path[strings.LastIndex(rt.path, "/")+1:]
		}
		if _, dup := s.byName[rt.name]; dup {
			panic("sim: two APIs named " + rt.name) // a mistake in the route table
		}
		s.byName[rt.name] = rt
		s.byPath[routeKey{rt.host, rt.path}] = rt
	}
	return s
}

// Request is what a handler sees of a call.
type Request struct {
	Host string
	// Params holds the query parameters (first value of each) and the
	// top-level fields of a JSON object body, which win over the query.
	Params map[string]any
	// JSON reports whether the body was a JSON object.
	JSON bool
	Body []byte
	// AppID is the appid (or corpid) the access token was issued to, for
	// APIs that need a token.
	AppID string
	Now   time.Time
}

// Param returns the parameter name as a string ("" when absent; JSON
// numbers and other values in their JSON text).
func (r *Request) Param(name string) string {
	switch v := r.Params[name].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		writeJSON(w, http.StatusNotFound, errReply(codeInvalidURL, "sim: paths start with "+Prefix))
		return
	}
	switch path {
	case "/faults":
		s.serveFaults(w, r)
		return
	case "/calls":
		s.serveCalls(w, r)
		return
	case "/tokens/expire":
		s.serveExpireTokens(w, r)
		return
	case "/subscriptions", "/delivered":
		s.serveNotifyControl(w, r, path)
		return
	case "/followers":
		s.serveFollowers(w, r)
		return
	case "/templates":
		s.serveTemplates(w, r)
		return
	case "/open_platform":
		s.serveOpenPlatform(w, r)
		return
	case "/pages":
		s.servePages(w, r)
		return
	case "/phone_codes":
		s.servePhoneCodes(w, r)
		return
	case "/pay":
		s.servePayControl(w, r)
		return
	case "/merchants":
		s.serveMerchants(w, r)
		return
	}
	host := r.Header.Get(HostHeader)
	if host == "" {
		host = HostWeChat
	}
	if host == HostPay {
		s.servePay(w, r, path)
		return
	}
	rt, ok := s.byPath[routeKey{host, path}]
	if !ok {
		writeJSON(w, http.StatusNotFound, errReply(codeInvalidURL, fmt.Sprintf("sim: no API %s%s", host, path)))
		return
	}
	s.serveAPI(w, r, rt)
}

// serveAPI runs one API call: fault, method, token, handler, record.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rt route) {
	req := &Request{Host: rt.host, Params: map[string]any{}, Now: s.now()}
	for k, v := range r.URL.Query() {
		req.Params[k] = v[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errReply(codeDataFormat, "sim: reading body: "+err.Error()))
		return
	}
	req.Body = body
	if fields := jsonObject(body); fields != nil {
		req.JSON = true
		for k, v := range fields {
			req.Params[k] = v
		}
	}

	status, reply := http.StatusOK, any(nil)
	fault, faulted := s.takeFault(rt.name)
	if faulted && fault.DelayMS > 0 {
		select {
		case <-time.After(time.Duration(fault.DelayMS) * time.Millisecond):
		case <-r.Context().Done():
			return // the client gave up; nobody reads an answer
		}
	}
	switch {
	case faulted && fault.HTTPStatus != 0:
		status, reply = fault.HTTPStatus, errReply(codeSystemBusy, "sim: injected HTTP status")
	case faulted && fault.ErrCode != 0:
		msg := fault.ErrMsg
		if msg == "" {
			msg = errMsg(fault.ErrCode)
		}
		reply = errReply(fault.ErrCode, msg)
	case r.Method != rt.method && rt.method == http.MethodGet:
		reply = errReply(codeRequireGET, "")
	case r.Method != rt.method:
		reply = errReply(codeRequirePOST, "")
	default:
		if rt.token {
			appID, code := s.checkToken(rt.host, req.Param("access_token"), req.Now)
			if code != 0 {
				reply = errReply(code, "")
				break
			}
			req.AppID = appID
		}
		reply = rt.handle(req)
	}

	if raw, ok := reply.(rawReply); ok {
		s.record(Call{API: rt.name, Host: rt.host, Params: masked(req.Params), Status: status, Time: req.Now})
		w.Header().Set("Content-Type", raw.ContentType)
		w.WriteHeader(status)
		_, _ = w.Write(raw.Body)
		return
	}
	out, err := json.Marshal(reply)
	if err != nil {
		status, out = http.StatusInternalServerError, []byte(`{"errcode":-1,"errmsg":"sim: encoding reply"}`)
	}
	var ec struct {
		ErrCode int `json:"errcode"`
	}
	_ = json.Unmarshal(out, &ec)
	s.record(Call{API: rt.name, Host: rt.host, Params: masked(req.Params), ErrCode: ec.ErrCode, Status: status, Time: req.Now})
	writeRaw(w, status, out)
}

// jsonObject decodes body when it is a JSON object, keeping numbers exact.
func jsonObject(body []byte) map[string]any {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	out, err := json.Marshal(v)
	if err != nil {
		status, out = http.StatusInternalServerError, []byte(`{"errcode":-1,"errmsg":"sim: encoding reply"}`)
	}
	writeRaw(w, status, out)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
