package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
)

// AuditList handles GET /api/v1/console/audit?target=&limit=&cursor=: who
// changed what, newest first.
func (h *Handlers) AuditList(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	target := c.Query("target")
	if len(target) > 64 {
		web.Fail(c, domain.FieldError("target", "at most 64 characters"))
		return
	}
	rows, err := h.Audit.List(c.Request.Context(), target, page.Cursor, page.Limit)
	if err != nil {
		web.Fail(c, err)
		return
	}
	var next int64
	if len(rows) == page.Limit {
		next = rows[len(rows)-1].ID
	}
	if rows == nil {
		rows = []audit.Entry{}
	}
	c.JSON(http.StatusOK, gin.H{"entries": rows, "next_cursor": web.NextCursor(next)})
}
