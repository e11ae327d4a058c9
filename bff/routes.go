// Package bff is Jifen's HTTP face (Gin): middleware, and every route of the
// mini-program (shopper), WeCom (guide), console and server-to-server hooks.
// Handlers bind, call one domain method, map the error, write the answer;
// business decisions live in domain/.
package bff

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/consoleweb"
	"github.com/jifen/jifen/bff/guide"
	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/bff/shopper"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/docs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/session"
)

// Deps is everything the router needs, built by cmd/jifen.
type Deps struct {
	Logger    *slog.Logger
	BodyLimit int64
	// TrustedProxies are the peers (IPs or CIDRs) whose X-Forwarded-For and
	// X-Real-IP name the client; none by default, so the per-IP limit keys
	// on the connection's address whatever headers a client sends.
	TrustedProxies []string
	Redis          redis.UniversalClient
	RedisKey       string // prefix for rate-limit keys
	// DenyKeys are the Redis keys of the session denylist for ids, its
	// ready key first (sessionstore.Denylist.RedisKeys); nil: the gate
	// asks Sessions alone.
	DenyKeys  func(ids []string) []string
	PerIP     int // requests per minute per client IP
	PerMember int // requests per minute per authenticated caller
	Tokens    *auth.Tokens
	// Sessions says whether a token's login has ended (logout, sign-out).
	Sessions *session.Service
	Shopper  *shopper.Handlers
	Console  *console.Handlers
	// ConsoleWeb is the console as web pages at /console/ (nil: not served).
	ConsoleWeb *consoleweb.Handlers
	Guide      *guide.Handlers
	// WeComHook takes the WeCom app's callbacks (nil: no WeCom app, not routed).
	WeComHook *hooks.WeCom
	Hooks     *hooks.Handlers
	Reviews   *hooks.Reviews
	// OAHook takes the official account's pushes (nil: no official
	// account, not routed).
	OAHook *hooks.OfficialAccount
	// PayHook receives WeChat Pay's notifications (nil: not routed).
	PayHook *hooks.WeChatPay
	// Ready checks the stores: a non-nil error means not ready (the
	// database does not answer); degraded names what the service runs
	// without (Redis), ready all the same.
	Ready     func(ctx context.Context) (degraded map[string]string, err error)
	Registry  *prometheus.Registry
	Simulator http.Handler // mounted at /_sim/ when not nil
}

// readyTimeout bounds /readyz: a load balancer's probe gets its answer
// within a second even when a store hangs.
const readyTimeout = 900 * time.Millisecond

