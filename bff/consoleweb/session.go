package consoleweb

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/session"
)

const (
	sessionCookie = "jifen_console"
	langCookie    = "jifen_lang"
	csrfField     = "csrf_token"
	csrfHeader    = "X-CSRF-Token"
)

func (h *Handlers) csrfCookie() string {
	if h.Secure {
		return "__Host-jifen_csrf" // only this host, only over HTTPS: a sibling domain cannot plant one
	}
	return "jifen_csrf"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (h *Handlers) setCookie(c *gin.Context, name, value string, maxAge int, httpOnly bool) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: h.Secure, SameSite: http.SameSiteStrictMode})
}

// csrfToken returns the browser's CSRF token, issuing one when it has none.
// Double submit: the token sits in an HttpOnly, SameSite=Strict cookie and
// in every form; a POST whose two copies differ is refused.
func (h *Handlers) csrfToken(c *gin.Context) string {
	if v, _ := c.Get(csrfField); v != nil {
		return v.(string)
	}
	tok, err := c.Cookie(h.csrfCookie())
	if err != nil || len(tok) != 64 {
		tok = randomHex(32)
		h.setCookie(c, h.csrfCookie(), tok, 0, true)
	}
	c.Set(csrfField, tok)
	return tok
}

func (h *Handlers) checkCSRF(c *gin.Context) {
	// The form first: one larger than the body limit (sent without a
	// Content-Length, so read up to the limit) is 413, not a form whose
	// token went missing.
	if err := c.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(c, &domain.Error{Code: web.CodeTooLarge, Message: fmt.Sprintf("request body larger than %d bytes", tooBig.Limit)})
			return
		}
		h.fail(c, domain.Errorf(domain.Invalid, "problem.unreadable"))
		return
	}
	cookie, _ := c.Cookie(h.csrfCookie())
	sent := c.GetHeader(csrfHeader)
	if sent == "" {
		sent = c.PostForm(csrfField)
	}
	if cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(sent)) != 1 {
		h.fail(c, domain.Errorf(domain.Forbidden, "problem.csrf"))
		return
	}
	// Browsers that send Fetch Metadata also tell a cross-site POST apart.
	if err := http.NewCrossOriginProtection().Check(c.Request); err != nil {
		h.fail(c, domain.Errorf(domain.Forbidden, "problem.cross_origin"))
		return
	}
	// A browser sends the pages' forms as UTF-8; anything else is a
	// hand-made POST whose text MySQL's utf8mb4 columns would refuse.
	_ = c.PostForm(csrfField) // parses the form: the token may have come in the header
	for k, vs := range c.Request.PostForm {
		for _, v := range vs {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				h.fail(c, domain.FieldError(strings.ToValidUTF8(k, "?"), "problem.utf8"))
				return
			}
		}
	}
	c.Next()
}

// session lets signed-in console users through and sends the others to
// the sign-in page. A token past half its life is renewed, so a marketer
// at work is not signed out mid-task, but only after the database says
// its session was not signed out (Sessions.CheckRenewal): Redis may not
// hold a sign-out made a second ago on an instance that could not reach
// it, and a token renewed then would outlive the sign-out's denial.
func (h *Handlers) session(c *gin.Context) {
	ctx := c.Request.Context()
	cl, err := h.caller(c)
	renew := err == nil && cl.ExpiresAt != nil && cl.ExpiresAt.Sub(h.Clock.Now()) < h.Tokens.TTL/2
	if renew {
		// A database that does not answer only postpones the renewal:
		// the token in hand is still good.
		if rerr := h.Sessions.CheckRenewal(ctx, cl.Sid, cl.ID); rerr != nil {
			renew = false
			if errors.Is(rerr, session.Closed()) {
				err = rerr
			}
		}
	}
	if err != nil {
		switch {
		case isHtmx(c):
			// htmx would swap the sign-in page into a part of the page (or
			// drop a 401): the whole page goes, and comes back to the page
			// the user was on, not to the fragment's URL.
			c.Header("HX-Redirect", signInPath(currentPage(c)))
			c.AbortWithStatus(http.StatusUnauthorized)
		case c.Request.Method == http.MethodGet:
			c.Redirect(http.StatusSeeOther, signInPath(c.Request.URL.RequestURI()))
			c.Abort()
		default:
			// A form sent after the session ended (left open past
			// auth.access_ttl): nothing is written; the sign-in page says
			// so and comes back to the form's page (the Referer, which the
			// pages' Referrer-Policy sends to their own origin).
			next := ""
			if u, err := url.Parse(c.Request.Referer()); err == nil && (u.Host == "" || u.Host == c.Request.Host) {
				next = u.RequestURI()
			}
			c.Redirect(http.StatusSeeOther, signInPath(next)+"&unsaved=1")
			c.Abort()
		}
		return
	}
	if renew {
		if tok, err := h.Tokens.SignSession(auth.Console, cl.Subject, cl.Role, cl.Sid); err == nil {
			h.setSession(c, tok)
		}
	}
	web.SetClaims(c, cl)
	c.Next()
}

