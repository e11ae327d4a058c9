package orders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/rules"
	"github.com/jifen/jifen/domain/tier"
)

// ErrDuplicateEvent is returned (wrapped) by Store.InsertEvent for a taken
// event id.
var ErrDuplicateEvent = errors.New("orders: duplicate event id")

// Members finds the member an order names.
type Members interface {
	ByID(ctx context.Context, id int64) (*member.Member, error)
	ByOpenID(ctx context.Context, openid string) (*member.Member, error)
	ByPhone(ctx context.Context, phone string) (*member.Member, error)
}

// Points is the part of the ledger orders use.
type Points interface {
	Earn(ctx context.Context, in ledger.EarnInput) (ledger.Entry, error)
	Reverse(ctx context.Context, in ledger.ReverseInput) (ledger.Entry, error)
	// ApplyWithoutIDs applies a group's earns whose entry ids nobody reads
	// (ledger.Service.ApplyWithoutIDs).
	ApplyWithoutIDs(ctx context.Context, ops []ledger.Op) ([]ledger.Entry, []error, error)
}

// Growth is the part of the tier service orders use. Its row is the
// member's lock: every order of the member goes through it first.
type Growth interface {
	RecordPaid(ctx context.Context, memberID, fen int64, at time.Time) (before, after tier.State, weekOrders int64, err error)
	AddGrowth(ctx context.Context, memberID, deltaFen int64) (before, after tier.State, err error)
	// RecordPaidMany records a group's paid orders, in order.
	RecordPaidMany(ctx context.Context, in []tier.Paid) ([]tier.Recorded, error)
}

// payerPattern is what a payer_account may be: an id or a hash (hex,
// base64) the order system chose.
var payerPattern = regexp.MustCompile(`^[A-Za-z0-9_.:=+/-]{1,64}$`)

// Service processes order events.
type Service struct {
	Store   Store
	Members Members
	Rules   RuleEngine
	Ledger  Points
	Tier    Growth
	// Checkout captures the points hold a paid event names.
	Checkout UsedPoints
	Tx       domain.UnitOfWork
	Clock    domain.Clock
	// ReturnWindow keeps earned points pending after the order; 0 makes
	// them available at once. Negative is refused at start-up (configs).
	ReturnWindow time.Duration
	// OnFirstPaid hooks run in the same unit of work when a member's first
	// paid order is recorded (referral rewards); an error aborts the event.
	OnFirstPaid []func(ctx context.Context, p FirstPaid) error
	// OnFirstPaidMany hooks are the same for many first paid orders at once
	// (in order): a group of grouped events calls each once, an event alone
	// calls each with one order.
	OnFirstPaidMany []func(ctx context.Context, ps []FirstPaid) error
	// OnFullyRefunded hooks run in the refund's unit of work when a
	// matched order's refunds reach its whole amount: once per order, with
	// the refund that leaves nothing paid (referral takes back a first-order
	// reward still pending); an error aborts the event.
	OnFullyRefunded []func(ctx context.Context, memberID int64, orderID string) error
	// LoadFirstPaid hooks are told, in a group's unit of work (see
	// group.go), of the members whose first paid orders the group may give
	// OnFirstPaidMany (a superset), so that a hook may ask for what it will
	// need then to be loaded with the group's own reads
	// (referral.Service.LoadFirstPaid). Optional.
	LoadFirstPaid []func(ctx context.Context, memberIDs []int64) error
	// GroupCommit handles concurrent paid events in groups (see group.go).
	GroupCommit batch.Settings

	group batch.Committer[*paidJob]
	// openIDs remembers the members of openids seen: an order system
	// naming its shoppers by openid would otherwise read the member
	// before every grouped event.
	openIDs domain.Memo[string, int64]
}

// FirstPaid is a member's first paid order, as the first-paid hooks hear
// of it.
type FirstPaid struct {
	MemberID int64
	OrderID  string
	// AvailableAt is when the order's own points become available: the end
	// of its return window (earlier than the order's unit of work when the
	// window is 0 or over).
	AvailableAt time.Time
}

