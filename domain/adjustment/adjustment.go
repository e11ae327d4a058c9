// Package adjustment is the manual side of the ledger: a console user (or a
// shop guide) adds or removes a member's points with a reason. The ledger
// entry and the audit row are written in one unit of work, so the audit
// trail always names who moved every manually changed point.
//
// Adjustments made outside a caller's transaction (the console's) are
// committed in groups (group.go); inside one (a guide's grant, with its
// budget) or when a group fails, one by one. Both paths take the same
// decisions: input (the ledger operation, which the ledger validates and
// applies), record (the audit row) and the member lookup's NotFound.
package adjustment

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/batch"
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

// Members finds the members adjusted; a missing one is NotFound.
type Members interface {
	ByID(ctx context.Context, id int64) (*member.Member, error)
	// ByIDs loads the members of ids that exist, at once (a group's).
	ByIDs(ctx context.Context, ids []int64) (map[int64]*member.Member, error)
}

// Trail is where the audit rows go, in the caller's unit of work.
type Trail interface {
	Insert(ctx context.Context, e *audit.Entry) error
	// InsertMany writes a group's rows in one statement; nobody reads
	// their ids, so a pipelined group may send them with its COMMIT.
	InsertMany(ctx context.Context, es []audit.Entry) error
}

// Service performs audited adjustments.
type Service struct {
	Ledger  *ledger.Service
	Members Members
	Audit   Trail
	Tx      domain.UnitOfWork
	Clock   domain.Clock
	// GroupCommit commits concurrent adjustments made outside a caller's
	// transaction in groups (group.go); zero is off: each alone.
	GroupCommit batch.Settings

	group batch.Committer[*job]
}

// Request is one adjustment.
type Request struct {
	MemberID int64
	Delta    domain.Points // ±1..domain.MaxPoints (domain.ParsePointsChange)
	Reason   string
	// Key is the caller's idempotency key, and Scope the prefix that keeps
	// it apart from other callers' ("console:", "guide:7:"). The ledger key
	// and the reference id are Scope+Key as they are when they fit, else
	// Scope and a digest of Key (ledger.KeyFor, RefIDFor): a client's key
	// of 100 bytes fits neither a reference id's 64 characters nor, with a
	// long scope, a ledger key.
	Scope string
	Key   string
	Title string // shown to the shopper; "积分调整" when empty
}

// Adjust applies r for actor. An unknown member is NotFound; the ledger
// refuses zero, out-of-range and below-zero adjustments. A replayed key
// returns the first entry and writes no second audit row.
func (s *Service) Adjust(ctx context.Context, actor Actor, r Request) (ledger.Entry, error) {
	if s.GroupCommit.On(ctx, s.Tx) {
		if e, alone, err := s.submit(ctx, actor, r); !alone {
			return e, err
		}
	}
	return s.adjustAlone(ctx, actor, r)
}

// adjustAlone is the one-by-one path: its own unit of work (or the
// caller's) for the member check, the ledger entry and the audit row.
func (s *Service) adjustAlone(ctx context.Context, actor Actor, r Request) (ledger.Entry, error) {
	var e ledger.Entry
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Members.ByID(ctx, r.MemberID); err != nil {
			return err
		}
		var err error
		e, err = s.Ledger.Adjust(ctx, input(actor, r))
		if err != nil || e.Replayed {
			return err
		}
		rec := record(actor, r, e, s.Clock.Now())
		return s.Audit.Insert(ctx, &rec)
	})
	return e, err
}

// input is the ledger operation of r by actor.
func input(actor Actor, r Request) ledger.AdjustInput {
	return ledger.AdjustInput{
		MemberID: r.MemberID, Points: int64(r.Delta), Source: actor.source(), Key: ledger.KeyFor(r.Scope, r.Key), Title: r.Title,
		Ref: ledger.Ref{Type: "adjust", ID: ledger.RefIDFor(r.Scope, r.Key)}, Reason: r.Reason, Operator: actor.Role + ":" + actor.Name,
	}
}

// record is the audit row of the new entry e that r made (a replay makes
// none).
func record(actor Actor, r Request, e ledger.Entry, now time.Time) audit.Entry {
	detail, _ := json.Marshal(map[string]any{"delta": r.Delta, "reason": r.Reason, "entry_id": e.ID, "balance_after": e.BalanceAfter})
	return audit.Entry{
		Actor: actor.Name, ActorRole: actor.Role, Action: "points.adjust",
		Target: "member:" + strconv.FormatInt(r.MemberID, 10), Detail: string(detail), CreatedAt: now,
	}
}
