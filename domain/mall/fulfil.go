package mall

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// Fulfilment is a console's or guide's change of one redemption.
type Fulfilment struct {
	Event      Event
	Carrier    string // ship
	TrackingNo string // ship
	Note       string // cancel, refund: why
	Operator   string // who
}

// Fulfil moves a redemption: ship (physical, with carrier and tracking
// number), deliver, cancel or refund. Cancel and refund reverse the points
// into the lots they came from (original expiry) and give the stock back.
// The move is audited as mall_redemption.<event> on the member, by a.
func (s *Service) Fulfil(ctx context.Context, a Actor, id int64, f Fulfilment) (Redemption, error) {
	f.Carrier, f.TrackingNo, f.Note = strings.TrimSpace(f.Carrier), strings.TrimSpace(f.TrackingNo), strings.TrimSpace(f.Note)
	switch f.Event {
	case EventShip:
		if f.Carrier == "" || utf8.RuneCountInString(f.Carrier) > 32 {
			return Redemption{}, domain.FieldError("carrier", "1 to 32 characters")
		}
		if f.TrackingNo == "" || len(f.TrackingNo) > 64 {
			return Redemption{}, domain.FieldError("tracking_no", "1 to 64 bytes")
		}
	case EventDeliver, EventCancel, EventRefund:
	default:
		return Redemption{}, domain.FieldError("event", "must be ship, deliver, cancel or refund")
	}
	if utf8.RuneCountInString(f.Note) > 200 {
		return Redemption{}, domain.FieldError("note", "at most 200 characters")
	}
	if f.Event == EventCancel {
		if err := s.closeBeforeCancel(ctx, id); err != nil {
			return Redemption{}, err
		}
	}
	var r Redemption
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		r, err = s.Store.Redemption(ctx, id)
		if err != nil {
			return err
		}
		if (f.Event == EventShip || f.Event == EventDeliver) && r.Kind != KindPhysical {
			return domain.Errorf(domain.Conflict, "only physical items are shipped; this is a %s item", r.Kind)
		}
		to, err := r.Status.Next(f.Event)
		if err != nil {
			return err
		}
		from := r.Status
		r.Status, r.UpdatedAt = to, s.Clock.Now()
		if f.Event == EventShip {
			r.Carrier, r.TrackingNo = f.Carrier, f.TrackingNo
		}
		if f.Note != "" {
			r.Note = f.Note
		}
		if !to.Live() {
			if err := s.giveBack(ctx, &r, from, f.Operator); err != nil {
				return err
			}
		}
		if err := s.Store.UpdateRedemption(ctx, &r); err != nil {
			return err
		}
		return s.audit(ctx, a, "mall_redemption."+string(f.Event), "member:"+strconv.FormatInt(r.MemberID, 10),
			redemptionDetail(&r, from, f.Note))
	})
	if err != nil {
		return Redemption{}, err
	}
	if !r.Status.Live() {
		// SQL has the unit back; the Gate's copy follows (a lost release
		// only understates what is left until the next rebuild).
		it, ierr := s.Store.Item(ctx, r.ItemID)
		if ierr == nil {
			_ = s.Gate.Release(context.WithoutCancel(ctx), Reservation{ItemID: r.ItemID, MemberID: r.MemberID, Day: r.Day,
				LimitTotal: it.LimitTotal, LimitDaily: it.LimitDaily})
		}
	}
	return r, nil
}

// closeBeforeCancel closes, at WeChat, the order of a points + cash
// redemption that is still waiting for its cash, before the console
// cancels it: as at the deadline (expirePayment), the shopper can no
// longer pay for what was cancelled. An order WeChat says was paid is
// captured first, as its notification would have been, so the cancel
// that follows reverses the points and marks the cash refund_needed; a
// WeChat that does not answer leaves everything as it was (503).
func (s *Service) closeBeforeCancel(ctx context.Context, id int64) error {
	if s.Cash == nil {
		return nil
	}
	p, found, err := s.Cash.Payments.Payment(ctx, id)
	if err != nil || !found || p.Status != PayPending || p.PrepayID == "" {
		return err
	}
	err = s.Cash.Payer.Close(ctx, p.OutTradeNo)
	if errors.Is(err, ErrPaid) {
		notice, paid, qerr := s.Cash.Payer.Query(ctx, p.OutTradeNo)
		switch {
		case qerr != nil:
			err = qerr
		case !paid:
			err = fmt.Errorf("WeChat Pay says order %s was paid, and then that it was not", p.OutTradeNo)
		default:
			_, err = s.PayNotified(ctx, notice)
			return err
		}
	}
	if err != nil {
		return fmt.Errorf("%w (%v)", domain.Errorf(domain.Unavailable, "WeChat Pay did not close the order of redemption %d; nothing was changed, retry shortly", id), err)
	}
	return nil
}

// giveBack reverses the points of a redemption and returns its unit.
func (s *Service) giveBack(ctx context.Context, r *Redemption, from Status, operator string) error {
	if operator == "" {
		operator = "system"
	}
	if r.CashFen > 0 {
		return s.giveBackCash(ctx, r, from, operator)
	}
	if _, err := s.Points.Reverse(ctx, ledger.ReverseInput{MemberID: r.MemberID, Of: ledgerRef(r.ID), OfKind: ledger.KindSpend,
		Key: "mall-return:" + strconv.FormatInt(r.ID, 10), Title: "积分兑换退回", Operator: clip(operator, 64)}); err != nil {
		return err
	}
	return s.Store.ReturnStock(ctx, r.ItemID)
}

// VerifyPickup marks a pickup code collected in the guide's store. The
// code works once; in another store only when anyStore.
func (s *Service) VerifyPickup(ctx context.Context, code string, storeID int64, anyStore bool) (Redemption, error) {
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 32 {
		return Redemption{}, domain.FieldError("code", "1 to 32 characters")
	}
	var r Redemption
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var found bool
		var err error
		r, found, err = s.Store.RedemptionByPickupCode(ctx, code)
		if err != nil {
			return err
		}
		if !found {
			return domain.Errorf(domain.NotFound, "no redemption with this pickup code")
		}
		if r.Status == StatusFulfilled {
			return domain.Errorf(domain.Conflict, "this pickup code was already used")
		}
		to, err := r.Status.Next(EventFulfil)
		if err != nil {
			return err
		}
		it, err := s.Store.Item(ctx, r.ItemID)
		if err != nil {
			return err
		}
		if !anyStore && len(it.Stores) > 0 && !containsID(it.Stores, storeID) {
			return domain.Errorf(domain.Forbidden, "this item is collected in another store")
		}
		r.Status, r.StoreID, r.UpdatedAt = to, storeID, s.Clock.Now()
		return s.Store.UpdateRedemption(ctx, &r)
	})
	return r, err
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
