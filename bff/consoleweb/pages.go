package consoleweb

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/formkey"
)

// pages are the parsed templates: each page is layout.html plus its own
// file, and fragments (rows that htmx swaps in) are named templates of
// the page files.
type pages struct{ byName map[string]*template.Template }

var pageNames = []string{"login", "error", "members", "member", "audit", "rules", "rule", "campaigns", "campaign", "dashboard", "lotteries", "lottery", "tasks", "tiers", "referrals", "guides"}

func parsePages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(template.FuncMap{
			"mul100": func(n int64) int64 { return n * 100 }, // yuan → fen for Yuan
			"sub":    func(a, b int64) int64 { return a - b },
			"list":   func(s ...string) []string { return s },
			"inc":    func(i int) int { return i + 1 },
			"int64":  func(i int) int64 { return int64(i) },
			// pair hands a sub-template the language and one value.
			"pair": func(l *lang, v any) any {
				return struct {
					L *lang
					V any
				}{l, v}
			},
		}).ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// Page is what every template gets: the language (.L.T for messages and
// .L.Points / .L.Yuan / .L.Time for values), the caller, the CSRF token
// for its forms and the page's own data.
type Page struct {
	L        *lang
	Title    string
	User     string
	Role     string
	CanWrite bool
	CSRF     string
	// FormKey is new with every rendering: the forms that write carry it,
	// so the rendering writes once however often it is sent (h.once).
	FormKey   string
	Path      string
	RequestID string
	Data      any
}

func (h *Handlers) page(c *gin.Context, titleKey string, data any, args ...any) Page {
	l := h.lang(c)
	p := Page{L: l, Title: l.T(titleKey, args...), CSRF: h.csrfToken(c), FormKey: formkey.New(), Path: c.Request.URL.RequestURI(),
		RequestID: web.RequestID(c), Data: data}
	if cl := web.Claims(c); cl != nil {
		p.User, p.Role, p.CanWrite = cl.Subject, cl.Role, console.CanWrite(cl.Role)
	}
	return p
}

// render writes the page (layout + body) or, with block set, only that
// named template of the page (an htmx fragment).
func (h *Handlers) render(c *gin.Context, status int, name, titleKey string, data any, args ...any) {
	h.renderBlock(c, status, name, "layout.html", h.page(c, titleKey, data, args...))
}

func (h *Handlers) renderBlock(c *gin.Context, status int, name, block string, p Page) {
	var buf bytes.Buffer
	if err := h.pages.byName[name].ExecuteTemplate(&buf, block, p); err != nil {
		slog.ErrorContext(c.Request.Context(), "console template", "page", name, "err", err.Error(), "request_id", web.RequestID(c))
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// problems is what a page says about an error, the one place that
// words it: the error's message, then each field's problem as
// "field: problem" (sorted), leaving out the one the message already says
// (a one-field error's message is "field: problem" itself). The
// console's own messages are keys of its messages ("problem.whole"),
// said in l's language; the services' messages are shown as they are.
func problems(l *lang, d web.ErrorDetail) []string {
	msg := l.T(d.Message)
	fields := make([]string, 0, len(d.Fields))
	for f, m := range d.Fields {
		line := f + ": " + l.T(m)
		if f+": "+m == d.Message {
			msg = line
			continue
		}
		fields = append(fields, line)
	}
	slices.Sort(fields)
	return append([]string{msg}, fields...)
}

type errorData struct {
	Status   int
	Heading  string // what the status means, in the page's language ("" for an unusual one)
	Code     domain.Code
	Problems []string
	Back     string
}

// fail answers an error as a page, with the status, message and headers
// (Retry-After) the JSON API gives for the same error: web.Fail, which
// hands it to errorPage.
func (h *Handlers) fail(c *gin.Context, err error) {
	web.SetErrorPage(c, h.errorPage)
	web.Fail(c, err)
}

// errorPage is the console's web.ErrorPage: every error answered under
// /console/ — a page's own, the rate limit's 429, the body limit's 413,
// the router's 404 and 405 — is the error page.
//
// An htmx request gets the error alone, swapped into its target
// (HX-Reswap; the pages' htmx-config swaps 4xx and 5xx answers, which
// htmx drops by default): into the target, or, for a route whose answer
// replaces a table row (htmxErrorRows), as that row in its place.
func (h *Handlers) errorPage(c *gin.Context, status int, d web.ErrorDetail) {
	back := "/console/members"
	if u, err := url.Parse(c.Request.Referer()); err == nil && strings.HasPrefix(u.Path, "/console/") {
		back = u.Path
	}
	l := h.lang(c)
	data := errorData{Status: status, Code: d.Code, Problems: problems(l, d), Back: back}
	if key := fmt.Sprintf("http.%d", status); l.T(key) != key {
		data.Heading = l.T(key)
	}
	if isHtmx(c) {
		if row, ok := htmxErrorRows[c.FullPath()]; ok {
			c.Header("HX-Reswap", "outerHTML")
			h.renderBlock(c, status, row.page, row.block, h.page(c, "error.title", data))
			return
		}
		c.Header("HX-Reswap", "innerHTML")
		h.renderBlock(c, status, "error", "hx-error", h.page(c, "error.title", data))
		return
	}
	h.render(c, status, "error", "error.title", data)
}

// htmxErrorRows are the routes whose htmx answer replaces a table row
// (hx-swap="outerHTML" on a <tr>), with the block of their page that
// answers an error as that row.
var htmxErrorRows = map[string]struct{ page, block string }{
	"/console/members/:id/journal": {"member", "journal-error"}, // "load more"
}

// isHtmx: the request is htmx's (hx-get, hx-post), whose answer is
// swapped into a part of the page rather than shown as a page.
func isHtmx(c *gin.Context) bool { return c.GetHeader("HX-Request") == "true" }
