package checkout

import (
	"context"
	"errors"

	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
)

// Errors a Store returns (wrapped) for a taken unique key.
var (
	// ErrDuplicateKey: the hold's Idempotency-Key is taken.
	ErrDuplicateKey = errors.New("checkout: duplicate idempotency key")
	// ErrOrderHeld: the order already has a live (held or captured) checkout.
	ErrOrderHeld = errors.New("checkout: order already has a live checkout")
	// ErrStaleVersion: the policy version is taken (edited meanwhile).
	ErrStaleVersion = errors.New("checkout: policy version taken")
)

// Store keeps policies and checkouts; every method joins the unit of work
// in ctx.
type Store interface {
	// Policy returns the current (highest) policy version.
	Policy(ctx context.Context) (Policy, error)
	// InsertPolicy stores p as version p.Version; a taken version is
	// ErrStaleVersion.
	InsertPolicy(ctx context.Context, p *Policy) error

	// Insert stores c (live for its order) and sets c.ID; a taken key is
	// ErrDuplicateKey, an order with a live checkout ErrOrderHeld.
	Insert(ctx context.Context, c *Checkout) error
	// ByKey finds the checkout held with the Idempotency-Key.
	ByKey(ctx context.Context, key string) (Checkout, bool, error)
	// Lock loads a checkout with a row lock.
	Lock(ctx context.Context, id int64) (Checkout, bool, error)
	// Get loads a checkout.
	Get(ctx context.Context, id int64) (Checkout, bool, error)
	// LockLive loads (locking) the live checkout of an order.
	LockLive(ctx context.Context, orderID string) (Checkout, bool, error)
	// Live loads the live checkout of an order.
	Live(ctx context.Context, orderID string) (Checkout, bool, error)
	// Update saves c's status and returned amounts; a released checkout
	// is no longer its order's live one.
	Update(ctx context.Context, c *Checkout) error
}

// Points is the part of the ledger checkout uses; writes join the unit of
// work in ctx.
type Points interface {
	Balance(ctx context.Context, memberID int64) (ledger.Balance, error)
	Hold(ctx context.Context, in ledger.HoldInput) (ledger.Entry, error)
	Capture(ctx context.Context, in ledger.CloseHoldInput) (ledger.Entry, error)
	Release(ctx context.Context, in ledger.CloseHoldInput) (ledger.Entry, error)
	Reverse(ctx context.Context, in ledger.ReverseInput) (ledger.Entry, error)
}

// Members finds members.
type Members interface {
	ByID(ctx context.Context, id int64) (*member.Member, error)
}
