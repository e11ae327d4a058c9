package hooks

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/checkout"
)

type captureRequest struct {
	OrderID  string `json:"order_id" bind:"required"`
	TotalFen int64  `json:"total_fen" bind:"required"`
	Currency string `json:"currency" bind:"required"`
}

// CaptureCheckoutHold handles POST /api/v1/hooks/checkout/holds/{id}/capture
// (signed, Idempotency-Key): the order is paid, the held points are spent.
func (h *Handlers) CaptureCheckoutHold(c *gin.Context) {
	var req captureRequest
	if err := h.bindSigned(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
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
	out, err := h.Checkout.Capture(c.Request.Context(), id, checkout.CaptureRequest{OrderID: req.OrderID, TotalFen: req.TotalFen,
		Currency: req.Currency, Key: key})
	if err == nil && !out.Replayed {
		h.Risk.Spent(c.Request.Context(), out.MemberID) // points_laundering: the points are spent now
	}
	h.answerHold(c, out, err)
}

type releaseRequest struct {
	OrderID string `json:"order_id" bind:"required"`
}

// ReleaseCheckoutHold handles POST /api/v1/hooks/checkout/holds/{id}/release
// (signed, Idempotency-Key): the order was cancelled, the points go back
// to the lots they came from.
func (h *Handlers) ReleaseCheckoutHold(c *gin.Context) {
	var req releaseRequest
	if err := h.bindSigned(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
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
	out, err := h.Checkout.Release(c.Request.Context(), id, checkout.ReleaseRequest{OrderID: req.OrderID, Key: key})
	h.answerHold(c, out, err)
}

// GetCheckoutHold handles GET /api/v1/hooks/checkout/holds/{id} (signed
// over its method and path, SignedLine).
func (h *Handlers) GetCheckoutHold(c *gin.Context) {
	if err := h.readSignedLine(c); err != nil {
		web.Fail(c, err)
		return
	}
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	out, err := h.Checkout.Get(c.Request.Context(), id)
	h.answerHold(c, out, err)
}

func (h *Handlers) answerHold(c *gin.Context, out checkout.Checkout, err error) {
	if err != nil {
		web.Fail(c, err)
		return
	}
	if out.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusOK, gin.H{"hold": toHoldJSON(out, h.Checkout.Now())})
}
