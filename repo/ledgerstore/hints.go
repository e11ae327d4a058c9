package ledgerstore

import (
	"database/sql"
	"sync"

	"github.com/jifen/jifen/domain/ledger"
)

// lotHints remembers, per member, how far into the member's active lots
// (first to expire first) a group's read goes: far enough to hold
// hintPoints points or hintLots lots, from the member's last full read.
// Only a hint that leaves lots out is used (a bounded read costs a
// statement more than reading everything at once).
// A hint is only ever a bound on what is read, never trusted for what is
// there: a read up to it holds every active lot before it (a complete
// prefix, ledger.LiveRead), and a spend that prefix does not pay reads
// the rest, which renews the hint. Process memory, bounded by maxHints.
type lotHints struct {
	mu sync.Mutex
	m  map[int64]lotHint
}

type lotHint struct {
	key  ledger.LotKey
	cuts bool // the full read it was learnt from had lots after key
}

const (
	hintPoints = 2000
	hintLots   = 4
	maxHints   = 1 << 17
	hintTime   = "2006-01-02 15:04:05.000"
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

// learn sets the member's hint from all of its live lots, first to expire
// first (pending ones are skipped).
func (h *lotHints) learn(member int64, lots []ledger.Lot) {
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
	h.mu.Lock()
	defer h.mu.Unlock()
	if !found {
		delete(h.m, member)
		return
	}
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
		availableAt, expiresAt, createdAt               anyTime
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