// Limits of an event.
const (
	maxIDLen = 64
	maxLines = 500
	// MaxQty bounds a line's quantity.
	MaxQty = 1_000_000
)

func checkID(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return domain.FieldError(field, "required")
	}
	if utf8.RuneCountInString(v) > maxIDLen {
		return domain.FieldError(field, fmt.Sprintf("at most %d characters", maxIDLen))
	}
	return nil
}

// CheckLines checks order lines at the boundary (the webhook's, the
// console's rule simulation and checkout's): a SKU of 1 to 64 characters,
// amounts in range and quantities of minQty to MaxQty (an order event may
// leave qty out, 0; a checkout line is at least one of something, 1). It
// returns the sum of the amounts.
func CheckLines(field string, ls []Line, minQty int64) (int64, error) {
	if len(ls) > maxLines {
		return 0, domain.FieldError(field, fmt.Sprintf("at most %d lines", maxLines))
	}
	var sum domain.Fen
	for i, l := range ls {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := checkID(f+".sku", l.SKU); err != nil {
			return 0, err
		}
		if utf8.RuneCountInString(l.Category) > maxIDLen {
			return 0, domain.FieldError(f+".category", "too long")
		}
		if l.Qty < minQty || l.Qty > MaxQty {
			return 0, domain.FieldError(f+".qty", fmt.Sprintf("must be between %d and %d", minQty, MaxQty))
		}
		amount, err := domain.ParseFenOrZero(f+".amount_fen", l.AmountFen)
		if err != nil {
			return 0, err
		}
		if sum, err = sum.Add(amount); err != nil || sum > domain.MaxFen {
			return 0, domain.FieldError(field, fmt.Sprintf("amounts must sum to at most %d", domain.MaxFen))
		}
	}
	return int64(sum), nil
}

// earliestOrder is the earliest occurred_at an event may carry.
var earliestOrder = time.Date(2000, 1, 1, 0, 0, 0, 0, domain.Shanghai)

