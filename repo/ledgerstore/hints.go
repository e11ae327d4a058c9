package ledgerstore

import (
	"database/sql"
	"sync"

	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo"
)

// lotHints remembers, per member, how far into the member's active lots
// (first to expire first) a read of them goes — a group's (lockReads) or
// one operation's (lockAccount): far enough to hold hintPoints points or
// hintLots lots, from the member's last full read or the last page of
// lots a spend went on to read. A hint that leaves lots out bounds the
// read; one that does not means the member has few lots (read them all,
// with the account).
// A hint is only ever a bound on what is read, never trusted for what is
// there: a read up to it holds every active lot before it (a complete
// prefix, ledger.LiveRead), and a spend that prefix does not pay reads
// on, a page at a time, which renews the hint. Process memory, bounded by
// maxHints.
type lotHints struct {
	mu sync.Mutex
	m  map[int64]lotHint
}

type lotHint struct {
	key  ledger.LotKey
	cuts bool // the read it was learnt from had (or may have had) lots after key
	none bool // the member had no active lots with points remaining
}

const (
	hintPoints = 2000
	hintLots   = 4
	maxHints   = 1 << 17
)

// get returns the hints of the members whose hint leaves lots out (their
// last full read went on past it).
func (h *lotHints) get(members []int64) map[int64]ledger.LotKey {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[int64]ledger.LotKey, len(members))
	for _, m := range members {
		if k, ok := h.m[m]; ok && k.cuts {
			out[m] = k.key
		}
	}
	return out
}

// bound returns the member's hint for a one-member read (lockAccount):
// known is false when there is none; cuts when it leaves lots out.
func (h *lotHints) bound(member int64) (key ledger.LotKey, known, cuts bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k, ok := h.m[member]
	return k.key, ok, ok && !k.none && k.cuts
}

// holds reports whether the member's hint is still key: no read has
// moved it since a caller took it (bound).
func (h *lotHints) holds(member int64, key ledger.LotKey) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	k, ok := h.m[member]
	return ok && k.cuts && k.key == key
}

// runsLow reports whether the active lots of a read up to a hint have
// fallen below what a hint spans (hintPoints points or hintLots lots):
// the time to read on and move the hint, while the spends queued behind
// the account lock with the old one still find lots before it.
func runsLow(lots []ledger.Lot) bool {
	var sum int64
	n := 0
	for i := range lots {
		if l := &lots[i]; l.State == ledger.LotActive && l.Remaining > 0 {
			sum += l.Remaining
			n++
		}
	}
	return sum < hintPoints && n < hintLots
}

// learn sets the member's hint from all of its live lots, first to expire
// first (pending ones are skipped).
func (h *lotHints) learn(member int64, lots []ledger.Lot) { h.learnPage(member, lots, false) }

// learnPage sets the member's hint from a page of its active lots, first
// to expire first, read from the first one or after lots a spend is
// taking: more when lots may follow the page.
func (h *lotHints) learnPage(member int64, lots []ledger.Lot, more bool) {
	var hint lotHint
	found := false
	var sum int64
	n := 0
	for i := range lots {
		l := &lots[i]
		if l.State != ledger.LotActive || l.Remaining <= 0 {
			continue
		}
		if found && (sum >= hintPoints || n >= hintLots) {
			hint.cuts = true
			break
		}
		hint.key, found = l.Key(), true
		sum += l.Remaining
		n++
	}
	hint.cuts = hint.cuts || more // the page's last lot may not be the member's last
	if !found {
		hint = lotHint{none: true}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxHints {
		h.m = map[int64]lotHint{}
	}
	h.m[member] = hint
}

// scanLotRows reads rows of member_id and lotCols, grouped by member in
// the order they come.
func scanLotRows(rows *sql.Rows) (map[int64][]ledger.Lot, error) {
	out := map[int64][]ledger.Lot{}
	var (
		member, id, entryID, amount, remaining, expired int64
		state                                           sql.RawBytes
		availableAt, expiresAt, createdAt               repo.AnyTime
	)
	dest := []any{&member, &id, &entryID, &amount, &remaining, &expired, &state, &availableAt, &expiresAt, &createdAt}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out[member] = append(out[member], ledger.Lot{ID: id, MemberID: member, EntryID: entryID, Amount: amount, Remaining: remaining,
			Expired: expired, State: lotState(state), AvailableAt: availableAt.T, ExpiresAt: expiresAt.T, CreatedAt: createdAt.T})
	}
	return out, rows.Err()
}
