package mall

// Points + cash (issue #18): an item with a cash part is paid through a
// WeChat Pay JSAPI order.
//
//   - Redeem holds the points (a ledger hold with the redemption's
//     deadline), takes the unit of stock and writes the redemption as
//     reserved together with its Payment (out_trade_no, deadline), in one
//     transaction; then, outside it, it creates the pay order at WeChat and
//     answers the wx.requestPayment parameters.
//   - WeChat's pay notification (PayNotified) captures the hold and moves
//     the redemption to paid (a coupon gets its code, a virtual item is
//     fulfilled) in one transaction. A replay answers the same.
//   - Unpaid at the deadline (ExpirePayments, serve's hold-timeouts job:
//     the order is closed at WeChat first), or told the payment failed, the
//     hold is released, the unit given back and the redemption cancelled.
//     An order WeChat took the cash for but whose notification never came
//     is found by that close and captured.
//   - A successful payment that arrives after that (or for a coupon whose
//     pool ran dry) never fulfils anything: the payment is recorded as
//     refund_needed, for the cash to be refunded in the merchant platform.
//
// So a redemption is never fulfilled without both the points (captured)
// and the cash (WeChat's signed notification for the exact amount).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// PayStatus is a cash payment's state.
type PayStatus string

// The payment states.
const (
	// PayPending waits for WeChat's notification until Deadline.
	PayPending PayStatus = "pending"
	// PayPaid: the cash arrived and the points were captured.
	PayPaid PayStatus = "paid"
	// PayClosed: timed out or failed; points and stock were given back.
	PayClosed PayStatus = "closed"
	// PayRefundNeeded: WeChat took the cash but the redemption was not (or
	// is no longer) fulfilled; the cash must be refunded.
	PayRefundNeeded PayStatus = "refund_needed"
)

