package bff

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/session"
)

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

// accessLog writes one slog JSON line per request.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		log.Info("http", "request_id", web.RequestID(c), "method", c.Request.Method, "route", c.FullPath(),
			"path", c.Request.URL.Path, "status", c.Writer.Status(), "ms", time.Since(start).Milliseconds(),
			"ip", c.ClientIP())
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

// metrics counts requests and their latency by route and status.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jifen_http_requests_total", Help: "HTTP requests by route and status."}, []string{"method", "route", "status"}),
		latency:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "jifen_http_request_duration_seconds", Help: "HTTP latency by route.", Buckets: prometheus.DefBuckets}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *metrics) handler() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
	}
}

// rateLimit allows perMinute requests per key (GCRA in Redis). keyOf returns
// "" to skip. When Redis is unreachable the request is let through: rate
// limiting protects the service, it must not take it down.
func rateLimit(l *redis_rate.Limiter, prefix string, perMinute int, keyOf func(*gin.Context) string) gin.HandlerFunc {
	limit := redis_rate.PerMinute(perMinute)
	return func(c *gin.Context) {
		k := keyOf(c)
		if k == "" {
			c.Next()
			return
		}
		res, err := l.Allow(c.Request.Context(), prefix+k, limit)
		if err != nil {
			slog.WarnContext(c.Request.Context(), "rate limiter unavailable", "err", err.Error())
			c.Next()
			return
		}
		if res.Allowed == 0 {
			secs := int(res.RetryAfter.Seconds() + 0.999)
			if secs < 1 {
				secs = 1
			}
			c.Header("Retry-After", strconv.Itoa(secs))
			web.Fail(c, domain.Errorf(domain.RateLimited, "too many requests; retry in %d s", secs))
			return
		}
		c.Next()
	}
}

// requireAudience verifies the bearer token for audience and stores the
// caller. Tokens of another audience are refused (401).
func requireAudience(tokens *auth.Tokens, sessions *session.Service, audience string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		raw, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || raw == "" {
			web.Fail(c, domain.Errorf(domain.Unauthorized, "Authorization: Bearer <access token> required"))
			return
		}
		cl, err := tokens.Verify(raw, audience)
		if err == nil {
			// A logged-out session's tokens stop at once, not at expiry.
			err = sessions.Check(c.Request.Context(), cl.Sid, cl.ID)
		}
		if err != nil {
			web.Fail(c, err)
			return
		}
		web.SetClaims(c, cl)
		c.Next()
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
