package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/mall"
)

type mallEventRequest struct {
	Event      string `json:"event"`
	Carrier    string `json:"carrier"`
	TrackingNo string `json:"tracking_no"`
	Note       string `json:"note"`
}

// FulfilMallRedemption handles POST /api/v1/console/mall/redemptions/{id}/events
// (admin, marketer): ship (carrier, tracking_no), deliver, cancel or
// refund. Cancel and refund give the points back into the lots they came
// from and the unit back to the stock.
func (h *Handlers) FulfilMallRedemption(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req mallEventRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	r, err := h.Mall.Fulfil(c.Request.Context(), mallActor(c), id, mall.Fulfilment{Event: mall.Event(req.Event), Carrier: req.Carrier,
		TrackingNo: req.TrackingNo, Note: req.Note, Operator: "console:" + web.Claims(c).Subject})
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"redemption": toMallRedemptionJSON(r)})
}
