package checkout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/orders"
)

// Service runs points at checkout.
type Service struct {
	Store   Store
	Points  Points
	Members Members
	Audit   audit.Store
	Tx      domain.UnitOfWork
	Clock   domain.Clock
}

// operator is who the journal says moved the points.
const operator = "order-system"

func ledgerRef(id int64) ledger.Ref { return ledger.Ref{Type: RefType, ID: strconv.FormatInt(id, 10)} }

// Order is the order at checkout, as the order system describes it.
type Order struct {
	MemberID int64
	Currency string
	TotalFen int64
	Lines    []orders.Line // each of qty 1 to orders.MaxQty
}

func (o *Order) validate() error {
	if o.MemberID <= 0 {
		return domain.FieldError("member_id", "must be positive")
	}
	if err := checkCurrency(o.Currency); err != nil {
		return err
	}
	if _, err := domain.ParseFen("total_fen", o.TotalFen); err != nil {
		return err
	}
	if len(o.Lines) == 0 {
		return domain.FieldError("lines", "at least one line")
	}
	sum, err := orders.CheckLines("lines", o.Lines, 1)
	if err != nil {
		return err
	}
	if sum != o.TotalFen {
		return domain.FieldError("lines", fmt.Sprintf("line amounts sum to %d fen, total_fen is %d", sum, o.TotalFen))
	}
	return nil
}

func checkCurrency(c string) error {
	if c != Currency {
		return domain.FieldError("currency", `must be "CNY"`)
	}
	return nil
}

func checkOrderID(id string) error {
	if strings.TrimSpace(id) == "" || utf8.RuneCountInString(id) > 64 {
		return domain.FieldError("order_id", "1 to 64 characters")
	}
	return nil
}

func checkKey(k string) error {
	if strings.TrimSpace(k) == "" || len(k) > 100 {
		return domain.FieldError("Idempotency-Key", "1 to 100 characters")
	}
	return nil
}

// Quote is what an order may use.
type Quote struct {
	MemberID        int64
	AvailablePoints int64
	UsablePoints    int64
	ValueFen        int64 // what UsablePoints are worth
	EligibleFen     int64
	MaxValueFen     int64 // the most the policy lets points pay on this order
	PointsPerUnit   int64
	UnitFen         int64
	PolicyVersion   int
	// Reason says why nothing is usable ("" when something is).
	Reason string
}

func (s *Service) member(ctx context.Context, id int64) error {
	if _, err := s.Members.ByID(ctx, id); err != nil {
		if domain.ErrorCode(err) == domain.NotFound {
			return domain.Errorf(domain.NotFound, "no member %d", id)
		}
		return err
	}
	return nil
}

// Quote answers how many points the member may use on the order and what
// they are worth. It writes nothing.
func (s *Service) Quote(ctx context.Context, o Order) (Quote, error) {
	if err := o.validate(); err != nil {
		return Quote{}, err
	}
	if err := s.member(ctx, o.MemberID); err != nil {
		return Quote{}, err
	}
	p, err := s.Store.Policy(ctx)
	if err != nil {
		return Quote{}, err
	}
	bal, err := s.Points.Balance(ctx, o.MemberID)
	if err != nil {
		return Quote{}, err
	}
	eligible, maxUnits, reason := p.Limit(o.TotalFen, o.Lines)
	units := min(maxUnits, bal.Available/p.PointsPerUnit)
	if units == 0 && reason == "" {
		reason = fmt.Sprintf("%d points available; points are used in units of %d", bal.Available, p.PointsPerUnit)
	}
	return Quote{MemberID: o.MemberID, AvailablePoints: bal.Available, UsablePoints: units * p.PointsPerUnit,
		ValueFen: units * p.UnitFen, EligibleFen: eligible, MaxValueFen: maxUnits * p.UnitFen,
		PointsPerUnit: p.PointsPerUnit, UnitFen: p.UnitFen, PolicyVersion: p.Version, Reason: reason}, nil
}

// HoldRequest asks to hold points for an order until Deadline (zero: now
// + DefaultHold).
type HoldRequest struct {
	Order
	OrderID  string
	Points   int64
	ValueFen int64
	Deadline time.Time
	Key      string
}

