package ledger

import (
	"context"
	"errors"
	"time"
)

// ErrDuplicateKey is returned (wrapped) by Store.InsertEntry when the
// idempotency key is taken.
var ErrDuplicateKey = errors.New("ledger: duplicate idempotency key")

// Store persists the ledger. Every method reads and writes through the
// transaction carried by ctx when there is one. Methods documented as
// "locking" read the latest saved rows and take them for the unit of work,
// so they are correct even inside a unit of work that began before the
// account was taken.
type Store interface {
	// The grouped writes (batch.go): one locking read of many accounts,
	// one write of many entries.
	BatchStore
	// The expiry job's batches (expire_batch.go).
	BatchExpiryStore

	// UpdateAccount must run inside a transaction. It loads the member's
	// account with a row lock (creating an empty one first if there is none)
	// and, when withLots, its live lots as a LiveRead (all of them, or a
	// first-to-expire prefix: the operation reads on with LiveLotsAfter
	// when it needs more); calls fn; and saves the account if fn changed
	// it and returned nil.
	UpdateAccount(ctx context.Context, memberID int64, withLots bool, fn func(ctx context.Context, a *Account, lots LiveRead) error) error

	// EntryByKey returns the entry written with the idempotency key (the
	// latest committed one after the account lock).
	EntryByKey(ctx context.Context, key string) (e Entry, found bool, err error)
	// InsertEntry stores e and sets e.ID; a taken key is ErrDuplicateKey.
	InsertEntry(ctx context.Context, e *Entry) error
	// EntriesByRef returns the member's entries with ref, oldest first.
	EntriesByRef(ctx context.Context, memberID int64, ref Ref) ([]Entry, error)
	// ReversalsOf returns (locking) the reverse entries of entry id.
	ReversalsOf(ctx context.Context, entryID int64) ([]Entry, error)

	// LiveLots returns (locking) the member's pending lots and active lots
	// with points remaining.
	LiveLots(ctx context.Context, memberID int64) ([]Lot, error)
	// LiveLotsAfter returns (locking) up to limit of the member's active
	// lots with points remaining that come after key in first-to-expire
	// order, in that order: the next page of a LiveRead prefix.
	LiveLotsAfter(ctx context.Context, memberID int64, after LotKey, limit int) ([]Lot, error)
	// LotsByID returns (locking) the member's lots with the ids.
	LotsByID(ctx context.Context, memberID int64, ids []int64) ([]Lot, error)
	// LotOfEntry returns (locking) the member's lot created by entry id.
	LotOfEntry(ctx context.Context, memberID, entryID int64) (Lot, bool, error)
	// InsertLot stores l and sets l.ID.
	InsertLot(ctx context.Context, l *Lot) error
	// UpdateLot saves Remaining, Expired and State.
	UpdateLot(ctx context.Context, l *Lot) error

	// InsertAllocations stores allocations (several in one statement).
	InsertAllocations(ctx context.Context, as []Allocation) error
	// Allocations returns (locking) the allocations of the entries.
	Allocations(ctx context.Context, entryIDs []int64) ([]Allocation, error)

	// InsertHold stores h and sets h.ID.
	InsertHold(ctx context.Context, h *Hold) error
	// HoldByRef returns (locking) the member's latest hold with ref.
	HoldByRef(ctx context.Context, memberID int64, ref Ref) (Hold, bool, error)
	// HoldByID returns (locking) the hold with id.
	HoldByID(ctx context.Context, id int64) (Hold, bool, error)
	// UpdateHold saves Status and ClosedAt.
	UpdateHold(ctx context.Context, h *Hold) error

	// MembersWithDueLots returns the members of up to limit active lots with
	// points remaining whose ExpiresAt <= now, earliest first (repeats
	// possible).
	MembersWithDueLots(ctx context.Context, now time.Time, limit int) ([]int64, error)
	// DueMembersBetween returns, ascending and distinct, up to limit members
	// with after < id < before owning active lots with points remaining whose
	// ExpiresAt <= now.
	DueMembersBetween(ctx context.Context, now time.Time, after, before int64, limit int) ([]int64, error)
	// MaxAccountID returns the highest member id with an account, 0 if none.
	MaxAccountID(ctx context.Context) (int64, error)
	// MembersWithDuePending returns the members of up to limit pending lots
	// whose AvailableAt <= now.
	MembersWithDuePending(ctx context.Context, now time.Time, limit int) ([]int64, error)
	// DuePendingBetween returns, ascending and distinct, up to limit
	// members with after < id < before owning pending lots whose
	// AvailableAt <= now.
	DuePendingBetween(ctx context.Context, now time.Time, after, before int64, limit int) ([]int64, error)
	// HasDuePending reports whether the member has a pending lot whose
	// AvailableAt <= now.
	HasDuePending(ctx context.Context, memberID int64, now time.Time) (bool, error)
	// UnsettledMembers returns, distinct, those of memberIDs with an active
	// lot holding points whose ExpiresAt <= now or a pending lot whose
	// AvailableAt <= now: what a settle at now would change.
	UnsettledMembers(ctx context.Context, now time.Time, memberIDs []int64) ([]int64, error)
	// DueHolds returns up to limit open holds whose Deadline <= now.
	DueHolds(ctx context.Context, now time.Time, limit int) ([]Hold, error)

	// Account reads the member's account without locking.
	Account(ctx context.Context, memberID int64) (a Account, found bool, err error)
	// ActiveLots returns up to limit of the member's active lots with points
	// remaining, earliest expiry first.
	ActiveLots(ctx context.Context, memberID int64, limit int) ([]Lot, error)
	// ExpiringSums returns, for up to limit expiry instants after after
	// (any when zero), earliest first, the Σ remaining of the member's
	// active lots with points remaining expiring at that instant.
	ExpiringSums(ctx context.Context, memberID int64, after time.Time, limit int) ([]ExpiringAmount, error)
	// Entries returns up to limit of the member's entries with id < beforeID
	// (any id when beforeID <= 0), newest first.
	Entries(ctx context.Context, memberID int64, beforeID int64, limit int) ([]Entry, error)
	// ExpiringBetween sums, per member with id > afterMember, the active
	// remaining points expiring in [from, to), by member id, up to limit.
	ExpiringBetween(ctx context.Context, from, to time.Time, afterMember int64, limit int) ([]MemberExpiring, error)

	// Totals locks the member's account and returns what Check compares.
	Totals(ctx context.Context, memberID int64) (Totals, error)
	// AccountIDs returns up to limit member ids with an account, > after,
	// ascending.
	AccountIDs(ctx context.Context, after int64, limit int) ([]int64, error)
}

// Totals are the sums Check compares with the account.
type Totals struct {
	Account      Account
	Found        bool  // the account exists
	LotActive    int64 // Σ remaining of active lots
	LotPending   int64 // Σ remaining of pending lots
	OpenHolds    int64 // Σ amount of open holds
	EntryDeltas  int64 // Σ delta of all entries
	NegativeLots int64 // lots with remaining < 0, expired < 0 or remaining > amount
	// UnbalancedDebits are the ids of debit entries (spend, hold, expire, and
	// adjust with delta < 0) whose allocations do not sum to their amount.
	UnbalancedDebits []int64
}
