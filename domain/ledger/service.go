package ledger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
)

// Service is the points ledger.
type Service struct {
	Store Store
	Tx    domain.UnitOfWork
	Clock domain.Clock
	// Expiry says when earned points expire, by source (DefaultExpiry for
	// a source it does not list).
	Expiry ExpiryPolicies
	// HoldTTL is how long a hold waits for capture when the caller gives no
	// deadline (15 minutes when zero).
	HoldTTL time.Duration
	// GroupCommit commits concurrent earns, spends and adjustments made outside a
	// caller's transaction together (see batch.go); zero is off.
	GroupCommit batch.Settings
	group       batch.Committer[*batchJob]
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return dbTime(time.Now())
	}
	return dbTime(s.Clock.Now())
}

// write runs one keyed operation under the member's account lock (with its
// live lots loaded when withLots) and returns the entry that answers it.
//
// The entry's unique key is the idempotency claim: op runs, and inserting
// its entry (the first row written) fails when the key is taken; then, or
// when op fails, or when settling wrote rows before the entry, the stored
// entry with the key is the answer: a replay when the request hash matches,
// an IdempotencyConflict otherwise. Requests with one key and one member
// serialise on the account lock, so the stored entry is visible by then.
// This keeps the happy path free of an extra read under the lock.
func (s *Service) write(ctx context.Context, memberID int64, withLots bool, key, hash string, op func(b *book) (*record, error)) (Entry, error) {
	now := s.now()
	var out Entry
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		return s.Store.UpdateAccount(ctx, memberID, withLots, func(ctx context.Context, a *Account, lots LiveRead) error {
			before := *a
			answered := func() (bool, error) {
				prior, found, err := s.Store.EntryByKey(ctx, key)
				if err != nil || !found {
					return false, err
				}
				*a = before // nothing was written: drop the in-memory changes
				return true, replay(prior, hash, &out)
			}
			b := newBook(ctx, s.Store, a, now)
			b.preload(withLots, lots)
			r, err := op(b)
			if err != nil {
				if ok, rerr := answered(); ok || rerr != nil {
					return rerr
				}
				return err
			}
			r.entry.Key, r.entry.RequestHash = key, hash
			if b.recs[0] != r {
				// Settling wrote entries first: check the key before writing.
				if ok, rerr := answered(); ok || rerr != nil {
					return rerr
				}
			}
			if err := b.flush(); err != nil {
				if errors.Is(err, ErrDuplicateKey) && b.recs[0] == r {
					if ok, rerr := answered(); ok || rerr != nil {
						return rerr
					}
				}
				if errors.Is(err, ErrDuplicateKey) {
					return domain.Errorf(domain.Conflict, "a request with this idempotency key is in flight; retry")
				}
				return err
			}
			out = *r.entry
			return nil
		})
	})
	if err != nil {
		return Entry{}, err
	}
	return out, nil
}

// writeGrouped is write through group commit when it applies (earn and
// spend outside a caller's transaction).
func (s *Service) writeGrouped(ctx context.Context, j *batchJob, err error) (Entry, error) {
	if err != nil {
		return Entry{}, err
	}
	if bs, ok := s.batched(ctx); ok {
		e, alone, err := s.submit(ctx, bs, j)
		if !alone {
			return e, err
		}
	}
	return s.write(ctx, j.memberID, j.withLots, j.key, j.hash, j.op)
}

func replay(prior Entry, hash string, out *Entry) error {
	if prior.RequestHash != hash {
		return domain.Errorf(domain.IdempotencyConflict, "idempotency key %q was used for a different request", prior.Key)
	}
	prior.Replayed = true
	*out = prior
	return nil
}

