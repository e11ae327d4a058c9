package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/jifen/jifen/domain"
)

// Account farms sharing one payment account (issue #24): a farm's accounts
// all pay with the farmer's card. A household shares one now and then; a
// handful of members on one account within a day is a farm.
//
// The pattern, precisely: the order system names the account that paid a
// paid order (payer_account on the order webhook: an opaque id or hash it
// chooses; compared, never read). When a paid order of a member is applied,
// the members whose paid orders named the same account within WindowHours
// before it (by the clock when Jifen heard of each) are more than
// MaxMembers: every one of them is flagged, each at most once a Shanghai
// month. WeChat Pay's notifications of the mall's cash part carry no such
// evidence: a JSAPI payment is made by the openid it was created for, the
// redeeming member's own, so it cannot show two members on one account.

// Payment is a paid order and the account that paid it.
type Payment struct {
	Account  string    `json:"-"`
	MemberID int64     `json:"member_id"`
	OrderID  string    `json:"order_id"`
	PaidAt   time.Time `json:"paid_at"`
}

// Payments keeps what shared_payer reads: risk control's own record of the
// accounts paid orders named.
type Payments interface {
	// Record remembers p; a paid order recorded already is left as it is.
	Record(ctx context.Context, p Payment) error
	// Since lists the account's payments at or after since, oldest first,
	// at most limit.
	Since(ctx context.Context, account string, since time.Time, limit int) ([]Payment, error)
}

// PaymentLimit bounds the payments one paid order reads.
const PaymentLimit = 1000

// payerEvidence is a shared_payer flag's Evidence.
type payerEvidence struct {
	Account     string    `json:"payer_account"`
	WindowHours int       `json:"window_hours"`
	Members     []int64   `json:"members"`  // by id
	Payments    []Payment `json:"payments"` // oldest first
}

// validateSharedPayer checks a shared_payer rule.
func (r Rule) validateSharedPayer(f string) error {
	switch {
	case r.Action != OrderPaid:
		return domain.FieldError(f+".action", "order_paid for a shared_payer rule")
	case r.Dimension != PayerDim:
		return domain.FieldError(f+".dimension", "payer for a shared_payer rule")
	case r.MaxMembers < 1 || r.MaxMembers > 1000:
		return domain.FieldError(f+".max_members", "between 1 and 1000")
	case r.WindowHours < 1 || r.WindowHours > 24*366:
		return domain.FieldError(f+".window_hours", "between 1 and 8784")
	case r.MaxPerHour != 0 || r.Distinct || r.MaxLength != 0 || r.MaxMinutes != 0 || r.MinPoints != 0 ||
		r.MaxSharePct != 0 || r.MinTimes != 0 || r.Span != 0 || r.MinRewards != 0:
		return domain.FieldError(f+".max_per_hour", "not used by a shared_payer rule: leave it 0")
	}
	return nil
}

// Sharing is the members among payments (one account's) paid at or after
// since, by id, with their payments: the one decision of who shares it.
func Sharing(payments []Payment, since time.Time) ([]int64, []Payment) {
	seen := map[int64]bool{}
	var members []int64
	var in []Payment
	for _, p := range payments {
		if p.PaidAt.Before(since) {
			continue
		}
		in = append(in, p)
		if !seen[p.MemberID] {
			seen[p.MemberID] = true
			members = append(members, p.MemberID)
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i] < members[j] })
	return members, in
}

// OrderPaid is what the order webhook calls once a paid order of memberID
// naming a payment account was applied (not a replay): it records the
// payment and evaluates the shared_payer rules, logging what it cannot
// (the order stands either way).
func (s *Service) OrderPaid(ctx context.Context, memberID int64, orderID, account string) {
	if _, err := s.ObservePayment(ctx, memberID, orderID, account); err != nil {
		s.log().WarnContext(ctx, "risk: payment not evaluated", "member_id", memberID, "order_id", orderID, "err", err.Error())
	}
}

// ObservePayment records the payment and evaluates the shared_payer
// rules: one insert and one indexed range read of the account's window.
// Nothing is recorded while no such rule is on.
func (s *Service) ObservePayment(ctx context.Context, memberID int64, orderID, account string) ([]Flag, error) {
	if s.Payments == nil || account == "" || memberID == 0 {
		return nil, nil
	}
	rules, err := s.rulesOf(ctx, SharedPayerKind)
	if err != nil || len(rules) == 0 {
		return nil, err
	}
	now := s.Clock.Now()
	at := now.UTC().Truncate(time.Millisecond)
	if err := s.Payments.Record(ctx, Payment{Account: account, MemberID: memberID, OrderID: orderID, PaidAt: at}); err != nil {
		return nil, fmt.Errorf("risk: record payment of order %s: %w", orderID, err)
	}
	widest := 0
	for _, r := range rules {
		widest = max(widest, r.WindowHours)
	}
	all, err := s.Payments.Since(ctx, account, now.Add(-time.Duration(widest)*time.Hour), PaymentLimit)
	if err != nil {
		return nil, fmt.Errorf("risk: payments of an account: %w", err)
	}
	var raised []Flag
	for _, r := range rules {
		members, in := Sharing(all, now.Add(-time.Duration(r.WindowHours)*time.Hour))
		if len(members) <= r.MaxMembers {
			continue
		}
		ev, _ := json.Marshal(payerEvidence{Account: account, WindowHours: r.WindowHours, Members: members, Payments: in})
		for _, m := range members {
			f := Flag{MemberID: m, Rule: r.Name, Action: OrderPaid, Dimension: PayerDim, Key: memberKey(m),
				Count: int64(len(members)), Limit: int64(r.MaxMembers), Window: monthStart(now), Held: r.Hold, Status: Open,
				Evidence: string(ev), CreatedAt: at}
			if raised, err = s.raiseInto(ctx, raised, f); err != nil {
				return raised, err
			}
		}
	}
	return raised, nil
}
