package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// MallItem handles GET /api/v1/shopper/mall/items/{id}: the item with the
// caller's remaining limit, whether they can afford it and, when they may
// not redeem it now, why.
func (h *Handlers) MallItem(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	d, err := h.Mall.Detail(c.Request.Context(), web.MemberID(c), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	var limitLeft *int
	if d.Verdict.LimitLeft >= 0 {
		n := d.Verdict.LimitLeft
		limitLeft = &n
	}
	c.JSON(http.StatusOK, gin.H{"item": toMallItemJSON(d.Item), "limit_left": limitLeft, "affordable": d.Verdict.Affordable,
		"can_redeem": d.Refusal == "", "refusal": gin.H{"code": string(d.RefusalCode), "message": d.Refusal}})
}
