package hooks

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/checkout"
)

type holdRequest struct {
	checkoutOrderJSON
	OrderID  string `json:"order_id" bind:"required"`
	Points   int64  `json:"points" bind:"required"`
	ValueFen int64  `json:"value_fen" bind:"required"`
	Deadline string `json:"deadline"`
}

// CreateCheckoutHold handles POST /api/v1/hooks/checkout/holds (signed,
// Idempotency-Key): holds the points until the deadline. 201 with the
// hold; a replay answers it again with Idempotent-Replayed.
func (h *Handlers) CreateCheckoutHold(c *gin.Context) {
	var req holdRequest
	if err := h.bindSigned(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	key, err := web.IdempotencyKey(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	var deadline time.Time
	if req.Deadline != "" {
		if deadline, err = time.Parse(time.RFC3339, req.Deadline); err != nil {
			web.Fail(c, domain.FieldError("deadline", "must be RFC 3339, e.g. 2026-11-23T10:15:00+08:00"))
			return
		}
	}
	// Points at checkout are a spend: a member held for risk review pays
	// cash (403 ACCOUNT_HELD; the quote still answers).
	if err := h.Risk.CheckSpend(c.Request.Context(), req.MemberID); err != nil {
		web.Fail(c, err)
		return
	}
	out, err := h.Checkout.Hold(c.Request.Context(), checkout.HoldRequest{Order: req.order(), OrderID: req.OrderID,
		Points: req.Points, ValueFen: req.ValueFen, Deadline: deadline, Key: key})
	if err != nil {
		web.Fail(c, err)
		return
	}
	if out.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, gin.H{"hold": toHoldJSON(out, h.Checkout.Now())})
}