// NewRouter lists every route on one screen.
func NewRouter(d Deps) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// gin trusts every peer's forwarding headers unless told otherwise.
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		panic("bff: server.trusted_proxies: " + err.Error()) // configs.Validate refuses a bad entry first
	}
	r.HandleMethodNotAllowed = true
	// A path with a slash too many (or too few) is a 404 in the error
	// shape every answer has, not a redirect with an HTML body (gin's
	// default); the console's bare /console is redirected below.
	r.RedirectTrailingSlash = false
	// Routes match the escaped path (url.URL.EscapedPath: as sent), and
	// pathParams unescapes the parameters after: an order id with a "/"
	// (the order system's to choose), escaped by the client as %2F, is one
	// segment of /orders/{order_id}/points, not two. The routes' own
	// segments are plain ASCII, the same escaped or not. (gin's own
	// unescaping is a query's: it would read a "+" as a space.)
	r.UseEscapedPath = true
	r.UnescapePathValues = false
	r.ContextWithFallback = true
	m := newMetrics(d.Registry)

	r.Use(pathParams, requestID(), apiHeaders, recoverer(), accessLog(d.Logger), m.handler())
	// Under /console/ the console answers them as its own pages.
	unrouted := func(err error) gin.HandlerFunc {
		return func(c *gin.Context) {
			if d.ConsoleWeb != nil && consoleweb.Serves(c.Request.URL.Path) {
				d.ConsoleWeb.Unrouted(c, err)
				return
			}
			web.Fail(c, err)
		}
	}
	r.NoRoute(unrouted(domain.Errorf(domain.NotFound, "no such route")))
	r.NoMethod(unrouted(domain.Errorf(web.CodeMethodNotAllowed, "method not allowed on this route")))

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", func(c *gin.Context) {
		// A probe waits at most a second, whatever hangs.
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		degraded, err := d.Ready(ctx)
		if err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": err.Error()})
			return
		}
		body := gin.H{"status": "ready"}
		if len(degraded) > 0 {
			body["degraded"] = degraded
		}
		c.JSON(http.StatusOK, body)
	})
	r.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", docs.OpenAPI) })
	if d.Simulator != nil {
		r.Any("/_sim/*path", gin.WrapH(d.Simulator))
	}

	ipLimit := newLimit(d.RedisKey+"rl:ip:", d.PerIP)
	callerLimit := newLimit(d.RedisKey+"rl:sub:", d.PerMember)
	byIP := rateLimit(d.Redis, ipLimit, func(c *gin.Context) string { return c.ClientIP() })
	// Authenticated routes: the per-IP limit, the token, the session and
	// the per-caller limit in one Redis round trip (gate.go).
	authed := r.Group("/api/v1", bodyLimit(d.BodyLimit))
	audience := func(aud string, prefetch map[string]Prefetch) gin.HandlerFunc {
		return gate(d.Redis, ipLimit, callerLimit, d.Tokens, d.Sessions, d.DenyKeys, aud, prefetch)
	}
	api := r.Group("/api/v1", byIP, bodyLimit(d.BodyLimit))
	// Server-to-server hooks are signed (HMAC, WeChat/WeCom signatures) and
	// come in the bursts of the sender — a brand's order system during a
	// sale, WeChat's pushes — from a few addresses: the per-IP limit meant
	// for shoppers would turn a sale into 429s. A bad signature is refused
	// before any storage is touched.
	hook := r.Group("/api/v1/hooks", bodyLimit(d.BodyLimit))

	sh := d.Shopper
	api.POST("/shopper/login", sh.Login)
	api.POST("/shopper/token/refresh", sh.Refresh)
	api.POST("/shopper/logout", sh.Logout)
	me := authed.Group("/shopper", audience(auth.Shopper, map[string]Prefetch{"/api/v1/shopper/me": sh.PrefetchMe}), readsTakeNoBody)
	me.GET("/me", sh.Me)
	me.POST("/phone", sh.BindPhone)
	me.GET("/points/entries", sh.PointsEntries)
	me.POST("/signin", web.NoBody, sh.SignIn)
	me.GET("/signin/calendar", sh.SigninCalendar)
	me.POST("/signin/makeup", sh.SigninMakeup)
	me.GET("/leaderboards/:board", sh.Leaderboard)
	me.GET("/lottery/campaigns/:id", sh.LotteryCampaign)
	me.POST("/lottery/campaigns/:id/draws", web.NoBody, sh.CreateLotteryDraw)
	me.GET("/lottery/campaigns/:id/draws/mine", sh.MyLotteryDraws)
	me.GET("/orders/:order_id/points", sh.OrderPoints)
	me.GET("/tier", sh.TierStatus)
	me.POST("/tier/upgrade", web.NoBody, sh.UpgradeTier)
	me.PUT("/profile", sh.UpdateProfile)
	me.GET("/referral", sh.Referral)
	me.POST("/referral/bind", sh.BindReferral)
	me.GET("/referral/qrcode", sh.ReferralQRCode)
	me.POST("/subscriptions", sh.CreateSubscriptions)
	me.GET("/tasks", sh.Tasks)
	me.POST("/tasks/:id/start", web.NoBody, sh.StartTask)
	me.POST("/tasks/:id/progress", sh.TaskProgress)
	me.POST("/tasks/:id/claim", web.NoBody, sh.ClaimTask)
	me.POST("/events/share", sh.ShareEvent)

	co := d.Console
	api.POST("/console/login", co.Login)
	con := authed.Group("/console", audience(auth.Console, nil), co.CurrentUser, readsTakeNoBody)
	writers := requireRole(console.Writers...)
	con.POST("/members/:id/adjustments", writers, co.CreateAdjustment)
	con.GET("/members", co.SearchMembers)
	con.GET("/members/:id", co.GetMember)
	con.GET("/members/:id/ledger", co.MemberLedger)
	con.GET("/audit", co.AuditList)
	con.GET("/stores", co.ListStores)
	con.POST("/stores", writers, co.CreateStore)
	con.PATCH("/stores/:id", writers, co.UpdateStore)
	con.GET("/guides", co.ListGuides)
	con.POST("/guides", writers, co.CreateGuide)
	con.GET("/guides/:id", co.GetGuide)
	con.PATCH("/guides/:id", writers, co.UpdateGuide)
	con.GET("/tasks", co.ListTasks)
	con.POST("/tasks", writers, co.CreateTask)
	con.GET("/tasks/:id", co.GetTask)
	con.PUT("/tasks/:id", writers, co.UpdateTask)
	con.DELETE("/tasks/:id", writers, co.DeleteTask)

	gd := d.Guide
	api.POST("/guide/login", gd.Login)
	gu := authed.Group("/guide", audience(auth.Guide, nil), readsTakeNoBody)
	gu.GET("/me", gd.Me)
	gu.GET("/customers", gd.Customers)
	gu.GET("/customers/:member_id", gd.Customer)
	gu.POST("/grants", gd.CreateGrant)
	gu.POST("/pushes", web.NoBody, gd.CreatePush)

	if d.WeComHook != nil {
		hook.GET("/wecom", d.WeComHook.Verify)
		hook.POST("/wecom", d.WeComHook.Receive)
	}
	if d.PayHook != nil {
		hook.POST("/wechat-pay", d.PayHook.Notify)
	}
	con.GET("/lottery/campaigns", co.LotteryCampaigns)
	con.POST("/lottery/campaigns", writers, co.CreateLotteryCampaign)
	con.GET("/lottery/campaigns/:id", co.LotteryCampaign)
	con.GET("/lottery/campaigns/:id/stats", co.LotteryCampaignStats)
	con.PUT("/lottery/campaigns/:id", writers, co.UpdateLotteryCampaign)
	con.POST("/lottery/campaigns/:id/prizes", writers, co.CreateLotteryPrize)
	con.PUT("/lottery/campaigns/:id/prizes/:prize_id", writers, co.UpdateLotteryPrize)
	con.GET("/rules", co.ListRules)
	con.POST("/rules", writers, co.CreateRule)
	con.POST("/rules/simulate", co.SimulateRules)
	con.GET("/rules/:id", co.GetRule)
	con.PUT("/rules/:id", writers, co.UpdateRule)
	con.DELETE("/rules/:id", writers, co.DeleteRule)
	con.GET("/campaigns", co.ReminderCampaigns)
	con.POST("/campaigns", writers, co.CreateReminderCampaign)
	con.GET("/campaigns/:id", co.ReminderCampaign)
	con.PUT("/campaigns/:id", writers, co.UpdateReminderCampaign)
	con.POST("/campaigns/:id/schedule", writers, web.NoBody, co.ScheduleReminderCampaign)
	con.POST("/campaigns/:id/pause", writers, web.NoBody, co.PauseReminderCampaign)
	con.POST("/campaigns/:id/cancel", writers, web.NoBody, co.CancelReminderCampaign)
	con.POST("/campaigns/:id/dry-run", web.NoBody, co.DryRunReminderCampaign) // writes nothing: any role
	con.GET("/campaigns/:id/report", co.ReminderCampaignReport)

	con.GET("/referrals/report", co.ReferralReport)
	con.GET("/analytics/points", co.AnalyticsPoints)
	con.GET("/analytics/outstanding", co.AnalyticsOutstanding)
	con.GET("/analytics/reminders", co.AnalyticsReminders)
	con.GET("/analytics/members", co.AnalyticsMembers)
	con.GET("/analytics/growth", co.AnalyticsGrowth)
	con.GET("/analytics/reminder-effect", co.AnalyticsReminderEffect)

	// The points mall (issue #18).
	me.GET("/mall/items", sh.MallItems)
	me.GET("/mall/items/:id", sh.MallItem)
	me.POST("/mall/items/:id/redemptions", web.NoBody, sh.RedeemMallItem)
	me.GET("/mall/redemptions", sh.MyMallRedemptions)
	con.GET("/mall/items", co.MallItems)
	con.POST("/mall/items", writers, co.CreateMallItem)
	con.GET("/mall/items/:id", co.MallItem)
	con.PUT("/mall/items/:id", writers, co.UpdateMallItem)
	con.POST("/mall/items/:id/codes", writers, co.ImportMallCodes)
	con.GET("/mall/redemptions", co.MallRedemptions)
	con.POST("/mall/redemptions/:id/events", writers, co.FulfilMallRedemption)
	con.GET("/mall/report", co.MallReport)
	con.GET("/checkout/policy", co.CheckoutPolicy)
	con.PUT("/checkout/policy", writers, co.UpdateCheckoutPolicy)
	gu.POST("/mall/pickups", gd.VerifyMallPickup)

	// Risk control (issue #24): the policy, the review queue, holds.
	con.GET("/risk/policy", co.RiskPolicy)
	con.PUT("/risk/policy", writers, co.UpdateRiskPolicy)
	con.GET("/risk/flags", co.RiskFlags)
	con.POST("/risk/flags/:id/decision", writers, co.DecideRiskFlag)
	con.GET("/members/:id/risk", co.MemberRisk)
	con.POST("/members/:id/hold", writers, co.HoldMember)
	con.POST("/members/:id/hold/release", writers, co.ReleaseMember)

	// The console's pages: the same console handlers and roles, HTML.
	if d.ConsoleWeb != nil {
		d.ConsoleWeb.Mount(r, byIP, bodyLimit(d.BodyLimit))
		r.GET("/console", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/console/") })
	}

	// Server to server: signed with HMAC-SHA256, no user token.
	hook.POST("/orders", d.Hooks.CreateOrderEvent)
	hook.POST("/checkout/quote", d.Hooks.CreateCheckoutQuote)
	hook.POST("/checkout/holds", d.Hooks.CreateCheckoutHold)
	hook.GET("/checkout/holds/:id", d.Hooks.GetCheckoutHold)
	hook.POST("/checkout/holds/:id/capture", d.Hooks.CaptureCheckoutHold)
	hook.POST("/checkout/holds/:id/release", d.Hooks.ReleaseCheckoutHold)
	hook.POST("/reviews", d.Reviews.Receive)
	if d.OAHook != nil {
		hook.GET("/wechat/official-account", d.OAHook.Verify)
		hook.POST("/wechat/official-account", d.OAHook.Receive)
	}

	return r
}
