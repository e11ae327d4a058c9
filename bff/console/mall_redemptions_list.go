package console

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/mall"
)

// MallRedemptions handles GET /api/v1/console/mall/redemptions
// ?status=&item_id=&member_id= (any console role): redemptions newest
// first, keyset paged — the fulfilment queue (status=paid: to ship or to
// collect) and the lookup a cancel or refund starts from.
func (h *Handlers) MallRedemptions(c *gin.Context) {
	p, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	f := mall.RedemptionFilter{Status: mall.Status(c.Query("status"))}
	for name, dst := range map[string]*int64{"item_id": &f.ItemID, "member_id": &f.MemberID} {
		if s := c.Query(name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 1 {
				web.Fail(c, domain.FieldError(name, "must be a positive integer"))
				return
			}
			*dst = n
		}
	}
	rs, next, err := h.Mall.FindRedemptions(c.Request.Context(), f, p.Limit, p.Cursor)
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
