package guide

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

type pickupRequest struct {
	Code string `json:"code"`
}

// pickupJSON is what the guide sees of a collected redemption.
type pickupJSON struct {
	RedemptionID int64  `json:"redemption_id"`
	ItemID       int64  `json:"item_id"`
	ItemName     string `json:"item_name"`
	MemberID     int64  `json:"member_id"`
	Status       string `json:"status"`
	StoreID      int64  `json:"store_id"`
}

// VerifyMallPickup handles POST /api/v1/guide/mall/pickups: the guide
// checks a shopper's pickup code (核销) in their store; the code works
// once, and only in the item's pickup stores unless mall.pickup_any_store;
// a disabled guide's token verifies nothing (403).
func (h *Handlers) VerifyMallPickup(c *gin.Context) {
	var req pickupRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	if req.Code == "" {
		web.Fail(c, domain.FieldError("code", "required"))
		return
	}
	g, err := h.Guides.Active(c.Request.Context(), guideID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	r, err := h.Mall.VerifyPickup(c.Request.Context(), req.Code, g.StoreID, h.PickupAnyStore)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"pickup": pickupJSON{RedemptionID: r.ID, ItemID: r.ItemID, ItemName: r.ItemName,
		MemberID: r.MemberID, Status: string(r.Status), StoreID: r.StoreID}})
}
