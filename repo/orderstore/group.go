package orderstore

import (
	"context"
	"slices"

	"github.com/jifen/jifen/domain/orders"
)

// LoadPaidGroup implements orders.BatchStore: the taken event ids' read,
// the tier rows' lock and, unless q.Limited, the accounts' lock and the
// first-paid loads are queued in that order, and the members' read sends
// them (one request in a pipelined transaction; see the package doc).
func (s *Store) LoadPaidGroup(ctx context.Context, q orders.PaidGroupQuery) (orders.PaidGroupState, error) {
	st := orders.PaidGroupState{Taken: map[string]bool{}}
	if err := s.TakenEvents(ctx, q.EventIDs, st.Taken); err != nil {
		return orders.PaidGroupState{}, err
	}
	if err := s.Tiers.TakeRows(ctx, q.Members); err != nil {
		return orders.PaidGroupState{}, err
	}
	if !q.Limited {
		// No usage or pool row is locked between the tier rows and the
		// accounts: the accounts come now.
		members := slices.Clone(q.Members)
		slices.Sort(members)
		if _, err := s.Accounts.TakeAccounts(ctx, slices.Compact(members), nil); err != nil {
			return orders.PaidGroupState{}, err
		}
		if q.LoadFirstPaid != nil {
			if err := q.LoadFirstPaid(ctx, q.Members); err != nil {
				return orders.PaidGroupState{}, err
			}
			st.FirstPaidLoaded = true
		}
	}
	mems, err := s.Members.ByIDs(ctx, q.Members)
	if err != nil {
		return orders.PaidGroupState{}, err
	}
	st.Members = mems
	return st, nil
}