// update runs fn on the member's locked account and live lots with no
// idempotency key (the batch jobs, whose work is idempotent by state).
func (s *Service) update(ctx context.Context, memberID int64, now time.Time, fn func(b *book) error) (*book, error) {
	var done *book
	err := s.Store.UpdateAccount(ctx, memberID, true, func(ctx context.Context, a *Account, lots LiveRead) error {
		b := newBook(ctx, s.Store, a, now)
		b.preload(true, lots)
		if err := fn(b); err != nil {
			return err
		}
		done = b
		return b.flush()
	})
	return done, err
}

// Earn credits points as a new lot; available points pay debt first.
func (s *Service) Earn(ctx context.Context, in EarnInput) (Entry, error) {
	j, err := s.earnJob(in)
	return s.writeGrouped(ctx, j, err)
}

// earnJob validates an earn and returns it as a write.
func (s *Service) earnJob(in EarnInput) (*batchJob, error) {
	if err := firstErr(checkMember(in.MemberID), checkPoints(in.Points), checkKey(in.Key),
		checkRef("ref", in.Ref, true), checkText("title", in.Title, 64, false), checkText("operator", in.Operator, 64, false)); err != nil {
		return nil, err
	}
	now := s.now()
	availableAt, expiresAt := dbTime(in.AvailableAt), dbTime(in.ExpiresAt)
	if availableAt.IsZero() || availableAt.Before(now) {
		availableAt = now
	}
	if expiresAt.IsZero() {
		expiresAt = dbTime(s.Expiry.ExpiresAt(sourceOfRef[in.Ref.Type], now, availableAt))
	}
	if !expiresAt.After(availableAt) {
		return nil, domain.FieldError("expires_at", "must be after the points become available")
	}
	hash := requestHash(KindEarn, in.MemberID, in.Points, in.Ref.Type, in.Ref.ID, in.Title, in.AvailableAt, in.ExpiresAt, in.Operator)
	return &batchJob{memberID: in.MemberID, key: in.Key, hash: hash, op: func(b *book) (*record, error) {
		return b.credit(KindEarn, in.Points, in.Ref, in.Title, in.Operator, availableAt, expiresAt, true)
	}}, nil
}

// credit adds a lot of n points (pending until availableAt). It refuses a
// credit that would take the account's totals past int64.
func (b *book) credit(kind Kind, n int64, ref Ref, title, operator string, availableAt, expiresAt time.Time, earned bool) (*record, error) {
	for _, total := range []int64{b.a.LifetimeEarned, b.a.Available + b.a.Pending + b.a.Held} {
		if _, err := domain.Points(total).Add(domain.Points(n)); err != nil {
			return nil, domain.FieldError("points", "the account cannot hold that many points")
		}
	}
	lot := &Lot{MemberID: b.a.MemberID, Amount: n, Remaining: n, State: LotActive,
		AvailableAt: availableAt, ExpiresAt: expiresAt, CreatedAt: b.now}
	if earned {
		b.a.LifetimeEarned += n
	}
	if availableAt.After(b.now) {
		lot.State = LotPending
		b.a.Pending += n
	} else {
		pay := min(b.a.Debt, n)
		lot.Remaining -= pay
		b.a.Debt -= pay
		b.a.Available += n - pay
		if lot.Remaining == 0 {
			lot.State = LotSpent
		}
	}
	r := b.emit(kind, n, ref, title, 0, nil)
	r.entry.Operator = operator
	r.lot = lot
	return r, nil
}

// debit settles the book and takes n available points; the caller emits.
func (b *book) debit(n int64) ([]Allocation, error) {
	if err := b.cover(n, true); err != nil {
		return nil, err
	}
	if err := b.settle(); err != nil {
		return nil, err
	}
	if b.a.Available < n {
		return nil, domain.Errorf(domain.PointsInsufficient, "%d points available, %d needed", b.a.Available, n)
	}
	return b.consume(n), nil
}

// Spend debits available points, first to expire first.
func (s *Service) Spend(ctx context.Context, in SpendInput) (Entry, error) {
	j, err := s.spendJob(in)
	return s.writeGrouped(ctx, j, err)
}