func (r *HoldRequest) hash() string {
	b, _ := json.Marshal(r)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Hold reserves the points for the order. The same Idempotency-Key again
// answers the first checkout (Replayed); with another request it is an
// IdempotencyConflict. More points than the policy allows on the order is
// a RuleViolation, more than the member has PointsInsufficient; nothing is
// written then.
func (s *Service) Hold(ctx context.Context, in HoldRequest) (Checkout, error) {
	now := s.Clock.Now().UTC().Truncate(time.Millisecond) // as stored: a replay answers the same
	if err := firstErr(in.Order.validate(), checkOrderID(in.OrderID), checkKey(in.Key)); err != nil {
		return Checkout{}, err
	}
	if _, err := domain.ParsePoints("points", in.Points); err != nil {
		return Checkout{}, err
	}
	if _, err := domain.ParseFen("value_fen", in.ValueFen); err != nil {
		return Checkout{}, err
	}
	// The key first: a request sent again answers the hold it placed,
	// whatever the clock says of the deadline it named by now.
	hash := in.hash()
	if prior, found, err := s.Store.ByKey(ctx, in.Key); err != nil {
		return Checkout{}, err
	} else if found {
		return replay(prior, hash)
	}
	deadline := in.Deadline
	if deadline.IsZero() {
		deadline = now.Add(DefaultHold)
	}
	if !deadline.After(now) || deadline.After(now.Add(MaxHold)) {
		return Checkout{}, domain.FieldError("deadline", fmt.Sprintf("must be in the next %s", MaxHold))
	}
	deadline = deadline.UTC().Truncate(time.Second)
	if err := s.member(ctx, in.MemberID); err != nil {
		return Checkout{}, err
	}
	p, err := s.Store.Policy(ctx)
	if err != nil {
		return Checkout{}, err
	}
	eligible, maxUnits, reason := p.Limit(in.TotalFen, in.Lines)
	if in.Points%p.PointsPerUnit != 0 {
		return Checkout{}, domain.FieldError("points", fmt.Sprintf("must be a multiple of %d (points are used in whole units)", p.PointsPerUnit))
	}
	units := in.Points / p.PointsPerUnit
	if units > maxUnits {
		if reason != "" {
			return Checkout{}, domain.Errorf(domain.RuleViolation, "%s", reason)
		}
		return Checkout{}, domain.Errorf(domain.RuleViolation, "at most %d points (%d fen) may be used on this order, %d asked",
			maxUnits*p.PointsPerUnit, maxUnits*p.UnitFen, in.Points)
	}
	if units*p.UnitFen != in.ValueFen {
		return Checkout{}, domain.Errorf(domain.RuleViolation, "%d points are worth %d fen, value_fen is %d", in.Points, units*p.UnitFen, in.ValueFen)
	}
	c := Checkout{MemberID: in.MemberID, OrderID: in.OrderID, Key: in.Key, RequestHash: hash, Status: Held,
		TotalFen: in.TotalFen, EligibleFen: eligible, Points: in.Points, ValueFen: in.ValueFen,
		PointsPerUnit: p.PointsPerUnit, UnitFen: p.UnitFen, PolicyVersion: p.Version, Deadline: deadline,
		CreatedAt: now, UpdatedAt: now}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		c.ID = 0
		err := s.Store.Insert(ctx, &c)
		if errors.Is(err, ErrOrderHeld) {
			if err = s.replaceExpired(ctx, in.OrderID, now); err == nil {
				err = s.Store.Insert(ctx, &c)
			}
		}
		if err != nil {
			return err
		}
		_, err = s.Points.Hold(ctx, ledger.HoldInput{MemberID: c.MemberID, Points: c.Points, Key: "checkout:hold:" + in.Key,
			Ref: ledgerRef(c.ID), Deadline: deadline, Operator: operator})
		return err
	})
	if errors.Is(err, ErrDuplicateKey) {
		prior, found, perr := s.Store.ByKey(ctx, in.Key)
		if perr != nil || !found {
			return Checkout{}, errors.Join(err, perr)
		}
		return replay(prior, hash)
	}
	if err != nil {
		return Checkout{}, err
	}
	return c, nil
}

