package ledger

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
)

// Balance returns the member's totals and the next three expiry days
// (points that never expire have none). A member without an account has a
// zero balance.
//
// Outside a caller's transaction the read settles first when lots have
// come due (see settled): pending points are available at their unlock
// time, and points past their expiry instant are expired, to whoever
// asks, whether or not the nightly jobs have run yet.
func (s *Service) Balance(ctx context.Context, memberID int64) (Balance, error) {
	bal, due, err := s.balance(ctx, memberID)
	if err != nil || !due || !batch.OutsideTx(ctx, s.Tx) {
		return bal, err
	}
	// The answer already leaves the expired points out; the settle books
	// their expiry, so that the history, the lots and the next write agree.
	if _, err := s.settle(ctx, memberID); err != nil {
		return Balance{}, err
	}
	return bal, nil
}

// SettledBalance is Balance for a caller that decides, inside its own
// transaction, on a write to the member's points (a mall redemption under
// its locks): pending points that have come due are unlocked first, under
// the account lock and in the caller's transaction, as the write itself
// would unlock them, so that the decision counts them. Balance only reads
// in a caller's transaction and leaves them pending until something
// settles the account. The caller must take the account's lock where its
// lock order allows (its write would take it anyway); a rollback undoes
// the unlock with the rest.
func (s *Service) SettledBalance(ctx context.Context, memberID int64) (Balance, error) {
	a, found, err := s.Store.Account(ctx, memberID)
	if err != nil || !found {
		return Balance{}, err
	}
	if a.Pending > 0 {
		now := s.now()
		due, err := s.Store.HasDuePending(ctx, memberID, now)
		if err != nil {
			return Balance{}, err
		}
		if due {
			err := s.Tx.InTx(ctx, func(ctx context.Context) error {
				_, err := s.update(ctx, memberID, now, func(b *book) error { return b.settle() })
				return err
			})
			if err != nil {
				return Balance{}, fmt.Errorf("settle member %d: %w", memberID, err)
			}
		}
	}
	bal, _, err := s.balance(ctx, memberID)
	return bal, err
}

// Shown is, for each member, the available points a read shows (Balance,
// which settles on read), given the BalanceAfter of an earn the member's
// answer reports (a sign-in's, a task claim's): an earn reads no lots, so
// when nothing has settled the account since points passed their expiry
// instant or pending points came due, its entry still counts the expired
// points and not yet the due ones. One read finds such members (usually
// none); only they are read in full. Outside a caller's transaction, after
// the earns committed. A member whose read fails keeps their entry's
// figure, and the error is returned with the rest.
func (s *Service) Shown(ctx context.Context, afterEarn map[int64]int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(afterEarn))
	members := make([]int64, 0, len(afterEarn))
	for m, b := range afterEarn {
		out[m] = b
		members = append(members, m)
	}
	due, err := s.Store.UnsettledMembers(ctx, s.now(), uniqueSorted(members))
	if err != nil {
		return out, err
	}
	var first error
	for _, m := range due {
		bal, err := s.Balance(ctx, m)
		if err != nil {
			first = cmp.Or(first, err)
			continue
		}
		out[m] = bal.Available
	}
	return out, first
}

// balance is Balance without settling: points past their expiry instant
// are left out of it, and due reports that there were some.
func (s *Service) balance(ctx context.Context, memberID int64) (bal Balance, due bool, err error) {
	a, found, err := s.settled(ctx, memberID)
	if err != nil || !found {
		return Balance{}, false, err
	}
	bal = Balance{Available: a.Available, Pending: a.Pending, Held: a.Held, Debt: a.Debt, LifetimeEarned: a.LifetimeEarned}
	if a.Available == 0 {
		return bal, false, nil // no active lot holds points
	}
	// The sums per expiry instant, a page at a time, until three days are
	// complete: what it reads is bounded by the instants of those days,
	// not by the member's lots.
	var day domain.Day
	var after time.Time
	now := s.now()
	for {
		sums, err := s.Store.ExpiringSums(ctx, memberID, after, expiringPage)
		if err != nil {
			return Balance{}, false, err
		}
		for _, e := range sums {
			if NeverExpires(e.ExpiresAt) {
				return bal, due, nil // points that never expire are not "expiring"
			}
			if !e.ExpiresAt.After(now) {
				due = true
				bal.Available = max(bal.Available-e.Amount, 0)
				continue
			}
			d := domain.DayOf(e.ExpiresAt)
			if len(bal.Expiring) == 0 || d != day {
				if len(bal.Expiring) == 3 {
					return bal, due, nil
				}
				day = d
				bal.Expiring = append(bal.Expiring, ExpiringAmount{ExpiresAt: e.ExpiresAt})
			}
			bal.Expiring[len(bal.Expiring)-1].Amount += e.Amount
		}
		if len(sums) < expiringPage {
			return bal, due, nil
		}
		after = sums[len(sums)-1].ExpiresAt
	}
}

// expiringPage is how many expiry instants Balance reads at a time.
const expiringPage = 16

// settled reads the member's account. Settle on read: outside a caller's
// transaction, when the account has pending points and one of its pending
// lots has come due, it first settles the account under its lock, as any
// write on it would (due lots unlock, paying debt first, and what is due
// expires), and returns the settled account. Inside a caller's transaction
// it only reads: the caller holds locks in an order of its own.
func (s *Service) settled(ctx context.Context, memberID int64) (Account, bool, error) {
	a, found, err := s.Store.Account(ctx, memberID)
	if err != nil || !found || a.Pending == 0 || !batch.OutsideTx(ctx, s.Tx) {
		return a, found, err
	}
	due, err := s.Store.HasDuePending(ctx, memberID, s.now())
	if err != nil || !due {
		return a, found, err
	}
	a, err = s.settle(ctx, memberID)
	return a, err == nil, err
}