// spendJob validates a spend and returns it as a write.
func (s *Service) spendJob(in SpendInput) (*batchJob, error) {
	if err := firstErr(checkMember(in.MemberID), checkPoints(in.Points), checkKey(in.Key),
		checkRef("ref", in.Ref, true), checkText("title", in.Title, 64, false), checkText("operator", in.Operator, 64, false)); err != nil {
		return nil, err
	}
	hash := requestHash(KindSpend, in.MemberID, in.Points, in.Ref.Type, in.Ref.ID, in.Title, in.Operator)
	return &batchJob{memberID: in.MemberID, withLots: true, key: in.Key, hash: hash, op: func(b *book) (*record, error) {
		allocs, err := b.debit(in.Points)
		if err != nil {
			return nil, err
		}
		r := b.emit(KindSpend, in.Points, in.Ref, in.Title, 0, allocs)
		r.entry.Operator = in.Operator
		return r, nil
	}}, nil
}

// Hold moves available points to held until Capture, Release or the
// deadline (then ReleaseExpiredHolds gives them back).
func (s *Service) Hold(ctx context.Context, in HoldInput) (Entry, error) {
	if err := firstErr(checkMember(in.MemberID), checkPoints(in.Points), checkKey(in.Key),
		checkRef("ref", in.Ref, true), checkText("title", in.Title, 64, false), checkText("operator", in.Operator, 64, false)); err != nil {
		return Entry{}, err
	}
	now := s.now()
	deadline := dbTime(in.Deadline)
	if deadline.IsZero() {
		ttl := s.HoldTTL
		if ttl <= 0 {
			ttl = 15 * time.Minute
		}
		deadline = now.Add(ttl)
	}
	if !deadline.After(now) {
		return Entry{}, domain.FieldError("deadline", "must be in the future")
	}
	hash := requestHash(KindHold, in.MemberID, in.Points, in.Ref.Type, in.Ref.ID, in.Title, in.Deadline, in.Operator)
	return s.write(ctx, in.MemberID, true, in.Key, hash, func(b *book) (*record, error) {
		allocs, err := b.debit(in.Points)
		if err != nil {
			return nil, err
		}
		b.a.Held += in.Points
		r := b.emit(KindHold, in.Points, in.Ref, in.Title, 0, allocs)
		r.entry.Operator = in.Operator
		r.hold = &Hold{MemberID: in.MemberID, Ref: in.Ref, Amount: in.Points, Status: HoldOpen, Deadline: deadline, CreatedAt: b.now}
		return r, nil
	})
}

func checkClose(in CloseHoldInput) error {
	return firstErr(checkMember(in.MemberID), checkKey(in.Key), checkRef("hold", in.Hold, true),
		checkText("title", in.Title, 64, false), checkText("operator", in.Operator, 64, false))
}

// openHold loads the member's latest hold with ref and checks it is open.
func (b *book) openHold(ref Ref) (*Hold, error) {
	h, found, err := b.store.HoldByRef(b.ctx, b.a.MemberID, ref)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, domain.Errorf(domain.NotFound, "no hold for %s %s", ref.Type, ref.ID)
	}
	if h.Status != HoldOpen {
		return nil, domain.Errorf(domain.Conflict, "hold for %s %s is already %s", ref.Type, ref.ID, h.Status)
	}
	return &h, nil
}

// Capture spends held points for good.
func (s *Service) Capture(ctx context.Context, in CloseHoldInput) (Entry, error) {
	if err := checkClose(in); err != nil {
		return Entry{}, err
	}
	hash := requestHash(KindCapture, in.MemberID, in.Hold.Type, in.Hold.ID, in.Title, in.Operator)
	return s.write(ctx, in.MemberID, false, in.Key, hash, func(b *book) (*record, error) {
		h, err := b.openHold(in.Hold)
		if err != nil {
			return nil, err
		}
		if !h.Deadline.After(b.now) {
			return nil, domain.Errorf(domain.Conflict, "hold for %s %s expired at %s", in.Hold.Type, in.Hold.ID, h.Deadline.In(domain.Shanghai).Format("2006-01-02 15:04:05"))
		}
		h.Status, h.ClosedAt = HoldCaptured, b.now
		b.dirtyHolds = append(b.dirtyHolds, h)
		b.a.Held -= h.Amount
		r := b.emit(KindCapture, h.Amount, in.Hold, in.Title, h.EntryID, nil)
		r.entry.Operator = in.Operator
		return r, nil
	})
}