// replaceExpired makes way for a new hold of orderID: its live checkout
// must be a hold whose deadline has passed, which is released now (unless
// the ledger's job already did).
func (s *Service) replaceExpired(ctx context.Context, orderID string, now time.Time) error {
	cur, found, err := s.Store.LockLive(ctx, orderID)
	if err != nil {
		return err
	}
	if !found {
		return domain.Errorf(domain.Conflict, "order %s is being held by another request; retry", orderID)
	}
	if cur.StatusAt(now) != Expired {
		return domain.Errorf(domain.Conflict, "order %s already has hold %d (%s)", orderID, cur.ID, cur.Status)
	}
	return s.release(ctx, &cur, "checkout:expired:"+strconv.FormatInt(cur.ID, 10), now)
}

func replay(prior Checkout, hash string) (Checkout, error) {
	if prior.RequestHash != hash {
		return Checkout{}, domain.Errorf(domain.IdempotencyConflict, "this Idempotency-Key was used for a different hold")
	}
	prior.Replayed = true
	return prior, nil
}

// CaptureRequest names what the order system believes it captures.
type CaptureRequest struct {
	OrderID  string
	TotalFen int64
	Currency string
	Key      string
}

// lockFor loads (locking) checkout id and checks that it is the order's.
func (s *Service) lockFor(ctx context.Context, id int64, orderID string) (Checkout, error) {
	c, found, err := s.Store.Lock(ctx, id)
	if err != nil {
		return Checkout{}, err
	}
	if !found {
		return Checkout{}, domain.Errorf(domain.NotFound, "no hold %d", id)
	}
	if c.OrderID != orderID {
		return Checkout{}, domain.Errorf(domain.RuleViolation, "hold %d is for order %s, not %s", id, c.OrderID, orderID)
	}
	return c, nil
}

