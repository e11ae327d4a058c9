package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// ListGuides handles GET /api/v1/console/guides?limit=&cursor=, by id.
func (h *Handlers) ListGuides(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	gs, next, err := h.Guides.Guides(c.Request.Context(), page.Cursor, page.Limit)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]web.GuideJSON, len(gs))
	for i := range gs {
		out[i] = web.ToGuideJSON(&gs[i])
	}
	c.JSON(http.StatusOK, gin.H{"guides": out, "next_cursor": web.NextCursor(next)})
}
