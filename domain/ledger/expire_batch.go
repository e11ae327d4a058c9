package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
)

// BatchExpiryStore expires a batch of members with a fixed number of
// statements instead of several per member. The expiry job's batches go
// through it; for the members it cannot take, ExpireMembers settles member
// by member.
type BatchExpiryStore interface {
	// LockDueLots must run inside a transaction. It locks the accounts of
	// memberIDs (ascending) and returns those that exist with their lots
	// due at now: active lots with points remaining whose ExpiresAt <= now
	// (by id), and whether the member has pending lots whose AvailableAt <=
	// now.
	LockDueLots(ctx context.Context, now time.Time, memberIDs []int64) ([]DueAccount, error)
	// SaveExpiries writes, for each member, its expire entry (setting its
	// ID), the allocations (with that ID), every allocated lot's remaining
	// moved to expired (state expired), and the account's Available,
	// version and UpdatedAt. A taken key is ErrDuplicateKey.
	SaveExpiries(ctx context.Context, es []*MemberExpiry) error
}

// DueAccount is one locked account and what is due on it.
type DueAccount struct {
	Account    Account
	DueLots    []Lot // active, Remaining > 0, ExpiresAt <= now, by id
	DuePending bool  // some pending lot's AvailableAt <= now
}

// MemberExpiry is what expiring one member's due lots writes.
type MemberExpiry struct {
	Account Account      // after the expiry
	Entry   Entry        // the expire entry
	Allocs  []Allocation // one per due lot, its whole remaining
}

// ExpireMembers settles the given members at now in one transaction (joining
// one in ctx): their due lots expire, as Expire does across all members. It
// returns the number of lots expired; a rerun expires nothing more.
//
// The batch costs a handful of statements: members
// whose only due work is expiry are expired together, writing exactly the
// rows settle would (one entry keyed by the first due lot, its
// allocations, the lots, the account). Members with pending lots due
// (whose unlock may pay debt first) go through settle one by one, under the
// same locks.
func (s *Service) ExpireMembers(ctx context.Context, now time.Time, memberIDs []int64) (int, error) {
	now = dbTime(now)
	ids := uniqueSorted(append([]int64(nil), memberIDs...))
	n := 0
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		n = 0
		es, slow, err := planExpiry(ctx, s.Store, now, ids)
		if err != nil {
			return err
		}
		if err := s.Store.SaveExpiries(ctx, es); err != nil {
			return fmt.Errorf("expire %d members: %w", len(es), err)
		}
		for _, e := range es {
			n += len(e.Allocs)
		}
		_, expired, err := s.settleMembers(ctx, now, slow)
		n += expired
		return err
	})
	return n, err
}

// planExpiry locks the members' accounts and computes the expiries of those
// whose only due work is expiry; slow are the others with work (due pending
// lots, or no account yet), for settle.
func planExpiry(ctx context.Context, bs BatchExpiryStore, now time.Time, ids []int64) (es []*MemberExpiry, slow []int64, err error) {
	due, err := bs.LockDueLots(ctx, now, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("lock %d accounts for expiry: %w", len(ids), err)
	}
	found := make(map[int64]bool, len(due))
	for _, d := range due {
		found[d.Account.MemberID] = true
		switch {
		case d.DuePending:
			slow = append(slow, d.Account.MemberID)
		case len(d.DueLots) > 0:
			es = append(es, expireDue(d, now))
		}
	}
	for _, id := range ids {
		if !found[id] {
			slow = append(slow, id)
		}
	}
	return es, slow, nil
}

// expireDue is settle's expiry step for an account with nothing to unlock:
// every due lot's remaining expires, in one entry keyed by the first lot.
func expireDue(d DueAccount, now time.Time) *MemberExpiry {
	a := d.Account
	allocs := make([]Allocation, 0, len(d.DueLots))
	var total int64
	for _, l := range d.DueLots {
		allocs = append(allocs, Allocation{LotID: l.ID, Amount: l.Remaining})
		total += l.Remaining
	}
	a.Available -= total
	a.UpdatedAt = now
	return &MemberExpiry{Account: a, Allocs: allocs, Entry: Entry{
		MemberID: a.MemberID, Kind: KindExpire, Amount: total, Delta: -total, BalanceAfter: a.Available,
		Ref:   Ref{Type: "expiry", ID: now.In(domain.Shanghai).Format("2006-01-02")},
		Title: defaultTitle[KindExpire], Key: fmt.Sprintf("sys:expire:%d", d.DueLots[0].ID), Operator: "system", CreatedAt: now,
	}}
}
