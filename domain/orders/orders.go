// Package orders turns the brand's order events into points: a paid order
// is evaluated by the rule engine (domain/rules) and earned as a pending lot
// that becomes available after the return window; a refund (full, or
// partial by lines) reverses the points of the refunded part, cancels what
// is still pending and turns what was already spent into debt. Growth for
// the member's tier follows the paid amount net of refunds.
//
// # Invariants
//
//   - An event id is processed once: its row is the first thing written in
//     the event's unit of work, and a replay returns the stored outcome; the
//     same id with a different body is an IdempotencyConflict.
//   - An order is earned once (ledger key "order:<order id>", with a digest
//     of the id in its place when that passes 128 bytes: ledger.KeyFor); reversals
//     never exceed what was awarded: after a refund the order has reversed
//     floor(awarded × refunded / total) points in all, and everything once
//     fully refunded.
//   - Refunds never exceed what was paid, per SKU and in total, nor the
//     quantity ordered of a SKU (when the order and the refund state one).
//   - The breakdown (rule id, version, name, points) is stored with the
//     order, so the shopper's "why" never changes when rules are edited.
//
// An event whose member is unknown is stored as unmatched and applied when
// a member with that openid registers or binds that phone (MatchMember,
// wired into member.Service.Hooks). A refund of an unmatched order only
// records the refunded amount; matching then earns and reverses at once.
package orders

import (
	"context"
	"time"

	"github.com/jifen/jifen/domain/rules"
)

// Event types.
const (
	Paid     = "paid"
	Refunded = "refunded"
)

// Order statuses.
const (
	StatusMatched   = "matched"
	StatusUnmatched = "unmatched"
)

// Outcome statuses.
const (
	Applied   = "applied"
	Unmatched = "unmatched"
)

// MemberRef names the member of an order in one of three ways.
type MemberRef struct {
	MemberID int64  `json:"member_id,omitempty"`
	OpenID   string `json:"openid,omitempty"`
	Phone    string `json:"phone,omitempty"`
}

// Line is one order (or refund) line. Money is in fen.
type Line struct {
	SKU       string `json:"sku" bind:"required"`
	Category  string `json:"category"`
	Qty       int64  `json:"qty"`
	AmountFen int64  `json:"amount_fen" bind:"required"`
}

// Event is what the order system posts.
type Event struct {
	EventID     string
	Type        string
	OrderID     string
	Member      MemberRef
	StoreID     string
	Channel     string
	OccurredAt  time.Time
	TotalFen    int64
	Lines       []Line
	RefundLines []Line
	// PointsHoldID names the checkout hold (积分抵现) a paid order used:
	// it is captured with the event. Left out of the event's hash when 0,
	// so events stored before it existed still replay.
	PointsHoldID int64 `json:",omitempty"`
	// PayerAccount is the payment account the order system saw pay a paid
	// order: an opaque id or hash of its choosing (a card token, a WeChat
	// Pay payer id), never read for what it is, only compared (risk's
	// shared_payer). Left out of the hash when "", as PointsHoldID.
	PayerAccount string `json:",omitempty"`
}

// BreakdownLine is one rule's share of an order's points.
type BreakdownLine struct {
	RuleID  int64  `json:"rule_id"`
	Version int    `json:"version"`
	Name    string `json:"name"`
	Points  int64  `json:"points"`
}