// Payment is the cash part of one redemption.
type Payment struct {
	RedemptionID  int64
	MemberID      int64
	ItemID        int64
	OutTradeNo    string
	CashFen       int64
	Status        PayStatus
	PrepayID      string
	TransactionID string
	Deadline      time.Time
	Note          string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Params are the wx.requestPayment parameters (not stored; set by
	// Redeem while the payment is pending).
	Params *PayParams
}

// PayParams are what the mini-program passes to wx.requestPayment.
type PayParams struct {
	TimeStamp string
	NonceStr  string
	Package   string
	SignType  string
	PaySign   string
}

// PayOrder is the JSAPI order created at WeChat for a payment.
type PayOrder struct {
	OutTradeNo  string
	Description string
	TotalFen    int64
	OpenID      string
	ClientIP    string
	Expires     time.Time
}

// PayNotice is a verified pay notification (the adapter checked WeChat's
// signature, appid and mch_id).
type PayNotice struct {
	OutTradeNo    string
	TransactionID string
	TotalFen      int64
	// Success is result_code SUCCESS; false is a failed payment.
	Success bool
}

// Payer creates WeChat Pay orders (wechat.Pay).
type Payer interface {
	// Prepay creates the JSAPI order and returns its prepay_id.
	Prepay(ctx context.Context, o PayOrder) (string, error)
	// Params signs the wx.requestPayment parameters of a prepay_id.
	Params(prepayID string, now time.Time) (PayParams, error)
	// Close closes the order so that it can no longer be paid; ErrPaid
	// when it was paid first. Closing an order closed already succeeds.
	Close(ctx context.Context, outTradeNo string) error
	// Query asks whether the order was paid; paid carries the payment as
	// the notification would have.
	Query(ctx context.Context, outTradeNo string) (n PayNotice, paid bool, err error)
}

// ErrPaid: the order cannot be closed, WeChat has taken the cash.
var ErrPaid = errors.New("mall: the order was paid")

// OpenIDs gives a member's mini-program openid (the payer of a JSAPI order).
type OpenIDs interface {
	OpenID(ctx context.Context, memberID int64) (string, error)
}

// OpenIDFunc adapts a function to OpenIDs.
type OpenIDFunc func(ctx context.Context, memberID int64) (string, error)

// OpenID calls f.
func (f OpenIDFunc) OpenID(ctx context.Context, memberID int64) (string, error) {
	return f(ctx, memberID)
}

// HoldPoints is the part of the ledger a cash redemption uses.
type HoldPoints interface {
	Hold(ctx context.Context, in ledger.HoldInput) (ledger.Entry, error)
	Capture(ctx context.Context, in ledger.CloseHoldInput) (ledger.Entry, error)
	Release(ctx context.Context, in ledger.CloseHoldInput) (ledger.Entry, error)
}

// PayStore keeps payments. Methods use the transaction in ctx.
type PayStore interface {
	InsertPayment(ctx context.Context, p *Payment) error
	// Payment loads (locking) the payment of a redemption.
	Payment(ctx context.Context, redemptionID int64) (Payment, bool, error)
	// PaymentByTradeNo loads (locking) the payment with out_trade_no.
	PaymentByTradeNo(ctx context.Context, outTradeNo string) (Payment, bool, error)
	// UpdatePayment saves status, prepay id, transaction id and note.
	UpdatePayment(ctx context.Context, p *Payment) error
	// DuePayments lists up to limit pending payments whose deadline is <=
	// now, oldest deadline first.
	DuePayments(ctx context.Context, now time.Time, limit int) ([]Payment, error)
}

// Cash is what a Service needs for points + cash items; nil refuses them.
type Cash struct {
	Payments PayStore
	Payer    Payer
	OpenIDs  OpenIDs
	Holds    HoldPoints
	// Window is how long a shopper has to pay (DefaultPayWindow when 0).
	Window time.Duration
}

// DefaultPayWindow is the payment deadline after a redemption.
const DefaultPayWindow = 15 * time.Minute

// PayGrace is how long the points stay held after the payment deadline:
// WeChat takes no payment after the deadline (the order's time_expire),
// but the notification of one made just before it may come later, and
// the hold-timeouts job closes the order at WeChat only when it next runs.
// A payment WeChat took in time is captured within the grace.
const PayGrace = 5 * time.Minute

type clientIPKey struct{}

// WithClientIP names the shopper's IP for the pay order (spbill_create_ip).
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

func clientIP(ctx context.Context) string {
	if ip, _ := ctx.Value(clientIPKey{}).(string); ip != "" {
		return ip
	}
	return "127.0.0.1"
}

func (c *Cash) window() time.Duration {
	if c.Window > 0 {
		return c.Window
	}
	return DefaultPayWindow
}

// errNoCash refuses a cash item on a server without WeChat Pay.
func errNoCash(it *Item) error {
	return domain.Errorf(domain.RuleViolation, "%s needs a cash payment, which this server does not take", it.Name)
}

// charge takes the points of a new redemption in the commit: a spend for a
// points-only item; for points + cash, a hold until the deadline and the
// pending payment.
func (s *Service) charge(ctx context.Context, it *Item, r *Redemption, now time.Time) error {
	if it.CashFen == 0 {
		_, err := s.Points.Spend(ctx, spendOf(it, r))
		return err
	}
	if s.Cash == nil {
		return errNoCash(it)
	}
	deadline := now.Add(s.Cash.window()).UTC().Truncate(time.Second)
	if _, err := s.Cash.Holds.Hold(ctx, ledger.HoldInput{MemberID: r.MemberID, Points: it.Points, Key: "mall:hold:" + strconv.FormatInt(r.ID, 10),
		Ref: ledgerRef(r.ID), Title: "积分兑换冻结 " + clip(it.Name, 40), Deadline: deadline.Add(PayGrace), Operator: "member"}); err != nil {
		return err
	}
	var suffix [4]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return err
	}
	p := Payment{RedemptionID: r.ID, MemberID: r.MemberID, ItemID: r.ItemID, CashFen: it.CashFen, Status: PayPending,
		OutTradeNo: "JFM" + strconv.FormatInt(r.ID, 10) + "X" + hex.EncodeToString(suffix[:]), Deadline: deadline, CreatedAt: now, UpdatedAt: now}
	r.Status = StatusReserved
	return s.Cash.Payments.InsertPayment(ctx, &p)
}