// Release gives held points back to the lots they came from.
func (s *Service) Release(ctx context.Context, in CloseHoldInput) (Entry, error) {
	if err := checkClose(in); err != nil {
		return Entry{}, err
	}
	hash := requestHash(KindRelease, in.MemberID, in.Hold.Type, in.Hold.ID, in.Title, in.Operator)
	return s.write(ctx, in.MemberID, true, in.Key, hash, func(b *book) (*record, error) {
		h, err := b.openHold(in.Hold)
		if err != nil {
			return nil, err
		}
		r, err := b.release(h, in.Title)
		if err != nil {
			return nil, err
		}
		r.entry.Operator = in.Operator
		return r, nil
	})
}

func (b *book) release(h *Hold, title string) (*record, error) {
	if err := b.settle(); err != nil {
		return nil, err
	}
	held, err := b.store.Allocations(b.ctx, []int64{h.EntryID})
	if err != nil {
		return nil, err
	}
	b.a.Held -= h.Amount
	restored, err := b.restoreAllocs(held, h.Amount)
	if err != nil {
		return nil, err
	}
	if err := b.payDebt(); err != nil {
		return nil, err
	}
	h.Status, h.ClosedAt = HoldReleased, b.now
	b.dirtyHolds = append(b.dirtyHolds, h)
	return b.emit(KindRelease, h.Amount, h.Ref, title, h.EntryID, restored), nil
}

// Reverse takes back (part of) an earn, or gives back (part of) a spend or
// capture.
//
// Reversing an earn takes the points from its lot while they remain there
// (pending points are cancelled), then from the part of the lot that has
// expired (already gone: no effect), then from the member's other available
// points, first to expire first; what is still missing becomes debt, paid
// first by the next points that become available. The balance never goes
// below zero.
//
// Reversing a spend or capture restores the lots it consumed, longest
// expiry first; into a lot that has expired since, the points come back
// expired.
func (s *Service) Reverse(ctx context.Context, in ReverseInput) (Entry, error) {
	if in.Ref == (Ref{}) {
		in.Ref = in.Of
	}
	if err := firstErr(checkMember(in.MemberID), checkKey(in.Key), checkRef("of", in.Of, true), checkRef("ref", in.Ref, false),
		checkText("title", in.Title, 64, false), checkText("operator", in.Operator, 64, false)); err != nil {
		return Entry{}, err
	}
	if in.Points != 0 {
		if err := checkPoints(in.Points); err != nil {
			return Entry{}, err
		}
	}
	switch in.OfKind {
	case "", KindEarn, KindSpend, KindCapture:
	default:
		return Entry{}, domain.FieldError("of_kind", "must be earn, spend or capture")
	}
	hash := requestHash(KindReverse, in.MemberID, in.Of.Type, in.Of.ID, in.OfKind, in.Points, in.Ref.Type, in.Ref.ID, in.Title, in.Operator)
	return s.write(ctx, in.MemberID, true, in.Key, hash, func(b *book) (*record, error) {
		orig, err := b.reversible(in.Of, in.OfKind)
		if err != nil {
			return nil, err
		}
		prior, err := b.store.ReversalsOf(b.ctx, orig.ID)
		if err != nil {
			return nil, err
		}
		left := orig.Amount
		for _, p := range prior {
			left -= p.Amount
		}
		if left <= 0 {
			return nil, domain.Errorf(domain.Conflict, "%s %s %s is already fully reversed", orig.Kind, in.Of.Type, in.Of.ID)
		}
		n := in.Points
		if n == 0 {
			n = left
		}
		if n > left {
			return nil, domain.FieldError("points", fmt.Sprintf("only %d points are left to reverse", left))
		}
		// Reversing an earn may take up to n other available points.
		if err := b.cover(n, false); err != nil {
			return nil, err
		}
		if err := b.settle(); err != nil {
			return nil, err
		}
		var r *record
		if orig.Kind == KindEarn {
			r, err = b.reverseEarn(orig, n, in.Ref, in.Title)
		} else {
			r, err = b.reverseSpend(orig, prior, n, in.Ref, in.Title)
		}
		if err != nil {
			return nil, err
		}
		r.entry.Operator = in.Operator
		return r, nil
	})
}