// Validate checks an event at the boundary; the service then never meets a
// negative amount or lines that do not add up.
func (e *Event) Validate(now time.Time) error {
	if err := firstErr(checkID("event_id", e.EventID), checkID("order_id", e.OrderID)); err != nil {
		return err
	}
	if utf8.RuneCountInString(e.StoreID) > maxIDLen || utf8.RuneCountInString(e.Channel) > 32 {
		return domain.FieldError("store_id", "store_id at most 64, channel at most 32 characters")
	}
	if e.OccurredAt.IsZero() {
		return domain.FieldError("occurred_at", "required (RFC 3339)")
	}
	if e.OccurredAt.After(now.Add(10 * time.Minute)) {
		return domain.FieldError("occurred_at", "in the future")
	}
	if e.OccurredAt.Before(earliestOrder) {
		// Year 1 or the Unix epoch is a default value sent by mistake: its
		// points would skip the return window and match long-gone campaigns.
		return domain.FieldError("occurred_at", "before 2000-01-01")
	}
	if _, err := domain.ParseFenOrZero("total_fen", e.TotalFen); err != nil {
		return err
	}
	if e.PayerAccount != "" && (e.Type != Paid || !payerPattern.MatchString(e.PayerAccount)) {
		return domain.FieldError("payer_account", "1 to 64 letters, digits or _ . : = + / -, on paid events only")
	}
	if e.PointsHoldID < 0 || e.PointsHoldID > 0 && e.Type != Paid {
		return domain.FieldError("points_hold_id", "a positive hold id, on paid events only")
	}
	switch e.Type {
	case Paid:
		m := e.Member
		if m.MemberID < 0 {
			return domain.FieldError("member.member_id", "must be positive")
		}
		if m.MemberID == 0 && strings.TrimSpace(m.OpenID) == "" && strings.TrimSpace(m.Phone) == "" {
			return domain.FieldError("member", "one of member_id, openid, phone required")
		}
		if len(m.OpenID) > maxIDLen || len(m.Phone) > 20 {
			return domain.FieldError("member", "openid at most 64, phone at most 20 characters")
		}
		if len(e.Lines) == 0 {
			return domain.FieldError("lines", "at least one line")
		}
		if len(e.RefundLines) > 0 {
			return domain.FieldError("refund_lines", "only for refunded events")
		}
		sum, err := CheckLines("lines", e.Lines, 0)
		if err != nil {
			return err
		}
		if e.TotalFen <= 0 {
			return domain.FieldError("total_fen", "must be positive")
		}
		if sum != e.TotalFen {
			return domain.FieldError("lines", fmt.Sprintf("line amounts sum to %d fen, total_fen is %d", sum, e.TotalFen))
		}
	case Refunded:
		sum, err := CheckLines("refund_lines", e.RefundLines, 0)
		if err != nil {
			return err
		}
		for i, l := range e.RefundLines {
			if l.AmountFen <= 0 {
				return domain.FieldError(fmt.Sprintf("refund_lines[%d].amount_fen", i), "must be positive")
			}
		}
		if len(e.RefundLines) > 0 && e.TotalFen != 0 && sum != e.TotalFen {
			return domain.FieldError("refund_lines", fmt.Sprintf("refund lines sum to %d fen, total_fen is %d", sum, e.TotalFen))
		}
	default:
		return domain.FieldError("type", `must be "paid" or "refunded"`)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (e *Event) hash() string {
	b, _ := json.Marshal(e)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Handle processes one event in one unit of work and returns its outcome;
// a replayed event id returns the first outcome with Replayed set.
func (s *Service) Handle(ctx context.Context, e Event) (Outcome, error) {
	now := s.Clock.Now()
	if err := e.Validate(now); err != nil {
		return Outcome{}, err
	}
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Millisecond)
	hash := e.hash()
	if g, ok := s.grouped(ctx, e); ok {
		if out, alone := s.submit(ctx, g, hash, now); !alone {
			return out, nil
		}
	}
	var out Outcome
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		rec := &EventRecord{EventID: e.EventID, OrderID: e.OrderID, Type: e.Type, RequestHash: hash, CreatedAt: now}
		if err := s.Store.InsertEvent(ctx, rec); err != nil {
			return err
		}
		var err error
		if e.Type == Paid {
			out, err = s.paid(ctx, e, now)
		} else {
			out, err = s.refunded(ctx, e, now)
		}
		if err != nil {
			return err
		}
		return s.Store.SetOutcome(ctx, e.EventID, out)
	})
	if err == nil {
		return out, nil
	}
	// A taken id (now, or by a concurrent request that committed first)
	// answers with the stored outcome.
	prior, found, gerr := s.Store.EventByID(ctx, e.EventID)
	if gerr != nil || !found {
		if errors.Is(err, ErrDuplicateEvent) {
			return Outcome{}, domain.Errorf(domain.Conflict, "event %q is being processed; retry", e.EventID)
		}
		return Outcome{}, fmt.Errorf("order event %s: %w", e.EventID, err)
	}
	if prior.RequestHash != hash {
		return Outcome{}, domain.Errorf(domain.IdempotencyConflict, "event_id %q was used for a different event", e.EventID)
	}
	prior.Outcome.Replayed = true
	return prior.Outcome, nil
}

func (s *Service) resolve(ctx context.Context, m MemberRef) (*member.Member, error) {
	var (
		mem *member.Member
		err error
	)
	switch {
	case m.MemberID > 0:
		mem, err = s.Members.ByID(ctx, m.MemberID)
		if domain.ErrorCode(err) == domain.NotFound {
			return nil, domain.Errorf(domain.RuleViolation, "no member with id %d", m.MemberID)
		}
		return mem, err
	case m.OpenID != "":
		mem, err = s.Members.ByOpenID(ctx, m.OpenID)
		if domain.ErrorCode(err) != domain.NotFound || m.Phone == "" {
			break
		}
		fallthrough
	default:
		mem, err = s.Members.ByPhone(ctx, m.Phone)
	}
	if domain.ErrorCode(err) == domain.NotFound {
		return nil, nil
	}
	return mem, err
}

