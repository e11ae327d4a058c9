package wechat

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// HTTPConfig is where the process's WeChat and WeCom requests go and how
// long each step of one may take.
type HTTPConfig struct {
	// SimulatorURL sends every request to the simulator there (package
	// wechat/sim); "" means the real api.weixin.qq.com and qyapi.weixin.qq.com.
	SimulatorURL string
	// SimulatorHandler, when set, answers every request in process instead
	// (an in-process simulator that no listener serves; SimulatorURL is
	// then ignored).
	SimulatorHandler http.Handler
	// ConnectTimeout bounds the TCP connect, TLSTimeout the TLS handshake,
	// ResponseTimeout the wait for the answer's headers once the request is
	// sent. Zero takes the Default… value.
	ConnectTimeout  time.Duration
	TLSTimeout      time.Duration
	ResponseTimeout time.Duration
}

// Timeouts of one request when HTTPConfig leaves them zero.
const (
	DefaultConnectTimeout  = 3 * time.Second
	DefaultTLSTimeout      = 3 * time.Second
	DefaultResponseTimeout = 5 * time.Second
)

// route is the configured destination of the process's WeChat requests.
type route struct {
	config    HTTPConfig
	transport http.RoundTripper
	timeout   time.Duration // backstop for SDK calls that take no context
}

var (
	current     atomic.Pointer[route]
	installOnce sync.Once
)

// errNotConfigured answers requests made before Configure: failing closed
// means a process that forgot its settings never sends a secret to Tencent.
var errNotConfigured = errors.New("wechat: HTTP client not configured (wechat.Configure)")

// Configure sends every WeChat and WeCom request of the process through one
// HTTP client with the timeouts of c, to the simulator or to WeChat.
//
// The SDK reads one process-global client (util.DefaultHTTPClient). It is
// installed once, before the first SDK call (the constructors of this
// package install it too); Configure only swaps the destination behind it,
// atomically, so it is safe while requests are in flight: each request goes
// wholly to the old or to the new destination.
func Configure(c HTTPConfig) error {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.TLSTimeout <= 0 {
		c.TLSTimeout = DefaultTLSTimeout
	}
	if c.ResponseTimeout <= 0 {
		c.ResponseTimeout = DefaultResponseTimeout
	}
	installClient()
	if r := current.Load(); r != nil && r.config == c {
		return nil // keep the pooled connections
	}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: c.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   c.TLSTimeout,
		ResponseHeaderTimeout: c.ResponseTimeout,
		IdleConnTimeout:       90 * time.Second,
		// Logins call code2session concurrently, one request each: an
		// idle pool smaller than the logins in flight closed a connection
		// after most of them, and the next paid a new connection (and, to
		// WeChat, a TLS handshake).
		MaxIdleConnsPerHost: 256,
		ForceAttemptHTTP2:   true,
	}
	r := &route{config: c, transport: t, timeout: c.ConnectTimeout + c.TLSTimeout + c.ResponseTimeout}
	if c.SimulatorHandler != nil {
		r.transport = &simTransport{base: &url.URL{Scheme: "http", Host: "wechat-sim.in-process"}, next: handlerTransport{c.SimulatorHandler}}
	} else if c.SimulatorURL != "" {
		st, err := newSimTransport(c.SimulatorURL, t)
		if err != nil {
			return err
		}
		r.transport = st
	}
	if old := current.Swap(r); old != nil {
		if ot, ok := baseTransport(old.transport); ok && ot != t {
			ot.CloseIdleConnections()
		}
	}
	return nil
}

// UseSimulator is Configure with the simulator at baseURL and the default
// timeouts.
func UseSimulator(baseURL string) error {
	return Configure(HTTPConfig{SimulatorURL: baseURL})
}

func baseTransport(rt http.RoundTripper) (*http.Transport, bool) {
	if st, ok := rt.(*simTransport); ok {
		rt = st.next
	}
	t, ok := rt.(*http.Transport)
	return t, ok
}

// installClient makes the SDK's client the package's dispatcher. It runs
// once per process, before any SDK request of this package.
func installClient() {
	installOnce.Do(func() {
		util.DefaultHTTPClient = &http.Client{Transport: dispatcher{}}
	})
}

// dispatcher sends each request to the configured route.
type dispatcher struct{}

func (dispatcher) RoundTrip(req *http.Request) (*http.Response, error) {
	r := current.Load()
	if r == nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errNotConfigured
	}
	// SDK calls without a context would otherwise wait forever for a body
	// that never ends; the transport's timeouts only cover up to the headers.
	if _, ok := req.Context().Deadline(); !ok {
		return timeoutRoundTrip(r, req)
	}
	return r.transport.RoundTrip(req)
}

// timeoutRoundTrip bounds a request that has no deadline by the route's
// backstop, until its body is closed.
func timeoutRoundTrip(r *route, req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), r.timeout)
	resp, err := r.transport.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
