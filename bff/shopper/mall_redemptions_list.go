package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// MyMallRedemptions handles GET /api/v1/shopper/mall/redemptions: the
// caller's redemptions, newest first, with status and codes.
func (h *Handlers) MyMallRedemptions(c *gin.Context) {
	p, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	rs, next, err := h.Mall.MyRedemptions(c.Request.Context(), web.MemberID(c), p.Limit, p.Cursor)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]mallRedemptionJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, toMallRedemptionJSON(r))
	}
	c.JSON(http.StatusOK, gin.H{"redemptions": out, "next_cursor": web.NextCursor(next)})
}