// reversible finds the one earn, spend or capture entry with ref.
func (b *book) reversible(ref Ref, kind Kind) (Entry, error) {
	es, err := b.store.EntriesByRef(b.ctx, b.a.MemberID, ref)
	if err != nil {
		return Entry{}, err
	}
	var found []Entry
	for _, e := range es {
		if (e.Kind == KindEarn || e.Kind == KindSpend || e.Kind == KindCapture) && (kind == "" || kind == e.Kind) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 0:
		return Entry{}, domain.Errorf(domain.NotFound, "nothing to reverse for %s %s", ref.Type, ref.ID)
	case 1:
		return found[0], nil
	}
	return Entry{}, domain.FieldError("of_kind", fmt.Sprintf("%s %s has several entries: name the kind", ref.Type, ref.ID))
}

func (b *book) reverseEarn(orig Entry, n int64, ref Ref, title string) (*record, error) {
	l, found, err := b.store.LotOfEntry(b.ctx, b.a.MemberID, orig.ID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("earn entry %d has no lot", orig.ID)
	}
	lot := b.keep(l)
	b.touch(lot)
	rest := n
	take := min(rest, lot.Remaining)
	lot.Remaining -= take
	rest -= take
	switch lot.State {
	case LotPending:
		b.a.Pending -= take
	case LotActive:
		b.a.Available -= take
		if lot.Remaining == 0 {
			lot.State = LotSpent
		}
	}
	gone := min(rest, lot.Expired)
	lot.Expired -= gone
	rest -= gone
	if other := min(rest, b.a.Available); other > 0 {
		b.consume(other)
		rest -= other
	}
	b.a.Debt += rest
	b.a.LifetimeEarned = max(0, b.a.LifetimeEarned-n)
	if title == "" {
		title = titleReverseEarn
	}
	return b.emit(KindReverse, n, ref, title, orig.ID, nil), nil
}

func (b *book) reverseSpend(orig Entry, prior []Entry, n int64, ref Ref, title string) (*record, error) {
	source := orig.ID
	if orig.Kind == KindCapture {
		source = orig.RelatedID // the hold entry took the lots
	}
	ids := []int64{source}
	for _, p := range prior {
		ids = append(ids, p.ID)
	}
	as, err := b.store.Allocations(b.ctx, ids)
	if err != nil {
		return nil, err
	}
	perLot := map[int64]int64{}
	for _, a := range as {
		if a.EntryID == source {
			perLot[a.LotID] += a.Amount
		} else {
			perLot[a.LotID] -= a.Amount
		}
	}
	var avail []Allocation
	for id, amt := range perLot {
		if amt > 0 {
			avail = append(avail, Allocation{LotID: id, Amount: amt})
		}
	}
	sort.Slice(avail, func(i, j int) bool { return avail[i].LotID < avail[j].LotID })
	restored, err := b.restoreAllocs(avail, n)
	if err != nil {
		return nil, err
	}
	if err := b.payDebt(); err != nil {
		return nil, err
	}
	if title == "" {
		title = titleReverseSpend
	}
	return b.emit(KindReverse, n, ref, title, orig.ID, restored), nil
}