// prepay sets r.Payment for a points + cash redemption: while pending, it
// creates (or, for a replay, re-signs) the WeChat order. A pay order WeChat refuses
// cancels the redemption at once (points and stock back).
func (s *Service) prepay(ctx context.Context, r *Redemption) error {
	if s.Cash == nil || r.CashFen == 0 {
		return nil
	}
	p, found, err := s.Cash.Payments.Payment(ctx, r.ID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("mall: redemption %d has no payment", r.ID)
	}
	now := s.Clock.Now()
	if r.Replayed && p.Status == PayClosed && strings.HasPrefix(p.Note, payRefusedNote) {
		// The first answer was WeChat's refusal, and the redemption was
		// cancelled then: its key cannot be paid any more.
		return domain.Errorf(domain.Conflict, "this redemption was cancelled because WeChat Pay did not create its order; redeem again with a new Idempotency-Key")
	}
	if p.Status != PayPending || !p.Deadline.After(now) {
		r.Payment = &p
		return nil
	}
	if p.PrepayID == "" {
		openid, err := s.Cash.OpenIDs.OpenID(ctx, r.MemberID)
		if err != nil {
			return err
		}
		id, perr := s.Cash.Payer.Prepay(ctx, PayOrder{OutTradeNo: p.OutTradeNo, Description: clip("积分商城-"+r.ItemName, 40),
			TotalFen: p.CashFen, OpenID: openid, ClientIP: clientIP(ctx), Expires: p.Deadline})
		if perr != nil {
			// Nothing can be paid: give the points and the unit back now
			// rather than at the deadline.
			if _, cerr := s.closePayment(context.WithoutCancel(ctx), p.OutTradeNo, payRefusedNote+domain.ErrorMessage(perr)); cerr != nil {
				return errors.Join(perr, cerr)
			}
			return perr
		}
		p.PrepayID, p.UpdatedAt = id, now
		if err := s.Tx.InTx(ctx, func(ctx context.Context) error { return s.Cash.Payments.UpdatePayment(ctx, &p) }); err != nil {
			return err
		}
	}
	params, err := s.Cash.Payer.Params(p.PrepayID, now)
	if err != nil {
		return err
	}
	p.Params = &params
	r.Payment = &p
	return nil
}

// PayNotified applies WeChat's verified pay notification. A notification
// for an unknown order is NotFound; an amount other than the payment's is
// a RuleViolation; neither changes anything. A replay answers the payment
// as it is.
func (s *Service) PayNotified(ctx context.Context, n PayNotice) (Payment, error) {
	if s.Cash == nil {
		return Payment{}, domain.Errorf(domain.NotFound, "no payment %s", n.OutTradeNo)
	}
	var p Payment
	var r Redemption
	released := false
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var found bool
		var err error
		p, found, err = s.Cash.Payments.PaymentByTradeNo(ctx, n.OutTradeNo)
		if err != nil {
			return err
		}
		if !found {
			return domain.Errorf(domain.NotFound, "no payment %s", n.OutTradeNo)
		}
		if n.TotalFen != p.CashFen {
			return domain.Errorf(domain.RuleViolation, "payment %s is %d fen, the notification says %d", n.OutTradeNo, p.CashFen, n.TotalFen)
		}
		now := s.Clock.Now()
		switch {
		case p.Status == PayPaid || p.Status == PayRefundNeeded:
			return nil // a replay
		case p.Status == PayClosed && !n.Success:
			return nil
		case p.Status == PayClosed:
			// The cash came after the points and the unit went back.
			p.Status, p.TransactionID, p.Note, p.UpdatedAt = PayRefundNeeded, n.TransactionID, "paid after the redemption was cancelled", now
			return s.Cash.Payments.UpdatePayment(ctx, &p)
		}
		if r, err = s.Store.Redemption(ctx, p.RedemptionID); err != nil {
			return err
		}
		if !n.Success {
			released = true
			return s.cancelReserved(ctx, &r, &p, PayClosed, "payment failed", now)
		}
		_, err = s.Cash.Holds.Capture(ctx, ledger.CloseHoldInput{MemberID: p.MemberID, Hold: ledgerRef(p.RedemptionID),
			Key: "mall:capture:" + strconv.FormatInt(p.RedemptionID, 10), Title: "积分兑换 " + clip(r.ItemName, 50), Operator: "wechatpay"})
		if domain.ErrorCode(err) == domain.Conflict {
			// The hold expired (or was released) before the cash came.
			p.TransactionID = n.TransactionID
			released = true
			return s.cancelReserved(ctx, &r, &p, PayRefundNeeded, "paid after the deadline", now)
		}
		if err != nil {
			return err
		}
		to, err := r.Status.Next(EventPay)
		if err != nil {
			return err
		}
		r.Status, r.UpdatedAt = to, now
		switch r.Kind {
		case KindCoupon:
			code, found, err := s.Store.ClaimCode(ctx, r.ItemID, r.ID)
			if err != nil {
				return err
			}
			if !found {
				// Paid, but nothing left to give: points back, cash to refund.
				return errNoCode
			}
			r.CouponCode, r.Status = code, StatusFulfilled
		case KindVirtual:
			r.Status = StatusFulfilled
		}
		p.Status, p.TransactionID, p.UpdatedAt = PayPaid, n.TransactionID, now
		if err := s.Cash.Payments.UpdatePayment(ctx, &p); err != nil {
			return err
		}
		return s.Store.UpdateRedemption(ctx, &r)
	})
	if errors.Is(err, errNoCode) {
		// The capture rolled back with the rest: release instead.
		released = true
		err = s.Tx.InTx(ctx, func(ctx context.Context) error {
			var err error
			if p, _, err = s.Cash.Payments.PaymentByTradeNo(ctx, n.OutTradeNo); err != nil {
				return err
			}
			if p.Status != PayPending {
				released = false
				return nil
			}
			if r, err = s.Store.Redemption(ctx, p.RedemptionID); err != nil {
				return err
			}
			p.TransactionID = n.TransactionID
			return s.cancelReserved(ctx, &r, &p, PayRefundNeeded, "paid but no coupon code left", s.Clock.Now())
		})
	}
	if err != nil {
		return Payment{}, err
	}
	if released {
		s.gateRelease(ctx, r)
	}
	return p, nil
}