func (s *Service) paid(ctx context.Context, e Event, now time.Time) (Outcome, error) {
	mem, err := s.resolve(ctx, e.Member)
	if err != nil {
		return Outcome{}, err
	}
	o := newOrder(e, now)
	var st stats
	if mem != nil {
		// The member's tier row lock serialises their orders from here on.
		if st, err = s.record(ctx, mem.ID, o); err != nil {
			return Outcome{}, err
		}
		o.MemberID, o.Status = mem.ID, StatusMatched
	}
	out := Outcome{EventID: e.EventID, Type: Paid, Status: Unmatched, OrderID: o.ID, Breakdown: []BreakdownLine{}}
	if e.PointsHoldID > 0 {
		if mem == nil {
			return Outcome{}, domain.Errorf(domain.RuleViolation, "points_hold_id: the order's member is unknown")
		}
		if s.Checkout == nil {
			return Outcome{}, domain.Errorf(domain.Misconfigured, "points at checkout is not wired")
		}
		if err := s.Checkout.CapturePaid(ctx, e.PointsHoldID, mem.ID, o.ID, o.TotalFen, "event:"+e.EventID); err != nil {
			return Outcome{}, err
		}
	}
	if mem == nil {
		if err := s.Store.InsertOrder(ctx, o); err != nil {
			return Outcome{}, err
		}
		return out, nil
	}
	// The order row is inserted once, with its points (earn).
	if err := s.earn(ctx, o, mem, st, now, true); err != nil {
		return Outcome{}, err
	}
	out.Status, out.MemberID, out.PointsAwarded, out.Breakdown = Applied, mem.ID, o.Points, o.Breakdown
	return out, nil
}

// newOrder is the order a paid event records, unmatched until its member
// is known.
func newOrder(e Event, now time.Time) *Order {
	return &Order{ID: e.OrderID, OpenID: e.Member.OpenID, Phone: e.Member.Phone, Status: StatusUnmatched,
		StoreID: e.StoreID, Channel: e.Channel, TotalFen: e.TotalFen, Lines: e.Lines, Refunded: map[string]int64{}, RefundedQty: map[string]int64{},
		Breakdown: []BreakdownLine{}, OccurredAt: e.OccurredAt, CreatedAt: now, UpdatedAt: now}
}

// stats is what the rules need to know of the member's orders.
type stats struct {
	tier      string // level before this order
	all, week int64  // paid orders ever and this ISO week, this one included
}

// record locks the member's tier row and adds the order's growth and counts.
func (s *Service) record(ctx context.Context, memberID int64, o *Order) (stats, error) {
	before, after, week, err := s.Tier.RecordPaid(ctx, memberID, o.TotalFen, o.OccurredAt)
	if err != nil {
		return stats{}, err
	}
	return stats{tier: before.Level, all: after.PaidOrders, week: week}, nil
}

// earn evaluates the rules on a matched order (its member's tier row
// locked and the order recorded there), earns its points as a pending lot,
// inserts the order (insert) or saves it, and runs the first-paid hooks.
func (s *Service) earn(ctx context.Context, o *Order, mem *member.Member, st stats, now time.Time, insert bool) error {
	res, err := s.Rules.Apply(ctx, ruleInput(o, mem, st))
	if err != nil {
		return err
	}
	setBreakdown(o, res)
	if o.Points > 0 {
		if _, err := s.Ledger.Earn(ctx, s.earnInput(o)); err != nil {
			if insert && domain.ErrorCode(err) == domain.IdempotencyConflict {
				// The key "order:<id>" is taken: the order was earned under
				// another event id (what InsertOrder would have said).
				return domain.Errorf(domain.Conflict, "order %q was already paid (under another event id)", o.ID)
			}
			return err
		}
	}
	o.UpdatedAt = now
	if insert {
		if err := s.Store.InsertOrder(ctx, o); err != nil {
			return err
		}
	} else if err := s.Store.SaveOrder(ctx, o); err != nil {
		return err
	}
	if st.all == 1 {
		return s.firstPaid(ctx, []FirstPaid{s.firstOf(o)})
	}
	return nil
}

