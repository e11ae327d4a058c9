package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// ListTasks handles GET /api/v1/console/tasks (any console role): tasks by
// id, paged.
func (h *Handlers) ListTasks(c *gin.Context) {
	p, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	ts, next, err := h.Tasks.List(c.Request.Context(), p.Cursor, p.Limit)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]taskJSON, len(ts))
	for i := range ts {
		out[i] = toTaskJSON(&ts[i])
	}
	c.JSON(http.StatusOK, gin.H{"tasks": out, "next_cursor": web.NextCursor(next)})
}
