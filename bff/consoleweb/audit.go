package consoleweb

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
)

type auditData struct {
	Target  string
	Entries []audit.Entry
	Next    int64
}

// auditLog is GET /console/audit?target=&cursor=: who changed what, newest
// first, through the same Audit.List as GET /api/v1/console/audit.
func (h *Handlers) auditLog(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	d := auditData{Target: c.Query("target")}
	if len(d.Target) > 64 {
		h.fail(c, domain.FieldError("target", "at most 64 characters"))
		return
	}
	page.Limit = 50
	if d.Entries, err = h.API.Audit.List(c.Request.Context(), d.Target, page.Cursor, page.Limit); err != nil {
		h.fail(c, err)
		return
	}
	if len(d.Entries) == page.Limit {
		d.Next = d.Entries[len(d.Entries)-1].ID
	}
	h.render(c, http.StatusOK, "audit", "audit.title", d)
}