// Adjust corrects a balance by hand: a credit is a new lot with the default
// expiry; a debit takes available points first to expire first and is
// refused (PointsInsufficient) beyond them. Outside a caller's transaction
// it goes through group commit, as Earn and Spend do.
func (s *Service) Adjust(ctx context.Context, in AdjustInput) (Entry, error) {
	j, err := s.adjustJob(in)
	return s.writeGrouped(ctx, j, err)
}

// adjustJob validates an adjustment and returns it as a write: the one
// decision of what an adjustment does, alone, in a ledger group or in an
// Apply (domain/adjustment's groups).
func (s *Service) adjustJob(in AdjustInput) (*batchJob, error) {
	if err := firstErr(checkMember(in.MemberID), checkKey(in.Key), checkRef("ref", in.Ref, false),
		checkText("title", in.Title, 64, false), checkText("operator", in.Operator, 64, true),
		checkText("reason", in.Reason, 200, true)); err != nil {
		return nil, err
	}
	if _, err := domain.ParsePointsChange("points", in.Points); err != nil {
		return nil, err
	}
	n := max(in.Points, -in.Points) // exact: the range is symmetric
	hash := requestHash(KindAdjust, in.MemberID, in.Points, in.Ref.Type, in.Ref.ID, in.Title, in.Reason, in.Operator)
	return &batchJob{memberID: in.MemberID, withLots: in.Points < 0, key: in.Key, hash: hash, op: func(b *book) (*record, error) {
		var r *record
		if in.Points > 0 {
			var err error
			if r, err = b.credit(KindAdjust, n, in.Ref, in.Title, in.Operator, b.now, dbTime(s.Expiry.ExpiresAt(cmp.Or(in.Source, SourceConsole), b.now, b.now)), false); err != nil {
				return nil, err
			}
		} else {
			allocs, err := b.debit(n)
			if err != nil {
				return nil, err
			}
			r = b.emit(KindAdjust, n, in.Ref, in.Title, 0, allocs)
		}
		r.entry.Operator, r.entry.Reason = in.Operator, in.Reason
		return r, nil
	}}, nil
}

// Expire expires every lot due at now, across all members, batchSize lots'
// members per transaction, and returns the number of lots expired. It is
// resumable: a rerun finds only what is still due.
func (s *Service) Expire(ctx context.Context, now time.Time, batchSize int) (int, error) {
	return s.sweep(ctx, dbTime(now), batchSize, s.Store.MembersWithDueLots, func(b *book) int { return b.expired })
}

// DueMembers returns, ascending and without repeats, up to limit members
// with id in (after, before) that have active lots due to expire at now. The
// expiry job pages through a claimed member range with it.
func (s *Service) DueMembers(ctx context.Context, now time.Time, after, before int64, limit int) ([]int64, error) {
	if limit <= 0 {
		limit = 500
	}
	return s.Store.DueMembersBetween(ctx, dbTime(now), after, before, limit)
}

// MaxAccountID is the highest member id with an account (0 when none): the
// expiry job splits [1, MaxAccountID] into member ranges.
func (s *Service) MaxAccountID(ctx context.Context) (int64, error) {
	return s.Store.MaxAccountID(ctx)
}

// ReleasePending makes every pending lot whose AvailableAt <= now available
// (paying debt first) and returns the number of lots released, across all
// members in one pass. Serve's release job does the same in leased member
// ranges (DuePendingMembers, ReleaseMembers); a write on an account or a
// read of its balance does it for that account.
func (s *Service) ReleasePending(ctx context.Context, now time.Time, batchSize int) (int, error) {
	return s.sweep(ctx, dbTime(now), batchSize, s.Store.MembersWithDuePending, func(b *book) int { return b.unlocked })
}

