package console

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/domain/rules"
)

type simulateRequest struct {
	Trigger rules.Trigger `json:"trigger"` // default order_paid
	Order   *struct {
		OrderID    string        `json:"order_id"`
		TotalFen   int64         `json:"total_fen"`
		Lines      []orders.Line `json:"lines"`
		StoreID    string        `json:"store_id"`
		Channel    string        `json:"channel"`
		OccurredAt *time.Time    `json:"occurred_at"`
	} `json:"order"`
	Member *struct {
		ID                 int64  `json:"id"`
		Tier               string `json:"tier"`
		Birthday           string `json:"birthday"`
		PaidOrders         int64  `json:"paid_orders"`
		PaidOrdersThisWeek int64  `json:"paid_orders_this_week"`
		FirstPurchase      bool   `json:"first_purchase"`
	} `json:"member"`
	Code   string     `json:"code"`
	Streak int        `json:"streak"`
	At     *time.Time `json:"at"`
	// Draft is a rule not saved yet, tried as if saved and active: a new
	// rule, or with DraftOf the next version of that rule.
	Draft   *ruleRequest `json:"draft"`
	DraftOf int64        `json:"draft_of"`
}

// SimulateRules handles POST /api/v1/console/rules/simulate (any role):
// what an event would earn, with the breakdown; nothing is written. With
// a draft, what it would earn once the draft is saved.
func (h *Handlers) SimulateRules(c *gin.Context) {
	var req simulateRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	in := rules.Input{Trigger: req.Trigger, Code: req.Code, Streak: req.Streak}
	if in.Trigger == "" {
		in.Trigger = rules.OrderPaid
	}
	if req.At != nil {
		in.At = *req.At
	}
	if req.Order != nil {
		if _, err := orders.CheckLines("order.lines", req.Order.Lines, 0); err != nil {
			web.Fail(c, err)
			return
		}
		o := &rules.Order{ID: req.Order.OrderID, AmountFen: req.Order.TotalFen, Store: req.Order.StoreID, Channel: req.Order.Channel}
		for _, l := range req.Order.Lines {
			o.Lines = append(o.Lines, rules.OrderLine{SKU: l.SKU, Category: l.Category, Qty: l.Qty, AmountFen: l.AmountFen})
		}
		if req.Order.OccurredAt != nil {
			o.OccurredAt = *req.Order.OccurredAt
		}
		if o.Lines == nil && o.AmountFen <= 0 {
			web.Fail(c, domain.FieldError("order.total_fen", "an order needs total_fen or lines"))
			return
		}
		in.Order = o
	}
	if m := req.Member; m != nil {
		in.Member = rules.Member{ID: m.ID, Tier: m.Tier, Birthday: m.Birthday, PaidOrders: m.PaidOrders,
			PaidOrdersThisWeek: m.PaidOrdersThisWeek, FirstPurchase: m.FirstPurchase}
	}
	if req.Draft != nil {
		if req.DraftOf < 0 {
			web.Fail(c, domain.FieldError("draft_of", "a rule id"))
			return
		}
		d := req.Draft.rule()
		d.ID = req.DraftOf
		in.Draft = &d
	} else if req.DraftOf != 0 {
		web.Fail(c, domain.FieldError("draft", "required with draft_of"))
		return
	}
	res, err := h.Rules.Simulate(c.Request.Context(), in)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if res.Lines == nil {
		res.Lines = []rules.Line{}
	}
	c.JSON(http.StatusOK, gin.H{"result": res})
}