// Capture spends the held points: the order is paid. A second capture
// (another key) is a Conflict, as is a capture after the deadline; the
// same key again answers the checkout (Replayed).
func (s *Service) Capture(ctx context.Context, id int64, in CaptureRequest) (Checkout, error) {
	if err := firstErr(checkOrderID(in.OrderID), checkCurrency(in.Currency), checkKey(in.Key)); err != nil {
		return Checkout{}, err
	}
	if _, err := domain.ParseFen("total_fen", in.TotalFen); err != nil {
		return Checkout{}, err
	}
	var out Checkout
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.lockFor(ctx, id, in.OrderID)
		if err != nil {
			return err
		}
		if c.TotalFen != in.TotalFen {
			return domain.Errorf(domain.RuleViolation, "total_fen %d does not match the %d fen the hold was placed for", in.TotalFen, c.TotalFen)
		}
		if err := s.capture(ctx, &c, "checkout:capture:"+in.Key); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// capture captures c's ledger hold with key (a replay when the key did it
// already) and marks c captured.
func (s *Service) capture(ctx context.Context, c *Checkout, key string) error {
	e, err := s.Points.Capture(ctx, ledger.CloseHoldInput{MemberID: c.MemberID, Hold: ledgerRef(c.ID), Key: key, Operator: operator})
	if err != nil {
		return err
	}
	if e.Replayed {
		c.Replayed = true
		return nil
	}
	c.Status, c.UpdatedAt = Captured, s.Clock.Now()
	return s.Store.Update(ctx, c)
}

// CapturePaid captures hold id for a paid order event of memberID, in the
// event's unit of work: the hold must be this member's and this order's,
// for the same amount. A hold captured already (through Capture) is fine.
func (s *Service) CapturePaid(ctx context.Context, id, memberID int64, orderID string, totalFen int64, key string) error {
	c, found, err := s.Store.Lock(ctx, id)
	if err != nil {
		return err
	}
	if !found || c.MemberID != memberID {
		return domain.Errorf(domain.NotFound, "points_hold_id: no hold %d for this member", id)
	}
	if c.OrderID != orderID {
		return domain.Errorf(domain.RuleViolation, "points_hold_id: hold %d is for order %s", id, c.OrderID)
	}
	if c.TotalFen != totalFen {
		return domain.Errorf(domain.RuleViolation, "total_fen %d does not match the %d fen hold %d was placed for", totalFen, c.TotalFen, id)
	}
	if c.Status == Captured {
		return nil
	}
	return s.capture(ctx, &c, key)
}

// ReleaseRequest names the order whose hold is cancelled.
type ReleaseRequest struct {
	OrderID string
	Key     string
}

// Release gives the held points back (the order was cancelled). Releasing
// a captured hold is a Conflict; a hold the timeout released already
// answers released.
func (s *Service) Release(ctx context.Context, id int64, in ReleaseRequest) (Checkout, error) {
	if err := firstErr(checkOrderID(in.OrderID), checkKey(in.Key)); err != nil {
		return Checkout{}, err
	}
	var out Checkout
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.lockFor(ctx, id, in.OrderID)
		if err != nil {
			return err
		}
		if err := s.release(ctx, &c, "checkout:release:"+in.Key, s.Clock.Now()); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// release releases c's ledger hold with key. When the ledger refuses
// because its expired-hold job released the hold first, c is marked
// released all the same.
func (s *Service) release(ctx context.Context, c *Checkout, key string, now time.Time) error {
	e, err := s.Points.Release(ctx, ledger.CloseHoldInput{MemberID: c.MemberID, Hold: ledgerRef(c.ID), Key: key, Operator: operator})
	switch {
	case err == nil && e.Replayed:
		c.Replayed = true
		return nil
	case err == nil:
	case domain.ErrorCode(err) == domain.Conflict && c.StatusAt(now) == Expired:
		// Past its deadline a held checkout cannot have been captured:
		// the job released it.
	default:
		return err
	}
	c.Status, c.UpdatedAt = Released, now
	return s.Store.Update(ctx, c)
}

// Get returns a checkout.
func (s *Service) Get(ctx context.Context, id int64) (Checkout, error) {
	c, found, err := s.Store.Get(ctx, id)
	if err != nil {
		return Checkout{}, err
	}
	if !found {
		return Checkout{}, domain.Errorf(domain.NotFound, "no hold %d", id)
	}
	return c, nil
}

// Now is the service clock's now (for StatusAt in answers).
func (s *Service) Now() time.Time { return s.Clock.Now() }

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Refunded gives back the share of the points the member's order used
// that its refunds (refundedFen of totalFen in all) have not given back
// yet: returnedUnits decides, in whole units. It runs in the refund
// event's unit of work and returns the points given back (0 when the
// order used none). key names the refund (an event id may be 64 Chinese
// characters): its ledger key takes a digest of it when it would not fit.
func (s *Service) Refunded(ctx context.Context, memberID int64, orderID string, refundedFen, totalFen int64, key string) (int64, error) {
	c, found, err := s.Store.LockLive(ctx, orderID)
	if err != nil || !found || c.Status != Captured || c.MemberID != memberID || totalFen <= 0 {
		return 0, err
	}
	units := returnedUnits(c.units(), refundedFen, totalFen)
	n := units*c.PointsPerUnit - c.ReturnedPoints
	if n <= 0 {
		return 0, nil
	}
	_, err = s.Points.Reverse(ctx, ledger.ReverseInput{MemberID: memberID, Of: ledgerRef(c.ID), OfKind: ledger.KindCapture,
		Points: n, Key: ledger.KeyFor("checkout:refund:", key), Ref: ledger.Ref{Type: "refund", ID: orderID}, Title: "退款返还抵现积分", Operator: operator})
	if err != nil {
		return 0, err
	}
	c.ReturnedPoints, c.ReturnedFen, c.UpdatedAt = units*c.PointsPerUnit, units*c.UnitFen, s.Clock.Now()
	return n, s.Store.Update(ctx, &c)
}

// Used returns the points the member's order used at checkout (captured)
// and what refunds gave back; 0, 0 when it used none.
func (s *Service) Used(ctx context.Context, memberID int64, orderID string) (used, returned int64, err error) {
	c, found, err := s.Store.Live(ctx, orderID)
	if err != nil || !found || c.Status != Captured || c.MemberID != memberID {
		return 0, 0, err
	}
	return c.Points, c.ReturnedPoints, nil
}