// DuePendingMembers returns, ascending and without repeats, up to limit
// members with id in (after, before) that have pending lots due at now. The
// release job pages through a claimed member range with it.
func (s *Service) DuePendingMembers(ctx context.Context, now time.Time, after, before int64, limit int) ([]int64, error) {
	if limit <= 0 {
		limit = 500
	}
	return s.Store.DuePendingBetween(ctx, dbTime(now), after, before, limit)
}

// ReleaseMembers settles the given members at now in one transaction
// (joining one in ctx): their due pending lots become available (paying
// debt first), and what is due to expire expires, exactly as any write on
// the account would settle it. It returns the number of lots released; a
// rerun, or a member settled meanwhile by someone else, releases nothing
// more (the account lock serialises them and settle is decided by state).
func (s *Service) ReleaseMembers(ctx context.Context, now time.Time, memberIDs []int64) (int, error) {
	now = dbTime(now)
	ids := uniqueSorted(append([]int64(nil), memberIDs...))
	n := 0
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		n, _, err = s.settleMembers(ctx, now, ids)
		return err
	})
	return n, err
}

// settleMembers settles each member (ascending ids) at now in the
// transaction in ctx and counts the lots unlocked and expired.
func (s *Service) settleMembers(ctx context.Context, now time.Time, ids []int64) (unlocked, expired int, err error) {
	for _, m := range ids {
		b, err := s.update(ctx, m, now, func(b *book) error { return b.settle() })
		if err != nil {
			return unlocked, expired, fmt.Errorf("settle member %d: %w", m, err)
		}
		unlocked += b.unlocked
		expired += b.expired
	}
	return unlocked, expired, nil
}

func (s *Service) sweep(ctx context.Context, now time.Time, batchSize int,
	due func(ctx context.Context, now time.Time, limit int) ([]int64, error), count func(*book) int) (int, error) {
	if batchSize <= 0 {
		batchSize = 500
	}
	total := 0
	for {
		members, err := due(ctx, now, batchSize)
		if err != nil {
			return total, err
		}
		if len(members) == 0 {
			return total, nil
		}
		members = uniqueSorted(members)
		n := 0
		err = s.Tx.InTx(ctx, func(ctx context.Context) error {
			n = 0
			for _, m := range members {
				b, err := s.update(ctx, m, now, func(b *book) error { return b.settle() })
				if err != nil {
					return fmt.Errorf("settle member %d: %w", m, err)
				}
				n += count(b)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n == 0 {
			return total, nil // nothing moved: do not spin
		}
	}
}

// ReleaseExpiredHolds releases every open hold whose deadline is <= now and
// returns how many it released.
func (s *Service) ReleaseExpiredHolds(ctx context.Context, now time.Time, batchSize int) (int, error) {
	now = dbTime(now)
	if batchSize <= 0 {
		batchSize = 500
	}
	total := 0
	for {
		hs, err := s.Store.DueHolds(ctx, now, batchSize)
		if err != nil {
			return total, err
		}
		if len(hs) == 0 {
			return total, nil
		}
		sort.Slice(hs, func(i, j int) bool {
			return hs[i].MemberID < hs[j].MemberID || hs[i].MemberID == hs[j].MemberID && hs[i].ID < hs[j].ID
		})
		n := 0
		err = s.Tx.InTx(ctx, func(ctx context.Context) error {
			n = 0
			for _, due := range hs {
				_, err := s.update(ctx, due.MemberID, now, func(b *book) error {
					h, found, err := b.store.HoldByID(b.ctx, due.ID)
					if err != nil || !found || h.Status != HoldOpen || h.Deadline.After(now) {
						return err
					}
					r, err := b.release(&h, titleHoldTimeout)
					if err != nil {
						return err
					}
					r.entry.Key = fmt.Sprintf("sys:hold-timeout:%d", h.ID)
					r.entry.Operator = "system"
					n++
					return nil
				})
				if err != nil {
					return fmt.Errorf("release hold %d: %w", due.ID, err)
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

func uniqueSorted(ids []int64) []int64 {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}
