package ledger

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jifen/jifen/domain"
)

// book is one operation's view of a locked account: the account, the lots it
// has loaded, and the rows to write. Changes are made in memory and written
// by flush, entries first (later rows need their ids).
type book struct {
	ctx     context.Context
	store   Store
	a       *Account
	now     time.Time
	lastNet int64 // net balance when the last entry was emitted

	lots       map[int64]*Lot
	liveLoaded bool
	through    *LotKey // liveLoaded: the active lots only up to here (LiveRead; nil: all)
	dirtyLots  map[int64]*Lot
	dirtyHolds []*Hold
	recs       []*record

	unlocked, expired int // lots settled, for the batch jobs
}

// record is an entry and the rows that hang off it.
type record struct {
	entry  *Entry
	allocs []Allocation // EntryID filled by flush
	lot    *Lot         // a new lot made by this entry
	hold   *Hold        // a new hold made by this entry
}

func newBook(ctx context.Context, st Store, a *Account, now time.Time) *book {
	return &book{ctx: ctx, store: st, a: a, now: now, lastNet: a.net(),
		lots: map[int64]*Lot{}, dirtyLots: map[int64]*Lot{}}
}

// emit records an entry for the account changes made since the previous one.
func (b *book) emit(kind Kind, amount int64, ref Ref, title string, related int64, allocs []Allocation) *record {
	if title == "" {
		title = defaultTitle[kind]
	}
	n := b.a.net()
	e := &Entry{MemberID: b.a.MemberID, Kind: kind, Amount: amount, Delta: n - b.lastNet,
		BalanceAfter: b.a.Available, Ref: ref, RelatedID: related, Title: title, CreatedAt: b.now}
	b.lastNet = n
	b.a.UpdatedAt = b.now
	r := &record{entry: e, allocs: allocs}
	b.recs = append(b.recs, r)
	return r
}

func (b *book) keep(l Lot) *Lot {
	if have, ok := b.lots[l.ID]; ok {
		return have
	}
	p := &l
	b.lots[l.ID] = p
	return p
}

// preload takes the live lots UpdateAccount loaded with the account.
func (b *book) preload(loaded bool, read LiveRead) {
	if !loaded {
		return
	}
	for _, l := range read.Lots {
		b.keep(l)
	}
	b.liveLoaded, b.through = true, read.Through
}

func (b *book) touch(l *Lot) { b.dirtyLots[l.ID] = l }

// loadLive loads the pending lots and active lots with points remaining,
// all of them (after a prefix, the rest: lots already in the book keep
// their changes).
func (b *book) loadLive() error {
	if b.liveLoaded && b.through == nil {
		return nil
	}
	ls, err := b.store.LiveLots(b.ctx, b.a.MemberID)
	if err != nil {
		return err
	}
	for _, l := range ls {
		b.keep(l)
	}
	b.liveLoaded, b.through = true, nil
	return nil
}

// First pages of a member's active lots read by cover: pageLots lots,
// then pageGrowth times more each time, up to maxPage.
const (
	pageLots   = 16
	pageGrowth = 4
	maxPage    = 1024
)

// cover makes sure the book holds the lots needed to settle it and then
// take n points first to expire first (n = 0: settle only); with debit it
// may stop short when the settled account has fewer than n points (a
// debit refuses then; a reversal takes what there is). When the live
// lots were read up to b.through only, it reads the next ones a page at a
// time (Store.LiveLotsAfter) until prefixCovers holds or none is left; with
// debt to pay it reads them all. Without live lots loaded it reads them all.
func (b *book) cover(n int64, debit bool) error {
	if !b.liveLoaded || b.a.Debt > 0 {
		return b.loadLive()
	}
	for page := pageLots; b.through != nil && !b.prefixCovers(n, debit); page = min(page*pageGrowth, maxPage) {
		ls, err := b.store.LiveLotsAfter(b.ctx, b.a.MemberID, *b.through, page)
		if err != nil {
			return err
		}
		for _, l := range ls {
			b.keep(l)
		}
		if len(ls) < page {
			b.through = nil // nothing after the last one
		} else {
			k := ls[len(ls)-1].Key()
			b.through = &k
		}
	}
	return nil
}

