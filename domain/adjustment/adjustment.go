// Package adjustment is the manual side of the ledger: a console user (or a
// shop guide) adds or removes a member's points with a reason. The ledger
// entry and the audit row are written in one unit of work, so the audit
// trail always names who moved every manually changed point.
package adjustment

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
)

// Actor is who adjusts.
type Actor struct {
	Name string // console username or guide userid
	Role string // admin, marketer, guide
}

// source is the earning source of the points actor credits: a guide's
// grants have their own expiry policy, every other actor is the console.
func (a Actor) source() ledger.Source {
	if a.Role == "guide" {
		return ledger.SourceGuideGrants
	}
	return ledger.SourceConsole
}

// Service performs audited adjustments.
type Service struct {
	Ledger  *ledger.Service
	Members member.Store
	Audit   audit.Store
	Tx      domain.UnitOfWork
	Clock   domain.Clock
}

// Request is one adjustment.
type Request struct {
	MemberID int64
	Delta    domain.Points // ±1..domain.MaxPoints (domain.ParsePointsChange)
	Reason   string
	Key      string // idempotency key, scoped by the caller
	Title    string // shown to the shopper; "积分调整" when empty
}

// Adjust applies r for actor. An unknown member is NotFound; the ledger
// refuses zero, out-of-range and below-zero adjustments. A replayed key
// returns the first entry and writes no second audit row.
func (s *Service) Adjust(ctx context.Context, actor Actor, r Request) (ledger.Entry, error) {
	var e ledger.Entry
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Members.ByID(ctx, r.MemberID); err != nil {
			return err
		}
		var err error
		e, err = s.Ledger.Adjust(ctx, ledger.AdjustInput{
			MemberID: r.MemberID, Points: int64(r.Delta), Source: actor.source(), Key: r.Key, Title: r.Title,
			Ref: ledger.Ref{Type: "adjust", ID: r.Key}, Reason: r.Reason, Operator: actor.Role + ":" + actor.Name,
		})
		if err != nil || e.Replayed {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"delta": r.Delta, "reason": r.Reason, "entry_id": e.ID, "balance_after": e.BalanceAfter})
		return s.Audit.Insert(ctx, &audit.Entry{
			Actor: actor.Name, ActorRole: actor.Role, Action: "points.adjust",
			Target: "member:" + strconv.FormatInt(r.MemberID, 10), Detail: string(detail), CreatedAt: s.Clock.Now(),
		})
	})
	return e, err
}