var errNoCode = errors.New("mall: no code left")

// payRefusedNote begins the note of a payment closed because WeChat Pay
// refused (or did not answer) its order.
const payRefusedNote = "pay order refused: "

// cancelReserved releases the hold of a reserved redemption, gives its unit
// back and cancels it, leaving the payment in status (closed or
// refund_needed).
func (s *Service) cancelReserved(ctx context.Context, r *Redemption, p *Payment, status PayStatus, note string, now time.Time) error {
	if err := s.releaseHold(ctx, r, "system"); err != nil {
		return err
	}
	if err := s.Store.ReturnStock(ctx, r.ItemID); err != nil {
		return err
	}
	to, err := r.Status.Next(EventCancel)
	if err != nil {
		return err
	}
	r.Status, r.Note, r.UpdatedAt = to, clip(note, 200), now
	if err := s.Store.UpdateRedemption(ctx, r); err != nil {
		return err
	}
	p.Status, p.Note, p.UpdatedAt = status, clip(note, 200), now
	return s.Cash.Payments.UpdatePayment(ctx, p)
}

// releaseHold releases a reserved redemption's points; a hold the ledger's
// own timeout released already is fine.
func (s *Service) releaseHold(ctx context.Context, r *Redemption, operator string) error {
	_, err := s.Cash.Holds.Release(ctx, ledger.CloseHoldInput{MemberID: r.MemberID, Hold: ledgerRef(r.ID),
		Key: "mall:release:" + strconv.FormatInt(r.ID, 10), Title: "积分兑换取消", Operator: clip(operator, 64)})
	if domain.ErrorCode(err) == domain.Conflict {
		return nil // released by the ledger's hold-timeouts already (never captured: the redemption is reserved)
	}
	return err
}

// closePayment closes a pending payment (timed out or refused) and cancels
// its redemption; done false when it was not pending any more.
func (s *Service) closePayment(ctx context.Context, outTradeNo, note string) (bool, error) {
	var r Redemption
	done := false
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		p, found, err := s.Cash.Payments.PaymentByTradeNo(ctx, outTradeNo)
		if err != nil || !found || p.Status != PayPending {
			return err
		}
		if r, err = s.Store.Redemption(ctx, p.RedemptionID); err != nil {
			return err
		}
		done = true
		return s.cancelReserved(ctx, &r, &p, PayClosed, note, s.Clock.Now())
	})
	if err != nil {
		return false, err
	}
	if done {
		s.gateRelease(ctx, r)
	}
	return done, nil
}

