package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

type orderPointLineJSON struct {
	Rule    string `json:"rule"`
	RuleID  int64  `json:"rule_id"`
	Version int    `json:"version"`
	Points  int64  `json:"points"`
}

// OrderPoints handles GET /api/v1/shopper/orders/{order_id}/points: why an
// order earned what it earned, and the points it used at checkout and got
// back. Another member's order is 404.
func (h *Handlers) OrderPoints(c *gin.Context) {
	o, err := h.Orders.OrderPoints(c.Request.Context(), web.MemberID(c), c.Param("order_id"))
	if err != nil {
		web.Fail(c, err)
		return
	}
	lines := make([]orderPointLineJSON, 0, len(o.Breakdown))
	for _, l := range o.Breakdown {
		lines = append(lines, orderPointLineJSON{Rule: l.Name, RuleID: l.RuleID, Version: l.Version, Points: l.Points})
	}
	c.JSON(http.StatusOK, gin.H{"order_id": o.ID, "total_fen": o.TotalFen, "refunded_fen": o.RefundedFen,
		"points": o.Points, "reversed": o.Reversed, "points_used": o.PointsUsed, "points_returned": o.PointsReturned, "lines": lines, "occurred_at": o.OccurredAt.UTC()})
}