// prefixCovers reports whether the lots loaded up to b.through settle the
// book and decide a debit of n, so that the active lots after it need not
// be read: no due lot lies beyond it (Through has not expired, and every
// lot expiring earlier is loaded), no debt waits to be paid from them,
// and either the active lots up to it that are not due hold n points —
// FIFO takes those first and stops there — or, for a debit, the account
// once settled has fewer than n points available (the debit fails
// whatever lies beyond). Pending lots are all loaded; one that settles into an active
// lot after Through is never reached.
func (b *book) prefixCovers(n int64, debit bool) bool {
	if !b.liveLoaded || b.through == nil {
		return b.liveLoaded
	}
	if !b.through.ExpiresAt.After(b.now) || b.a.Debt > 0 {
		return false
	}
	var have, settled int64 = 0, b.a.Available
	for _, l := range b.lots {
		switch {
		case l.State == LotPending && !l.AvailableAt.After(b.now):
			settled += l.Remaining // unlocks
		case l.State != LotActive || l.Remaining <= 0:
		case !l.ExpiresAt.After(b.now):
			settled -= l.Remaining // expires
		case !l.Key().After(*b.through):
			have += l.Remaining
		}
	}
	return have >= n || debit && settled < n
}

// loadLots makes sure the lots with ids are in the book.
func (b *book) loadLots(ids []int64) error {
	var missing []int64
	for _, id := range ids {
		if _, ok := b.lots[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	ls, err := b.store.LotsByID(b.ctx, b.a.MemberID, missing)
	if err != nil {
		return err
	}
	for _, l := range ls {
		b.keep(l)
	}
	for _, id := range missing {
		if _, ok := b.lots[id]; !ok {
			return fmt.Errorf("lot %d of member %d is missing", id, b.a.MemberID)
		}
	}
	return nil
}

// fifo returns the loaded active lots with points remaining, first to expire
// first.
func (b *book) fifo() []*Lot {
	var out []*Lot
	for _, l := range b.lots {
		if l.State == LotActive && l.Remaining > 0 {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[j].Key().After(out[i].Key()) })
	return out
}

func (b *book) sortedByID(state LotState) []*Lot {
	var out []*Lot
	for _, l := range b.lots {
		if l.State == state {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// settle makes the book agree with the clock: pending lots whose time has
// come become available (paying debt first), then due lots expire. Each
// step writes one entry with a system key derived from its first lot, which
// can be settled only once. It reads the lots it needs (cover).
func (b *book) settle() error {
	if err := b.cover(0, false); err != nil {
		return err
	}
	var unlocked int64
	var first int64
	for _, l := range b.sortedByID(LotPending) {
		if l.AvailableAt.After(b.now) {
			continue
		}
		if first == 0 {
			first = l.ID
		}
		l.State = LotActive
		b.touch(l)
		b.a.Pending -= l.Remaining
		b.a.Available += l.Remaining
		unlocked += l.Remaining
		b.unlocked++
	}
	if first != 0 {
		if err := b.payDebt(); err != nil {
			return err
		}
		r := b.emit(KindUnlock, unlocked, Ref{Type: "unlock", ID: b.now.In(domain.Shanghai).Format("2006-01-02")}, "", 0, nil)
		r.entry.Key = fmt.Sprintf("sys:unlock:%d", first)
		r.entry.Operator = "system"
	}

	var allocs []Allocation
	var total int64
	first = 0
	for _, l := range b.sortedByID(LotActive) {
		if l.ExpiresAt.After(b.now) || l.Remaining == 0 {
			continue
		}
		if first == 0 {
			first = l.ID
		}
		allocs = append(allocs, Allocation{LotID: l.ID, Amount: l.Remaining})
		total += l.Remaining
		b.a.Available -= l.Remaining
		l.Expired += l.Remaining
		l.Remaining = 0
		l.State = LotExpired
		b.touch(l)
		b.expired++
	}
	if first != 0 {
		r := b.emit(KindExpire, total, Ref{Type: "expiry", ID: b.now.In(domain.Shanghai).Format("2006-01-02")}, "", 0, allocs)
		r.entry.Key = fmt.Sprintf("sys:expire:%d", first)
		r.entry.Operator = "system"
	}
	return nil
}

// consume takes n available points from lots, first to expire first.
// The caller has checked Available >= n and loaded the lots (cover(n)).
func (b *book) consume(n int64) []Allocation {
	var out []Allocation
	for _, l := range b.fifo() {
		if n == 0 {
			break
		}
		take := min(n, l.Remaining)
		l.Remaining -= take
		if l.Remaining == 0 {
			l.State = LotSpent
		}
		b.touch(l)
		b.a.Available -= take
		n -= take
		out = append(out, Allocation{LotID: l.ID, Amount: take})
	}
	return out
}

// payDebt pays debt from available points.
func (b *book) payDebt() error {
	if b.a.Debt == 0 || b.a.Available == 0 {
		return nil
	}
	if err := b.loadLive(); err != nil {
		return err
	}
	pay := min(b.a.Debt, b.a.Available)
	b.consume(pay)
	b.a.Debt -= pay
	return nil
}

// restore puts n points back into lot l: alive if the lot has not expired,
// expired otherwise. It returns the alive part.
func (b *book) restore(l *Lot, n int64) int64 {
	b.touch(l)
	if l.State == LotExpired || !l.ExpiresAt.After(b.now) {
		if l.State == LotActive && l.Remaining > 0 {
			// Due but not yet settled (settle ran first, so only when the
			// lot was not live): expire what it holds too.
			b.a.Available -= l.Remaining
			l.Expired += l.Remaining
			l.Remaining = 0
		}
		l.State = LotExpired
		l.Expired += n
		return 0
	}
	l.Remaining += n
	if l.State == LotSpent {
		l.State = LotActive // a spent lot lives again
	}
	b.a.Available += n
	return n
}

// restoreAllocs puts back n points of the given per-lot amounts, longest
// expiry first (the most generous order), and returns the restorations.
func (b *book) restoreAllocs(avail []Allocation, n int64) ([]Allocation, error) {
	ids := make([]int64, 0, len(avail))
	for _, a := range avail {
		ids = append(ids, a.LotID)
	}
	if err := b.loadLots(ids); err != nil {
		return nil, err
	}
	sort.Slice(avail, func(i, j int) bool {
		li, lj := b.lots[avail[i].LotID], b.lots[avail[j].LotID]
		if !li.ExpiresAt.Equal(lj.ExpiresAt) {
			return li.ExpiresAt.After(lj.ExpiresAt)
		}
		return li.ID > lj.ID
	})
	var out []Allocation
	for _, a := range avail {
		if n == 0 {
			break
		}
		take := min(n, a.Amount)
		if take <= 0 {
			continue
		}
		b.restore(b.lots[a.LotID], take)
		out = append(out, Allocation{LotID: a.LotID, Amount: take})
		n -= take
	}
	if n != 0 {
		return nil, fmt.Errorf("member %d: %d points have no allocation to restore", b.a.MemberID, n)
	}
	return out, nil
}

// flush writes the entries, then the new lots and holds, lot and hold
// updates, and all allocations at once (InsertAllocations).
func (b *book) flush() error {
	var allocs []Allocation
	for _, r := range b.recs {
		if err := b.store.InsertEntry(b.ctx, r.entry); err != nil {
			return err
		}
		for _, a := range r.allocs {
			a.EntryID = r.entry.ID
			allocs = append(allocs, a)
		}
	}
	for _, r := range b.recs {
		if r.lot != nil {
			r.lot.EntryID = r.entry.ID
			if err := b.store.InsertLot(b.ctx, r.lot); err != nil {
				return err
			}
		}
		if r.hold != nil {
			r.hold.EntryID = r.entry.ID
			if err := b.store.InsertHold(b.ctx, r.hold); err != nil {
				return err
			}
		}
	}
	ids := make([]int64, 0, len(b.dirtyLots))
	for id := range b.dirtyLots {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if err := b.store.UpdateLot(b.ctx, b.dirtyLots[id]); err != nil {
			return err
		}
	}
	for _, h := range b.dirtyHolds {
		if err := b.store.UpdateHold(b.ctx, h); err != nil {
			return err
		}
	}
	if len(allocs) > 0 {
		return b.store.InsertAllocations(b.ctx, allocs)
	}
	return nil
}
