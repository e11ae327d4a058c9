package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// RedeemMallItem handles POST /api/v1/shopper/mall/items/{id}/redemptions
// with an Idempotency-Key and no body: one unit; a replay answers the same
// redemption with Idempotent-Replayed: true.
func (h *Handlers) RedeemMallItem(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	key, err := web.IdempotencyKey(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if !h.spendAllowed(c) {
		return
	}
	r, err := h.Mall.Redeem(c.Request.Context(), web.MemberID(c), id, key)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if r.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, gin.H{"redemption": toMallRedemptionJSON(r)})
}
