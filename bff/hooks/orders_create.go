package hooks

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/orders"
)

type orderEventRequest struct {
	EventID     string           `json:"event_id"`
	Type        string           `json:"type"`
	OrderID     string           `json:"order_id"`
	Member      orders.MemberRef `json:"member"`
	StoreID     string           `json:"store_id"`
	Channel     string           `json:"channel"`
	OccurredAt  string           `json:"occurred_at"`
	TotalFen    int64            `json:"total_fen"`
	Lines       []orders.Line    `json:"lines"`
	RefundLines []orders.Line    `json:"refund_lines"`
	// PointsHoldID names the checkout hold the paid order used (captured
	// with the event).
	PointsHoldID int64 `json:"points_hold_id"`
	// PayerAccount names the payment account that paid (opaque; risk's
	// shared_payer compares it).
	PayerAccount string `json:"payer_account"`
}

// CreateOrderEvent handles POST /api/v1/hooks/orders: a signed paid or
// refunded order event. 200 applied (or replayed), 202 stored unmatched.
func (h *Handlers) CreateOrderEvent(c *gin.Context) {
	var req orderEventRequest
	if err := h.bindSigned(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	var at time.Time
	if req.OccurredAt != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, req.OccurredAt); err != nil {
			web.Fail(c, domain.FieldError("occurred_at", "must be RFC 3339, e.g. 2026-11-23T10:00:00+08:00"))
			return
		}
	}
	out, err := h.Orders.Handle(c.Request.Context(), orders.Event{EventID: req.EventID, Type: req.Type, OrderID: req.OrderID,
		Member: req.Member, StoreID: req.StoreID, Channel: req.Channel, OccurredAt: at, TotalFen: req.TotalFen,
		Lines: req.Lines, RefundLines: req.RefundLines, PointsHoldID: req.PointsHoldID, PayerAccount: req.PayerAccount})
	if err != nil {
		web.Fail(c, err)
		return
	}
	if req.PointsHoldID != 0 && req.Type == orders.Paid && out.Status == orders.Applied && !out.Replayed {
		// The event captured the member's checkout hold: points spent at the till.
		h.Risk.Spent(c.Request.Context(), out.MemberID) // points_laundering
	}
	if req.PayerAccount != "" && req.Type == orders.Paid && out.Status == orders.Applied && !out.Replayed {
		h.Risk.OrderPaid(c.Request.Context(), out.MemberID, out.OrderID, req.PayerAccount) // shared_payer
	}
	status := http.StatusOK
	if out.Status == orders.Unmatched {
		status = http.StatusAccepted
	}
	if out.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(status, out)
}
