package hooks

import (
	"time"

	"github.com/jifen/jifen/domain/checkout"
	"github.com/jifen/jifen/domain/orders"
)

// The checkout routes (points as cash, 积分抵现) are signed like the order
// webhook: the same secret, headers and window (verify).

type checkoutOrderJSON struct {
	MemberID int64         `json:"member_id" bind:"required"`
	Currency string        `json:"currency" bind:"required"`
	TotalFen int64         `json:"total_fen" bind:"required"`
	Lines    []orders.Line `json:"lines" bind:"required"`
}

func (o checkoutOrderJSON) order() checkout.Order {
	return checkout.Order{MemberID: o.MemberID, Currency: o.Currency, TotalFen: o.TotalFen, Lines: o.Lines}
}

type rateJSON struct {
	Points int64 `json:"points"`
	Fen    int64 `json:"fen"`
}

type holdJSON struct {
	ID               int64     `json:"id"`
	OrderID          string    `json:"order_id"`
	MemberID         int64     `json:"member_id"`
	Status           string    `json:"status"`
	Currency         string    `json:"currency"`
	TotalFen         int64     `json:"total_fen"`
	EligibleFen      int64     `json:"eligible_fen"`
	Points           int64     `json:"points"`
	ValueFen         int64     `json:"value_fen"`
	Rate             rateJSON  `json:"rate"`
	PolicyVersion    int       `json:"policy_version"`
	Deadline         time.Time `json:"deadline"`
	PointsReturned   int64     `json:"points_returned"`
	ValueReturnedFen int64     `json:"value_returned_fen"`
	CreatedAt        time.Time `json:"created_at"`
}

func toHoldJSON(c checkout.Checkout, now time.Time) holdJSON {
	return holdJSON{ID: c.ID, OrderID: c.OrderID, MemberID: c.MemberID, Status: string(c.StatusAt(now)), Currency: checkout.Currency,
		TotalFen: c.TotalFen, EligibleFen: c.EligibleFen, Points: c.Points, ValueFen: c.ValueFen,
		Rate: rateJSON{Points: c.PointsPerUnit, Fen: c.UnitFen}, PolicyVersion: c.PolicyVersion, Deadline: c.Deadline.UTC(),
		PointsReturned: c.ReturnedPoints, ValueReturnedFen: c.ReturnedFen, CreatedAt: c.CreatedAt.UTC()}
}
