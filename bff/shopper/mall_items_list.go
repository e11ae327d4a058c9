package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// MallItems handles GET /api/v1/shopper/mall/items: the catalogue, by
// category, in catalogue order with keyset paging.
func (h *Handlers) MallItems(c *gin.Context) {
	p, err := web.ParseMallPage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	items, next, err := h.Mall.Browse(c.Request.Context(), p)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]mallItemJSON, 0, len(items))
	for i := range items {
		out = append(out, toMallItemJSON(&items[i]))
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "next_cursor": web.MallCursor(next)})
}
