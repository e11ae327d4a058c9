package consoleweb

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/audit"
)

type auditData struct {
	Actor, Action, Target, From, To string
	Errors                          []string
	Entries                         []audit.Entry
	// Next is the next page: the same filters, the cursor moved.
	Next template.URL
}

// auditLog is GET /console/audit?actor=&action=&target=&from=&to=&cursor=:
// who changed what, newest first, narrowed by actor, action (or an action
// prefix such as "rule."), target and Asia/Shanghai days, through the same
// console.ParseAuditFilter and Audit.Search as GET /api/v1/console/audit.
func (h *Handlers) auditLog(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	d := auditData{Actor: c.Query("actor"), Action: c.Query("action"), Target: c.Query("target"), From: c.Query("from"), To: c.Query("to")}
	f, err := console.ParseAuditFilter(c.Query)
	if err != nil {
		// The form comes back as typed, with the problem named.
		status, desc := web.Describe(c, err)
		d.Errors = problems(h.lang(c), desc)
		h.render(c, status, "audit", "audit.title", d)
		return
	}
	page.Limit = 50
	if d.Entries, err = h.API.Audit.Search(c.Request.Context(), f, page.Cursor, page.Limit); err != nil {
		h.fail(c, err)
		return
	}
	if len(d.Entries) == page.Limit {
		q := url.Values{}
		for k, v := range map[string]string{"actor": d.Actor, "action": d.Action, "target": d.Target, "from": d.From, "to": d.To} {
			if v != "" {
				q.Set(k, v)
			}
		}
		q.Set("cursor", strconv.FormatInt(d.Entries[len(d.Entries)-1].ID, 10))
		d.Next = template.URL("/console/audit?" + q.Encode()) // built from url.Values: safe
	}
	h.render(c, http.StatusOK, "audit", "audit.title", d)
}
