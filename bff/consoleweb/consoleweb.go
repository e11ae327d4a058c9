// Package consoleweb is the marketers' console as web pages (/console/):
// server-rendered html/template pages, enhanced by a vendored, pinned htmx
// (static/VERSIONS), with no build step. Every page reads and writes
// through the same console.Handlers methods and domain services as the
// JSON console API (/api/v1/console), with the same roles and audit rows:
// a page never reaches storage by a path the API does not take.
//
// Security: the session is the console access token in an HttpOnly,
// SameSite=Strict cookie (Secure outside the embedded mode); every POST
// carries a CSRF token that must match a second cookie; the
// Content-Security-Policy allows no inline script or style; an auditor is
// shown no write buttons and refused (403) if they post anyway.
package consoleweb

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/formkey"
	"github.com/jifen/jifen/domain/session"
)

//go:embed templates static
var files embed.FS

// Handlers serves the console pages.
type Handlers struct {
	API    *console.Handlers
	Tokens *auth.Tokens
	// Sessions ends a signed-out cookie's token at once.
	Sessions *session.Service
	Clock    domain.Clock
	// Secure marks the cookies Secure (and names the CSRF cookie __Host-);
	// off in the embedded mode, which is served over plain HTTP on loopback.
	Secure bool
	// FormKeys makes each rendering of a form that writes write once.
	FormKeys *formkey.Service
	pages    *pages
}

// New parses the templates once.
func New(h *Handlers) (*Handlers, error) {
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	h.pages = p
	return h, nil
}

// Mount adds the console's routes to r under /console; mw (rate limit,
// body limit) run before every page, after the console's security headers
// and with its error page: whatever they refuse is answered as a console
// page, never the API's JSON.
func (h *Handlers) Mount(r gin.IRouter, mw ...gin.HandlerFunc) {
	r = r.Group("/console", append([]gin.HandlerFunc{securityHeaders, h.errorPages}, mw...)...)
	static, _ := fs.Sub(files, "static")
	r.StaticFS("/static", http.FS(filesOnly{static}))
	r.GET("/lang/:lang", h.setLanguage)
	r.GET("/login", h.loginForm)
	r.POST("/login", h.checkCSRF, h.login)
	r.POST("/logout", h.checkCSRF, h.logout) // with or without a live session

	in := r.Group("", h.session)
	in.GET("/", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/console/dashboard") })
	in.GET("/dashboard", h.dashboard)
	in.GET("/lottery", h.listLottery)
	in.GET("/lottery/:id", h.showLottery)
	in.GET("/members", h.searchMembers)
	in.GET("/members.csv", h.membersCSV)
	in.GET("/members/:id", h.memberPage)
	in.GET("/members/:id/journal", h.journalRows)
	in.GET("/members/:id/journal.csv", h.journalCSV)
	in.GET("/audit", h.auditLog)
	in.GET("/tasks", h.listTasks)
	in.GET("/tiers", h.tiersPage)
	in.GET("/referrals", h.referralReport)
	in.GET("/guides", h.listGuides)
	in.POST("/stores", h.checkCSRF, h.requireWriter, h.saveStore)
	in.POST("/stores/:id", h.checkCSRF, h.requireWriter, h.saveStore)
	in.POST("/guides", h.checkCSRF, h.requireWriter, h.saveGuide)
	in.POST("/guides/:id", h.checkCSRF, h.requireWriter, h.saveGuide)
	in.POST("/members/:id/adjustments", h.checkCSRF, h.requireWriter, h.adjust)
	in.GET("/rules", h.listRules)
	in.GET("/rules/new", h.newRule)
	in.GET("/rules/:id", h.editRule)
	in.POST("/rules", h.checkCSRF, h.requireWriter, h.saveRule)
	in.POST("/rules/simulate", h.checkCSRF, h.simulateRule) // writes nothing: any role
	in.POST("/rules/:id", h.checkCSRF, h.requireWriter, h.saveRule)
	in.POST("/rules/:id/status", h.checkCSRF, h.requireWriter, h.setRuleStatus)
	in.GET("/campaigns", h.listCampaigns)
	in.GET("/campaigns/new", h.newCampaign)
	in.GET("/campaigns/:id", h.showCampaign)
	in.GET("/campaigns/:id/deliveries.csv", h.deliveriesCSV)
	in.POST("/campaigns", h.checkCSRF, h.requireWriter, h.saveCampaign)
	in.POST("/campaigns/:id", h.checkCSRF, h.requireWriter, h.saveCampaign)
	in.POST("/campaigns/:id/dry-run", h.checkCSRF, h.dryRunCampaign) // writes nothing: any role
	for _, verb := range []string{"schedule", "pause", "cancel"} {
		in.POST("/campaigns/:id/"+verb, h.checkCSRF, h.requireWriter, h.campaignAction(verb))
	}
}

// Serves reports whether path is the console's (/console and below).
func Serves(path string) bool { return path == "/console" || strings.HasPrefix(path, "/console/") }

// Unrouted answers a request under /console/ that no route takes (404, or
// 405 for a path served with another method) as a console page with the
// console's headers: the router's NoRoute and NoMethod hand them here.
func (h *Handlers) Unrouted(c *gin.Context, err error) {
	setSecurityHeaders(c)
	if cl, cerr := h.caller(c); cerr == nil {
		web.SetClaims(c, cl) // the signed-in user keeps the menu
	}
	h.fail(c, err)
}

// errorPages makes web.Fail answer with the console's error page.
func (h *Handlers) errorPages(c *gin.Context) {
	web.SetErrorPage(c, h.errorPage)
	c.Next()
}

// securityHeaders: no inline script or style anywhere, no framing, no
// caching of pages that show members' data.
func securityHeaders(c *gin.Context) {
	setSecurityHeaders(c)
	c.Next()
}

func setSecurityHeaders(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
}

// filesOnly serves the files of an fs.FS and no folder: http.FileServer
// would list one.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		_ = file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}
