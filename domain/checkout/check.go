package checkout

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// Audit is what Check compares for one checkout: the row and the ledger's
// side of it.
type Audit struct {
	ID             int64
	MemberID       int64
	Status         Status
	Points         int64
	ReturnedPoints int64
	Deadline       time.Time
	// HoldFound, HoldStatus and HoldAmount are the ledger hold with the
	// reference checkout:<id>; Reversed sums the reversals of its capture.
	HoldFound  bool
	HoldStatus ledger.HoldStatus
	HoldAmount int64
	Reversed   int64
}

// Auditor reads what Check needs (the SQL store).
type Auditor interface {
	// Audit returns up to limit checkouts with id > after, ascending.
	Audit(ctx context.Context, after int64, limit int) ([]Audit, error)
}

// Violation is a broken checkout invariant.
type Violation struct {
	CheckoutID int64
	Rule       string
	Detail     string
}

// The invariants Check verifies.
const (
	RuleHold     = "a checkout's points are its ledger hold, in the same state"
	RuleReturned = "points returned == Σ reversals of the capture <= points"
)

// Check verifies every checkout against the ledger, batchSize at a time,
// and returns what is broken and how many checkouts it checked. A held
// checkout whose ledger hold the timeout job released is sound.
func Check(ctx context.Context, a Auditor, batchSize int) ([]Violation, int, error) {
	var out []Violation
	n, err := domain.EachPage(ctx, batchSize, a.Audit, func(c Audit) int64 { return c.ID }, func(c Audit) {
		want := map[Status]ledger.HoldStatus{Held: ledger.HoldOpen, Captured: ledger.HoldCaptured, Released: ledger.HoldReleased}[c.Status]
		timedOut := c.Status == Held && c.HoldStatus == ledger.HoldReleased
		if !c.HoldFound || c.HoldAmount != c.Points || (c.HoldStatus != want && !timedOut) {
			out = append(out, Violation{c.ID, RuleHold, fmt.Sprintf("checkout %s %d points, ledger hold found %v %s %d points",
				c.Status, c.Points, c.HoldFound, c.HoldStatus, c.HoldAmount)})
		}
		if c.ReturnedPoints != c.Reversed || c.ReturnedPoints > c.Points {
			out = append(out, Violation{c.ID, RuleReturned, fmt.Sprintf("returned %d, reversed %d, points %d", c.ReturnedPoints, c.Reversed, c.Points)})
		}
	})
	if err != nil {
		return nil, n, err
	}
	return out, n, nil
}
