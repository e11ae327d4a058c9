package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/mall"
)

// RedeemMallItem handles POST /api/v1/shopper/mall/items/{id}/redemptions
// with an Idempotency-Key and no body: one unit; a replay answers the same
// redemption with Idempotent-Replayed: true. An item with a cash part
// answers the redemption reserved and its payment: the wx.requestPayment
// parameters and the deadline (docs/features/mall.md).
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
	r, err := h.Mall.Redeem(mall.WithClientIP(c.Request.Context(), c.ClientIP()), web.MemberID(c), id, key)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if r.Replayed {
		c.Header("Idempotent-Replayed", "true")
	} else if r.Points > 0 {
		h.Risk.Spent(c.Request.Context(), web.MemberID(c)) // points_laundering
	}
	out := gin.H{"redemption": toMallRedemptionJSON(r)}
	if r.Payment != nil {
		out["payment"] = toMallPaymentJSON(r.Payment)
	}
	c.JSON(http.StatusCreated, out)
}