// Order is a recorded order.
type Order struct {
	ID          string
	MemberID    int64 // 0 while unmatched
	OpenID      string
	Phone       string
	Status      string
	StoreID     string
	Channel     string
	TotalFen    int64
	RefundedFen int64
	Lines       []Line
	Refunded    map[string]int64 // sku → refunded fen
	RefundedQty map[string]int64 // sku → refunded qty (of refund lines that state one)
	Points      int64            // awarded
	Reversed    int64            // reversed by refunds
	// PointsUsed are the points the order used as cash at checkout and
	// PointsReturned those refunds gave back (not stored with the order:
	// OrderPoints reads them from the checkout).
	PointsUsed     int64
	PointsReturned int64
	Breakdown      []BreakdownLine
	OccurredAt     time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Outcome is the answer to an event; a replay returns the stored one.
type Outcome struct {
	EventID        string `json:"event_id"`
	Type           string `json:"type"`
	Status         string `json:"status"` // applied | unmatched
	OrderID        string `json:"order_id"`
	MemberID       int64  `json:"member_id,omitempty"`
	PointsAwarded  int64  `json:"points_awarded"`
	PointsReversed int64  `json:"points_reversed"`
	// PointsReturned: refunded events give back this many of the points
	// the order used at checkout.
	PointsReturned int64           `json:"points_returned"`
	Breakdown      []BreakdownLine `json:"breakdown"`
	Replayed       bool            `json:"-"`
}

// EventRecord is the stored claim and answer of an event id.
type EventRecord struct {
	EventID     string
	OrderID     string
	Type        string
	RequestHash string
	Outcome     Outcome
	CreatedAt   time.Time
}

// Store keeps orders and event records; every method joins the unit of
// work in ctx.
type Store interface {
	// InsertEvent claims the event id; a taken id is ErrDuplicateEvent.
	InsertEvent(ctx context.Context, r *EventRecord) error
	// SetOutcome stores the outcome of a claimed event.
	SetOutcome(ctx context.Context, eventID string, o Outcome) error
	// EventByID reads a stored event.
	EventByID(ctx context.Context, eventID string) (EventRecord, bool, error)
	// InsertOrder stores o; a taken order id is a Conflict.
	InsertOrder(ctx context.Context, o *Order) error
	// LockOrder reads an order with a row lock.
	LockOrder(ctx context.Context, id string) (Order, bool, error)
	// SaveOrder saves the mutable fields of o.
	SaveOrder(ctx context.Context, o *Order) error
	// LockUnmatched returns (locked) the unmatched orders for openid or phone
	// (an empty value matches nothing), oldest first.
	LockUnmatched(ctx context.Context, openid, phone string) ([]Order, error)
	// UnmatchedOpenIDs reports which of openids have unmatched orders,
	// locking them as LockUnmatched does.
	UnmatchedOpenIDs(ctx context.Context, openids []string) (map[string]bool, error)
	// MemberOrder reads the member's order.
	MemberOrder(ctx context.Context, memberID int64, id string) (Order, bool, error)
	// BatchStore: the grouped reads and writes of paid events.
	BatchStore
}

// UsedPoints is points used as cash on orders (checkout.Service). Its
// writes join the event's unit of work.
type UsedPoints interface {
	// CapturePaid captures the hold a paid order names: the member's, for
	// this order and amount (else a 4xx error).
	CapturePaid(ctx context.Context, holdID, memberID int64, orderID string, totalFen int64, key string) error
	// Refunded gives back, once the member's order is refunded by
	// refundedFen of totalFen in all, the share of the points it used not
	// given back yet, and returns how many points that was.
	Refunded(ctx context.Context, memberID int64, orderID string, refundedFen, totalFen int64, key string) (int64, error)
	// Used returns the points the member's order used and got back.
	Used(ctx context.Context, memberID int64, orderID string) (used, returned int64, err error)
}

// RuleEngine evaluates rules (rules.Service).
type RuleEngine interface {
	Apply(ctx context.Context, in rules.Input) (rules.Result, error)
	// ApplyMany evaluates a group's inputs in order (rules.Service.ApplyMany).
	ApplyMany(ctx context.Context, ins []rules.Input) ([]rules.Result, error)
	// MayLimit tells whether evaluating events of trigger may draw on caps
	// or budget pools (rules.Service.MayLimit).
	MayLimit(ctx context.Context, trigger rules.Trigger) (bool, error)
}