// settle settles the member's account in a transaction of its own, under
// its lock, as any write on it would: due lots unlock, paying debt first,
// and what is due expires. It returns the settled account.
func (s *Service) settle(ctx context.Context, memberID int64) (Account, error) {
	var a Account
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		b, err := s.update(ctx, memberID, s.now(), func(b *book) error { return b.settle() })
		if err == nil {
			a = *b.a
		}
		return err
	})
	if err != nil {
		return Account{}, fmt.Errorf("settle member %d on read: %w", memberID, err)
	}
	return a, nil
}

// settleExpired settles the member's account when its first active lot
// has passed its expiry instant (outside a caller's transaction), so that
// what a read shows next holds no expired points.
func (s *Service) settleExpired(ctx context.Context, memberID int64) error {
	if !batch.OutsideTx(ctx, s.Tx) {
		return nil
	}
	sums, err := s.Store.ExpiringSums(ctx, memberID, time.Time{}, 1)
	if err != nil || len(sums) == 0 || NeverExpires(sums[0].ExpiresAt) || sums[0].ExpiresAt.After(s.now()) {
		return err
	}
	_, err = s.settle(ctx, memberID)
	return err
}

// Lots returns up to limit (1–200) of the member's available lots with
// points remaining, first to expire first: what the console shows as "lots
// with expiry".
func (s *Service) Lots(ctx context.Context, memberID int64, limit int) ([]Lot, error) {
	if _, _, err := s.settled(ctx, memberID); err != nil {
		return nil, err
	}
	if err := s.settleExpired(ctx, memberID); err != nil {
		return nil, err
	}
	return s.Store.ActiveLots(ctx, memberID, min(max(limit, 1), 200))
}

// Entries returns up to limit (1–100, default 20) of the member's entries,
// newest first, starting below cursor (0 for the newest). nextCursor is 0
// when there is nothing more. Keyset pagination by id, so entries written
// meanwhile neither repeat nor shift a page.
func (s *Service) Entries(ctx context.Context, memberID int64, limit int, cursor int64) ([]Entry, int64, error) {
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 100)
	if cursor <= 0 { // the first page shows the unlock and expiry entries a settling read writes
		if _, _, err := s.settled(ctx, memberID); err != nil {
			return nil, 0, err
		}
		if err := s.settleExpired(ctx, memberID); err != nil {
			return nil, 0, err
		}
	}
	es, err := s.Store.Entries(ctx, memberID, cursor, limit+1)
	if err != nil {
		return nil, 0, err
	}
	if len(es) <= limit {
		return es, 0, nil
	}
	es = es[:limit]
	return es, es[limit-1].ID, nil
}

// EntriesByRef returns the member's entries about ref, oldest first.
func (s *Service) EntriesByRef(ctx context.Context, memberID int64, ref Ref) ([]Entry, error) {
	return s.Store.EntriesByRef(ctx, memberID, ref)
}

// ExpiringBetween lists, per member (id > afterMember, ascending, up to
// limit), the available points expiring in [from, to): the expiry
// reminders' audience. Page with the last MemberID.
func (s *Service) ExpiringBetween(ctx context.Context, from, to time.Time, afterMember int64, limit int) ([]MemberExpiring, error) {
	if limit <= 0 {
		limit = 500
	}
	return s.Store.ExpiringBetween(ctx, dbTime(from), dbTime(to), afterMember, limit)
}

// Check verifies the member's invariants (see the package doc) under the
// account lock and returns what is broken; nil when all hold.
func (s *Service) Check(ctx context.Context, memberID int64) ([]Violation, error) {
	var t Totals
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		t, err = s.Store.Totals(ctx, memberID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("check member %d: %w", memberID, err)
	}
	a := t.Account
	var vs []Violation
	add := func(rule, format string, args ...any) {
		vs = append(vs, Violation{MemberID: memberID, Rule: rule, Detail: fmt.Sprintf(format, args...)})
	}
	if a.Available != t.LotActive {
		add(RuleAvailableLots, "available %d, active lots %d", a.Available, t.LotActive)
	}
	if a.Pending != t.LotPending {
		add(RulePendingLots, "pending %d, pending lots %d", a.Pending, t.LotPending)
	}
	if a.Held != t.OpenHolds {
		add(RuleHeldHolds, "held %d, open holds %d", a.Held, t.OpenHolds)
	}
	if net := a.net(); net != t.EntryDeltas {
		add(RuleEntrySum, "Σ deltas %d, net balance %d", t.EntryDeltas, net)
	}
	if a.Available < 0 || a.Pending < 0 || a.Held < 0 || a.Debt < 0 || a.LifetimeEarned < 0 || t.NegativeLots > 0 {
		add(RuleNonNegative, "account %+v, %d bad lots", a, t.NegativeLots)
	}
	if len(t.UnbalancedDebits) > 0 {
		add(RuleAllocations, "entries %v", t.UnbalancedDebits)
	}
	return vs, nil
}

// CheckAll runs Check on every account, batchSize accounts per query, and
// calls fn for each (v is empty when the account is sound). It returns the
// number of accounts checked.
func (s *Service) CheckAll(ctx context.Context, batchSize int, fn func(memberID int64, v []Violation)) (int, error) {
	if batchSize <= 0 {
		batchSize = 500
	}
	var after int64
	n := 0
	for {
		ids, err := s.Store.AccountIDs(ctx, after, batchSize)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			v, err := s.Check(ctx, id)
			if err != nil {
				return n, err
			}
			fn(id, v)
			n++
		}
		if len(ids) < batchSize {
			return n, nil
		}
		after = ids[len(ids)-1]
	}
}