// firstOf is o as the first-paid hooks hear of it.
func (s *Service) firstOf(o *Order) FirstPaid {
	return FirstPaid{MemberID: o.MemberID, OrderID: o.ID, AvailableAt: s.availableAt(o)}
}

// firstPaid runs the first-paid hooks for first paid orders recorded in
// the unit of work in ctx, an event's alone or a group's: OnFirstPaid per
// order, OnFirstPaidMany once for all.
func (s *Service) firstPaid(ctx context.Context, ps []FirstPaid) error {
	if len(ps) == 0 {
		return nil
	}
	for _, p := range ps {
		for _, h := range s.OnFirstPaid {
			if err := h(ctx, p); err != nil {
				return err
			}
		}
	}
	for _, h := range s.OnFirstPaidMany {
		if err := h(ctx, ps); err != nil {
			return err
		}
	}
	return nil
}

// ruleInput is what the rules see of a matched order.
func ruleInput(o *Order, mem *member.Member, st stats) rules.Input {
	lines := make([]rules.OrderLine, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = rules.OrderLine{SKU: l.SKU, Category: l.Category, Qty: l.Qty, AmountFen: l.AmountFen}
	}
	return rules.Input{Trigger: rules.OrderPaid,
		Member: rules.Member{ID: mem.ID, Tier: st.tier, Birthday: mem.Birthday, PaidOrders: st.all, PaidOrdersThisWeek: st.week, FirstPurchase: st.all == 1},
		Order:  &rules.Order{ID: o.ID, AmountFen: o.TotalFen, Lines: lines, Store: o.StoreID, Channel: o.Channel, OccurredAt: o.OccurredAt}}
}

// setBreakdown stores the evaluation's points and non-zero lines on o.
func setBreakdown(o *Order, res rules.Result) {
	o.Breakdown = []BreakdownLine{}
	for _, l := range res.Lines {
		if l.Points != 0 {
			o.Breakdown = append(o.Breakdown, BreakdownLine{RuleID: l.RuleID, Version: l.Version, Name: l.Name, Points: l.Points})
		}
	}
	o.Points = res.Total
}

// earnInput is the pending lot of o's points; the ledger gives it the
// expiry policy of order points (ledger.SourceOrders).
func (s *Service) earnInput(o *Order) ledger.EarnInput {
	return ledger.EarnInput{MemberID: o.MemberID, Points: o.Points, Key: ledger.KeyFor("order:", o.ID),
		Ref: ledger.Ref{Type: "order", ID: o.ID}, Title: "购物奖励", Operator: "system",
		AvailableAt: s.availableAt(o)}
}

// availableAt is when o's points become available: the end of its return
// window.
func (s *Service) availableAt(o *Order) time.Time {
	return o.OccurredAt.Add(max(s.ReturnWindow, 0))
}

func (s *Service) refunded(ctx context.Context, e Event, now time.Time) (Outcome, error) {
	o, found, err := s.Store.LockOrder(ctx, e.OrderID)
	if err != nil {
		return Outcome{}, err
	}
	if !found {
		// Order systems deliver events out of order (a paid event retried
		// after its refund went through): the refund is refused, not
		// stored, with an answer retry policies retry. An order that was
		// never paid looks the same from here; its order system knows.
		return Outcome{}, domain.Errorf(domain.OrderNotPaid, "no paid event for order %q yet: send its paid event, then this refund again", e.OrderID)
	}
	amount, err := o.refund(e)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{EventID: e.EventID, Type: Refunded, Status: Unmatched, OrderID: o.ID, MemberID: o.MemberID, Breakdown: []BreakdownLine{}}
	if o.Status == StatusMatched {
		out.Status = Applied
		if _, _, err := s.Tier.AddGrowth(ctx, o.MemberID, -amount); err != nil {
			return Outcome{}, err
		}
		// The points the order used come back first (the checkout's lock
		// before the account's, as at capture), then the earned points go.
		if s.Checkout != nil {
			if out.PointsReturned, err = s.Checkout.Refunded(ctx, o.MemberID, o.ID, o.RefundedFen, o.TotalFen, "event:"+e.EventID); err != nil {
				return Outcome{}, err
			}
		}
		if out.PointsReversed, err = s.reverse(ctx, &o, ledger.KeyFor("refund:", e.EventID)); err != nil {
			return Outcome{}, err
		}
		if err := s.fullyRefunded(ctx, &o); err != nil {
			return Outcome{}, err
		}
	}
	o.UpdatedAt = now
	if err := s.Store.SaveOrder(ctx, &o); err != nil {
		return Outcome{}, err
	}
	return out, nil
}

