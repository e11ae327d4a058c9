package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// PointsEntries handles GET /api/v1/shopper/points/entries?limit=&cursor=:
// the caller's journal, newest first, keyset-paginated (stable while new
// entries arrive).
func (h *Handlers) PointsEntries(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	entries, next, err := h.Ledger.Entries(c.Request.Context(), web.MemberID(c), page.Limit, page.Cursor)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]entryJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, toEntryJSON(e))
	}
	c.JSON(http.StatusOK, gin.H{"entries": out, "next_cursor": web.NextCursor(next)})
}