// caller is the signed-in user of the session cookie, or why there is none.
func (h *Handlers) caller(c *gin.Context) (*auth.Claims, error) {
	raw, _ := c.Cookie(sessionCookie)
	cl, err := h.Tokens.Verify(raw, auth.Console)
	if err == nil {
		err = h.Sessions.Check(c.Request.Context(), cl.Sid, cl.ID)
	}
	if err == nil {
		// The user as console.users has them now: one removed since the
		// sign-in is signed out, one given another role works with it (and
		// the renewed token carries it), however long the cookie is renewed.
		cl, err = h.API.Current(cl)
	}
	return cl, err
}

func (h *Handlers) setSession(c *gin.Context, tok string) {
	h.setCookie(c, sessionCookie, tok, int(h.Tokens.TTL/time.Second), true)
}

func (h *Handlers) requireWriter(c *gin.Context) {
	if !console.CanWrite(web.Claims(c).Role) {
		h.fail(c, domain.Errorf(domain.Forbidden, "%s", h.lang(c).T("problem.writers", strings.Join(console.Writers, ", "))))
		return
	}
	c.Next()
}

// signInPath is the sign-in page that goes on to next (a console path)
// once signed in.
func signInPath(next string) string { return "/console/login?next=" + url.QueryEscape(safeNext(next)) }

// currentPage is the page an htmx request was sent from (HX-Current-URL):
// its path and query alone, for safeNext to keep inside the console.
func currentPage(c *gin.Context) string {
	u, err := url.Parse(c.GetHeader("HX-Current-URL"))
	if err != nil {
		return ""
	}
	return u.RequestURI()
}

// safeNext keeps a post-login redirect inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/console/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return next
	}
	return "/console/dashboard"
}

type loginData struct {
	Next     string
	Username string
	Error    string
	Unsaved  bool // sent here by a form the ended session did not save
}

func (h *Handlers) loginForm(c *gin.Context) {
	h.render(c, http.StatusOK, "login", "login.title", loginData{Next: safeNext(c.Query("next")), Unsaved: c.Query("unsaved") != ""})
}

func (h *Handlers) login(c *gin.Context) {
	d := loginData{Next: safeNext(c.PostForm("next")), Username: c.PostForm("username")}
	u, _, err := h.API.SignIn(c.Request.Context(), c.ClientIP(), d.Username, c.PostForm("password"))
	var tok string
	if err == nil {
		// The cookie's tokens share a session id, kept when one is
		// renewed, so signing out ends them all.
		tok, err = h.Tokens.SignSession(auth.Console, u.Username, u.Role, auth.NewSessionID())
	}
	if err != nil {
		if s := console.RetryAfterSeconds(err); s != "" {
			c.Header("Retry-After", s)
		}
		status, detail := web.Describe(c, err)
		l := h.lang(c)
		switch s := console.RetryAfterSeconds(err); {
		case detail.Code == domain.Unauthorized:
			d.Error = l.T("login.wrong")
		case detail.Code == domain.RateLimited && s != "":
			d.Error = l.T("login.locked", s)
		default:
			d.Error = strings.Join(problems(l, detail), " ")
		}
		h.render(c, status, "login", "login.title", d)
		return
	}
	h.setSession(c, tok)
	c.Redirect(http.StatusSeeOther, d.Next)
}

// logout ends the cookie's token on the server too: a copy of the cookie
// taken before the sign-out no longer opens the console. A session that
// has ended already has nothing to end: the browser goes to the sign-in
// page all the same.
func (h *Handlers) logout(c *gin.Context) {
	if cl, err := h.caller(c); err == nil {
		if err := h.Sessions.End(c.Request.Context(), cl.Sid, cl.ID); err != nil {
			h.fail(c, err)
			return
		}
	}
	h.setCookie(c, sessionCookie, "", -1, true)
	c.Redirect(http.StatusSeeOther, "/console/login")
}

func (h *Handlers) setLanguage(c *gin.Context) {
	l := c.Param("lang")
	if _, ok := languages[l]; !ok {
		l = defaultLang
	}
	h.setCookie(c, langCookie, l, 365*24*3600, false)
	back := c.Query("next")
	if back == "" {
		back = "/console/members"
	}
	c.Redirect(http.StatusSeeOther, safeNext(back))
}