// refund is the decision on a refunded event of o: how many fen it
// refunds — its lines (each SKU never beyond what was paid for it, nor
// beyond the qty ordered of it when both state a qty), else its total,
// else all that is still paid — recorded on o. A refund of nothing or of
// more than is still paid is a RuleViolation and leaves o as it was.
func (o *Order) refund(e Event) (int64, error) {
	left := o.TotalFen - o.RefundedFen
	var amount int64
	var asked, askedQty map[string]int64
	switch {
	case len(e.RefundLines) > 0:
		paid, ordered := map[string]int64{}, map[string]int64{}
		for _, l := range o.Lines {
			paid[l.SKU] += l.AmountFen
			ordered[l.SKU] += l.Qty
		}
		asked, askedQty = map[string]int64{}, map[string]int64{}
		for i, l := range e.RefundLines {
			if _, ok := paid[l.SKU]; !ok {
				return 0, domain.FieldError(fmt.Sprintf("refund_lines[%d].sku", i), "not in the order")
			}
			asked[l.SKU] += l.AmountFen
			askedQty[l.SKU] += l.Qty
			amount += l.AmountFen
		}
		for sku, n := range asked {
			if o.Refunded[sku]+n > paid[sku] {
				return 0, domain.Errorf(domain.RuleViolation, "refund of %s exceeds what was paid for it (%d fen, %d refunded before)", sku, paid[sku], o.Refunded[sku])
			}
			// A qty of 0 is one the order (or the refund) did not state.
			if q := askedQty[sku]; q > 0 && ordered[sku] > 0 && o.RefundedQty[sku]+q > ordered[sku] {
				return 0, domain.Errorf(domain.RuleViolation, "refund of %d × %s exceeds the qty ordered (%d, %d refunded before)", q, sku, ordered[sku], o.RefundedQty[sku])
			}
		}
	case e.TotalFen > 0:
		amount = e.TotalFen
	default:
		amount = left
	}
	if amount <= 0 {
		return 0, domain.Errorf(domain.RuleViolation, "order %q is already fully refunded", o.ID)
	}
	if amount > left {
		return 0, domain.Errorf(domain.RuleViolation, "refund of %d fen exceeds the %d fen still paid", amount, left)
	}
	for sku, n := range asked {
		o.Refunded[sku] += n
	}
	for sku, n := range askedQty {
		if n > 0 {
			if o.RefundedQty == nil {
				o.RefundedQty = map[string]int64{}
			}
			o.RefundedQty[sku] += n
		}
	}
	o.RefundedFen += amount
	return amount, nil
}

// reversalDue is how many of o's points its refunds take back and have
// not taken yet: in all, the refunded share of the points awarded
// (domain.Share: rounded down, all of them once fully refunded).
func (o *Order) reversalDue() int64 {
	return max(domain.Share(o.Points, o.RefundedFen, o.TotalFen)-o.Reversed, 0)
}

