package reminder

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jifen/jifen/domain"
)

// SubscriptionStore keeps the members' subscribe-message quotas: one send
// per "accept" of wx.requestSubscribeMessage (the outbox spends them).
type SubscriptionStore interface {
	AddQuota(ctx context.Context, memberID int64, templateIDs []string, now time.Time) error
	Quotas(ctx context.Context, memberID int64) (map[string]int64, error)
}

// The answers wx.requestSubscribeMessage gives per template.
const (
	SubAccept = "accept"
	SubReject = "reject"
	SubBan    = "ban"
	SubFilter = "filter"
)

// MaxSubscribeResults bounds one report: the mini-program asks for a few
// templates at a time, and the bound keeps one request's writes small.
const MaxSubscribeResults = 20

// Subscriptions records what members answered to subscribe requests.
type Subscriptions struct {
	Store SubscriptionStore
	Tx    domain.UnitOfWork
	Clock domain.Clock
	// Templates are the subscribe template ids Jifen sends; others are
	// refused, so a client cannot fill the table with made-up ids.
	Templates map[string]bool
}

// Record grants the member one send of every accepted template and returns
// the member's quota now for every template of results.
func (s *Subscriptions) Record(ctx context.Context, memberID int64, results map[string]string) (map[string]int64, error) {
	if len(results) == 0 || len(results) > MaxSubscribeResults {
		return nil, domain.FieldError("results", fmt.Sprintf("must name 1 to %d templates", MaxSubscribeResults))
	}
	var accepted []string
	for id, answer := range results {
		if id == "" || len(id) > 64 {
			return nil, domain.FieldError("results", "template ids must be 1 to 64 characters")
		}
		if !s.Templates[id] {
			return nil, domain.FieldError("results."+id, "not a subscribe template of this mini-program")
		}
		switch answer {
		case SubAccept:
			accepted = append(accepted, id)
		case SubReject, SubBan, SubFilter:
		default:
			return nil, domain.FieldError("results."+id, "must be accept, reject, ban or filter")
		}
	}
	sort.Strings(accepted) // a stable lock order for concurrent reports
	now := s.Clock.Now()
	out := make(map[string]int64, len(results))
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if len(accepted) > 0 {
			if err := s.Store.AddQuota(ctx, memberID, accepted, now); err != nil {
				return err
			}
		}
		q, err := s.Store.Quotas(ctx, memberID)
		if err != nil {
			return err
		}
		for id := range results {
			out[id] = q[id]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record subscriptions of member %d: %w", memberID, err)
	}
	return out, nil
}
