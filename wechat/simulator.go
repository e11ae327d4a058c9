package wechat

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/jifen/jifen/wechat/sim"
)

// handlerTransport answers requests by calling a handler in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	// A handler expects what a server gives it: a body even for a GET.
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// simTransport rewrites requests for WeChat's hosts to the simulator.
type simTransport struct {
	base *url.URL
	next http.RoundTripper
}

func newSimTransport(baseURL string, next http.RoundTripper) (*simTransport, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("wechat simulator URL %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("wechat simulator URL %q: want http(s)://host[:port][/path]", baseURL)
	}
	return &simTransport{base: u, next: next}, nil
}

func (t *simTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context()) // a RoundTripper must not change the caller's request
	r.Header.Set(sim.HostHeader, req.URL.Host)
	prefix := strings.TrimSuffix(t.base.Path, "/") + sim.Prefix
	r.URL.Scheme = t.base.Scheme
	r.URL.Host = t.base.Host
	r.URL.Path = prefix + req.URL.Path
	if req.URL.RawPath != "" {
		r.URL.RawPath = prefix + req.URL.RawPath
	}
	r.Host = t.base.Host
	return t.next.RoundTrip(r)
}