// reverse takes back the points of the refunded part not reversed yet.
func (s *Service) reverse(ctx context.Context, o *Order, key string) (int64, error) {
	n := o.reversalDue()
	if n <= 0 {
		return 0, nil
	}
	_, err := s.Ledger.Reverse(ctx, ledger.ReverseInput{MemberID: o.MemberID, Of: ledger.Ref{Type: "order", ID: o.ID}, OfKind: ledger.KindEarn,
		Points: n, Key: key, Ref: ledger.Ref{Type: "refund", ID: o.ID}, Title: "退款扣回积分", Operator: "system"})
	if err != nil {
		return 0, err
	}
	o.Reversed += n
	return n, nil
}

// fullyRefunded runs the OnFullyRefunded hooks when the matched order o
// has nothing left paid. A refund of an order already fully refunded is
// refused before, so they run once per order.
func (s *Service) fullyRefunded(ctx context.Context, o *Order) error {
	if o.RefundedFen < o.TotalFen {
		return nil
	}
	for _, h := range s.OnFullyRefunded {
		if err := h(ctx, o.MemberID, o.ID); err != nil {
			return err
		}
	}
	return nil
}

// MatchMember applies the unmatched orders of m's openid and phone to m.
// It runs in the caller's unit of work (the login or phone binding), so
// member.Service.Hooks can call it.
func (s *Service) MatchMember(ctx context.Context, m *member.Member) error {
	now := s.Clock.Now()
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		os, err := s.Store.LockUnmatched(ctx, m.OpenID, m.Phone)
		if err != nil {
			return err
		}
		for i := range os {
			o := &os[i]
			st, err := s.record(ctx, m.ID, o)
			if err != nil {
				return err
			}
			o.MemberID, o.Status = m.ID, StatusMatched
			if err := s.Store.SaveOrder(ctx, o); err != nil {
				return err
			}
			if err := s.earn(ctx, o, m, st, now, false); err != nil {
				return fmt.Errorf("apply unmatched order %s: %w", o.ID, err)
			}
			if o.RefundedFen > 0 {
				if _, _, err := s.Tier.AddGrowth(ctx, m.ID, -o.RefundedFen); err != nil {
					return err
				}
				if _, err := s.reverse(ctx, o, ledger.KeyFor("refund-on-match:", o.ID)); err != nil {
					return err
				}
				if err := s.fullyRefunded(ctx, o); err != nil {
					return err
				}
				if err := s.Store.SaveOrder(ctx, o); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Registered adapts MatchMember to member.Hooks.Registered.
func (s *Service) Registered(ctx context.Context, m *member.Member, _ member.LoginInfo) error {
	return s.MatchMember(ctx, m)
}

// RegisteredMany is Registered for members created together (a
// member.RegisteredHook's Many): one locking read finds the members whose
// openid has unmatched orders, and MatchMember runs for them (and for any
// with a phone); for the others it would find nothing.
func (s *Service) RegisteredMany(ctx context.Context, regs []member.Registration) error {
	openids := make([]string, len(regs))
	for i, r := range regs {
		openids[i] = r.Member.OpenID
	}
	waiting, err := s.Store.UnmatchedOpenIDs(ctx, openids)
	if err != nil {
		return err
	}
	for _, r := range regs {
		if !waiting[r.Member.OpenID] && r.Member.Phone == "" {
			continue
		}
		if err := s.MatchMember(ctx, r.Member); err != nil {
			return err
		}
	}
	return nil
}

// OrderPoints returns the member's order with its breakdown; another
// member's (or an unknown) order is NotFound.
func (s *Service) OrderPoints(ctx context.Context, memberID int64, orderID string) (Order, error) {
	if err := checkID("order_id", orderID); err != nil {
		return Order{}, domain.Errorf(domain.NotFound, "no such order")
	}
	o, found, err := s.Store.MemberOrder(ctx, memberID, orderID)
	if err != nil {
		return Order{}, err
	}
	if !found {
		return Order{}, domain.Errorf(domain.NotFound, "no such order")
	}
	if s.Checkout != nil {
		if o.PointsUsed, o.PointsReturned, err = s.Checkout.Used(ctx, memberID, orderID); err != nil {
			return Order{}, err
		}
	}
	return o, nil
}
