// Package bff is Jifen's HTTP face (Gin): middleware, and every route of the
// mini-program (shopper), WeCom (guide), console and server-to-server hooks.
// Handlers bind, call one domain method, map the error, write the answer;
// business decisions live in domain/.
package bff

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/bff/shopper"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/docs"
	"github.com/jifen/jifen/domain"
)

// Deps is everything the router needs, built by cmd/jifen.
type Deps struct {
	Logger    *slog.Logger
	BodyLimit int64
	Redis     redis.UniversalClient
	RedisKey  string // prefix for rate-limit keys
	PerIP     int    // requests per minute per client IP
	PerMember int    // requests per minute per authenticated caller
	Tokens    *auth.Tokens
	Shopper   *shopper.Handlers
	Console   *console.Handlers
	Hooks     *hooks.Handlers
	Ready     func(ctx context.Context) error // nil error = ready
	Registry  *prometheus.Registry
	Simulator http.Handler // mounted at /_sim/ when not nil
}

// NewRouter lists every route on one screen.
func NewRouter(d Deps) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	limiter := redis_rate.NewLimiter(d.Redis)
	m := newMetrics(d.Registry)

	r.Use(requestID(), recoverer(), accessLog(d.Logger), m.handler())
	r.NoRoute(func(c *gin.Context) { web.Fail(c, domain.Errorf(domain.NotFound, "no such route")) })
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, web.ErrorBody{Error: web.ErrorDetail{Code: "METHOD_NOT_ALLOWED", Message: "method not allowed on this route"}, RequestID: web.RequestID(c)})
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", func(c *gin.Context) {
		if err := d.Ready(c.Request.Context()); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	})
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})))
	r.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", docs.OpenAPI) })
	if d.Simulator != nil {
		r.Any("/_sim/*path", gin.WrapH(d.Simulator))
	}

	byIP := rateLimit(limiter, d.RedisKey+"rl:ip:", d.PerIP, func(c *gin.Context) string { return c.ClientIP() })
	byCaller := rateLimit(limiter, d.RedisKey+"rl:sub:", d.PerMember, func(c *gin.Context) string {
		if cl := web.Claims(c); cl != nil && len(cl.Audience) > 0 {
			return cl.Audience[0] + ":" + cl.Subject
		}
		return ""
	})
	api := r.Group("/api/v1", byIP, bodyLimit(d.BodyLimit))

	sh := d.Shopper
	api.POST("/shopper/login", sh.Login)
	api.POST("/shopper/token/refresh", sh.Refresh)
	api.POST("/shopper/logout", sh.Logout)
	me := api.Group("/shopper", requireAudience(d.Tokens, auth.Shopper), byCaller)
	me.GET("/me", sh.Me)
	me.POST("/phone", sh.BindPhone)
	me.GET("/points/entries", sh.PointsEntries)
	me.GET("/orders/:order_id/points", sh.OrderPoints)
	me.GET("/tier", sh.TierStatus)
	me.POST("/tier/upgrade", sh.UpgradeTier)
	me.PUT("/profile", sh.UpdateProfile)

	co := d.Console
	api.POST("/console/login", co.Login)
	con := api.Group("/console", requireAudience(d.Tokens, auth.Console), byCaller)
	writers := requireRole("admin", "marketer")
	con.POST("/members/:id/adjustments", writers, co.CreateAdjustment)
	con.GET("/members/:id/ledger", co.MemberLedger)
	con.GET("/audit", co.AuditList)
	con.GET("/rules", co.ListRules)
	con.POST("/rules", writers, co.CreateRule)
	con.POST("/rules/simulate", co.SimulateRules)
	con.GET("/rules/:id", co.GetRule)
	con.PUT("/rules/:id", writers, co.UpdateRule)
	con.DELETE("/rules/:id", writers, co.DeleteRule)

	// Server to server: signed with HMAC-SHA256, no user token.
	api.POST("/hooks/orders", d.Hooks.CreateOrderEvent)

	return r
}
