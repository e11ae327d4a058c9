package hooks

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// CreateCheckoutQuote handles POST /api/v1/hooks/checkout/quote (signed):
// how many points the member may use on the order and what they are
// worth. Writes nothing.
func (h *Handlers) CreateCheckoutQuote(c *gin.Context) {
	var req checkoutOrderJSON
	if err := h.bindSigned(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	q, err := h.Checkout.Quote(c.Request.Context(), req.order())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"quote": gin.H{"member_id": q.MemberID, "available_points": q.AvailablePoints,
		"usable_points": q.UsablePoints, "value_fen": q.ValueFen, "eligible_fen": q.EligibleFen, "max_value_fen": q.MaxValueFen,
		"rate": rateJSON{Points: q.PointsPerUnit, Fen: q.UnitFen}, "policy_version": q.PolicyVersion, "reason": q.Reason}})
}