// ExpirePayments settles up to limit pending payments past their
// deadline. Each order is first closed at WeChat, so that it can no longer
// be paid; then the points go back into the same lots, the unit back (SQL
// and the Gate) and the redemption is cancelled. An order WeChat says was
// paid (the notification lost or late) is asked for its payment and
// captured instead, as the notification would have. An order WeChat does
// not answer for stays pending until a later run (the ledger gives the
// points back at the hold's own deadline meanwhile). It returns how many
// payments it settled either way and the first error, having tried them
// all. Every instance may run it: each payment is settled under its row
// lock, once.
func (s *Service) ExpirePayments(ctx context.Context, now time.Time, limit int) (int, error) {
	if s.Cash == nil {
		return 0, nil
	}
	due, err := s.Cash.Payments.DuePayments(ctx, now, limit)
	if err != nil {
		return 0, err
	}
	n := 0
	var first error
	for _, p := range due {
		done, err := s.expirePayment(ctx, p)
		if done {
			n++
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return n, first
}

func (s *Service) expirePayment(ctx context.Context, p Payment) (bool, error) {
	if p.PrepayID != "" { // an order exists at WeChat
		err := s.Cash.Payer.Close(ctx, p.OutTradeNo)
		if errors.Is(err, ErrPaid) {
			notice, paid, qerr := s.Cash.Payer.Query(ctx, p.OutTradeNo)
			if qerr != nil || !paid {
				return false, qerr // asked again at the next run
			}
			_, err = s.PayNotified(ctx, notice)
			return err == nil, err
		}
		if err != nil {
			return false, err
		}
	}
	return s.closePayment(ctx, p.OutTradeNo, "not paid by the deadline")
}

// Payment returns a redemption's payment (NotFound without one).
func (s *Service) Payment(ctx context.Context, redemptionID int64) (Payment, error) {
	if s.Cash == nil {
		return Payment{}, domain.Errorf(domain.NotFound, "redemption %d has no payment", redemptionID)
	}
	p, found, err := s.Cash.Payments.Payment(ctx, redemptionID)
	if err == nil && !found {
		err = domain.Errorf(domain.NotFound, "redemption %d has no payment", redemptionID)
	}
	return p, err
}

// gateRelease gives a cancelled redemption's unit back to the Gate (a lost
// release only understates what is left until the next rebuild).
func (s *Service) gateRelease(ctx context.Context, r Redemption) {
	it, err := s.Store.Item(ctx, r.ItemID)
	if err != nil {
		return
	}
	_ = s.Gate.Release(context.WithoutCancel(ctx), Reservation{ItemID: r.ItemID, MemberID: r.MemberID, Day: r.Day,
		LimitTotal: it.LimitTotal, LimitDaily: it.LimitDaily})
}

// giveBackCash is giveBack for a points + cash redemption cancelled or
// refunded by the console: a reserved one releases its hold and closes its
// payment; a paid one reverses the captured points and marks the cash
// refund_needed (refunded in the merchant platform).
func (s *Service) giveBackCash(ctx context.Context, r *Redemption, from Status, operator string) error {
	if s.Cash == nil {
		return fmt.Errorf("mall: redemption %d has a cash part but the server has no WeChat Pay", r.ID)
	}
	p, found, err := s.Cash.Payments.Payment(ctx, r.ID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	if from == StatusReserved {
		if err := s.releaseHold(ctx, r, operator); err != nil {
			return err
		}
		if found && p.Status == PayPending {
			p.Status, p.Note, p.UpdatedAt = PayClosed, "cancelled by "+clip(operator, 64), now
			if err := s.Cash.Payments.UpdatePayment(ctx, &p); err != nil {
				return err
			}
		}
		return s.Store.ReturnStock(ctx, r.ItemID)
	}
	if _, err := s.Points.Reverse(ctx, ledger.ReverseInput{MemberID: r.MemberID, Of: ledgerRef(r.ID), OfKind: ledger.KindCapture,
		Key: "mall-return:" + strconv.FormatInt(r.ID, 10), Title: "积分兑换退回", Operator: clip(operator, 64)}); err != nil {
		return err
	}
	if found && p.Status == PayPaid {
		p.Status, p.Note, p.UpdatedAt = PayRefundNeeded, "redemption "+string(r.Status)+" by "+clip(operator, 64), now
		if err := s.Cash.Payments.UpdatePayment(ctx, &p); err != nil {
			return err
		}
	}
	return s.Store.ReturnStock(ctx, r.ItemID)
}
