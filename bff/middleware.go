package bff

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

// pathParams unescapes the path parameters of the route matched on the
// escaped path (NewRouter): %2F is a "/" inside its parameter, and a "+"
// is a "+".
func pathParams(c *gin.Context) {
	for i, p := range c.Params {
		if strings.IndexByte(p.Value, '%') < 0 {
			continue
		}
		if v, err := url.PathUnescape(p.Value); err == nil {
			c.Params[i].Value = v
		}
	}
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID accepts a sane X-Request-Id or makes one, and echoes it.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		web.SetRequestID(c, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

// recoverer turns a panic into a logged 500 in the error shape.
func recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				web.Fail(c, fmt.Errorf("panic: %v", r))
			}
		}()
		c.Next()
	}
}

// apiHeaders go on every answer of the public port: no content sniffing
// (a JSON body is never run as a script or page), and no caching by a
// browser or proxy — the answers carry tokens and members' balances.
func apiHeaders(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	c.Next()
}

// accessLog writes one slog JSON line per request (attributes built
// without boxing them into a ...any).
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		log.LogAttrs(c.Request.Context(), slog.LevelInfo, "http", slog.String("request_id", web.RequestID(c)),
			slog.String("method", methodLabel(c.Request.Method)), slog.String("route", c.FullPath()),
			slog.String("path", c.Request.URL.Path), slog.Int("status", c.Writer.Status()),
			slog.Int64("ms", time.Since(start).Milliseconds()), slog.String("ip", c.ClientIP()))
	}
}

// bodyLimit caps request bodies; Bind reports the overflow as 413.
func bodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > n {
			web.Fail(c, &domain.Error{Code: web.CodeTooLarge, Message: fmt.Sprintf("request body larger than %d bytes", n)})
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// readsTakeNoBody refuses a body on a GET, HEAD or DELETE, which take none
// on any route (web.NoBody); the POSTs without a body name web.NoBody in
// routes.go.
func readsTakeNoBody(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		web.NoBody(c)
	default:
		c.Next()
	}
}

// methodLabel is the method as metrics and the access log name it: the
// methods HTTP defines, anything else "OTHER". The method is the client's
// to choose, and a label taken from it as it is would let any client add
// series to /metrics (and memory) without end.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// metrics counts requests and their latency by route and status.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	known    sync.Map // seriesKey → *series
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jifen_http_requests_total", Help: "HTTP requests by route and status."}, []string{"method", "route", "status"}),
		latency:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "jifen_http_request_duration_seconds", Help: "HTTP latency by route.", Buckets: prometheus.DefBuckets}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// series are one route's counter and histogram, resolved once: a
// request then looks them up by (method, route, status) without building
// label strings.
type series struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

type seriesKey struct {
	method, route string
	status        int
}

func (m *metrics) series(k seriesKey) *series {
	if s, ok := m.known.Load(k); ok {
		return s.(*series)
	}
	s := &series{count: m.requests.WithLabelValues(k.method, k.route, strconv.Itoa(k.status)),
		latency: m.latency.WithLabelValues(k.method, k.route)}
	v, _ := m.known.LoadOrStore(k, s)
	return v.(*series)
}

func (m *metrics) handler() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		s := m.series(seriesKey{method: methodLabel(c.Request.Method), route: route, status: c.Writer.Status()})
		s.count.Inc()
		s.latency.Observe(time.Since(start).Seconds())
	}
}

// requireRole lets only the listed console roles through (403 otherwise).
func requireRole(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl := web.Claims(c)
		for _, r := range roles {
			if cl != nil && cl.Role == r {
				c.Next()
				return
			}
		}
		web.Fail(c, domain.Errorf(domain.Forbidden, "this action needs one of the roles %s", strings.Join(roles, ", ")))
	}
}
