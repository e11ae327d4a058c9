// Package ledger keeps members' points: earnings as lots with an expiry,
// spends that consume lots first-to-expire, holds for points-as-cash,
// reversals, manual adjustments, expiry, and the journal of entries that
// explains every change.
//
// # Model
//
// An Account holds the running totals of one member: Available, Pending
// (earned but not yet usable), Held (reserved by an open hold), Debt (clawed
// back but already spent) and LifetimeEarned. Every earning is a Lot; a
// debit records Allocations naming the lots it consumed, so a reversal can put
// the points back into the same lots with their original expiry (into an
// expired lot they come back expired). Every operation writes exactly one
// Entry carrying the caller's idempotency key; the expiry and release jobs
// write entries with system keys ("sys:…").
//
// # Invariants (Check verifies them)
//
//   - Available == Σ Remaining of active lots; Pending == Σ Remaining of
//     pending lots; Held == Σ Amount of open holds.
//   - Σ Entry.Delta == Available + Pending + Held − Debt.
//   - No negative lot remaining or account field.
//   - For every debit entry (spend, hold, expire, negative adjust),
//     Σ allocations == Amount.
//   - Idempotency keys are unique (a unique index on the entry's key).
//
// # Entry sign convention
//
// Amount is the size of the operation (always > 0). Delta is the signed
// change of the net balance Available + Pending + Held − Debt that the entry
// caused, so the deltas of a member always sum to that net balance:
//
//	earn      +Amount              (pending or available; pays debt first)
//	unlock    0                    (pending → available)
//	spend     −Amount
//	hold      0                    (available → held)
//	capture   −Amount              (held → spent)
//	release   −(part restored into lots that expired meanwhile), usually 0
//	expire    −Amount
//	reverse   of an earn: −(Amount − part of the lot that had expired)
//	          of a spend/capture: +(part restored into still-live lots)
//	adjust    ±Amount
//
// BalanceAfter is Available after the entry.
//
// # Concurrency, transactions and idempotency
//
// Every write runs in Tx.InTx, so it joins a transaction already in the
// context (a lottery draw and its cost commit together), and goes through
// Store.UpdateAccount, which takes the member's account for the whole
// operation, loading its live lots with it (repo/ledgerstore says how).
//
// The idempotency record is the entry itself: its key has a unique index
// and the entry stores the request hash, in the same transaction as the
// effect. The operation's entry is the first row it writes, so a taken key
// is found before anything else is written; the stored entry is then the
// answer (Replayed) or, for a different request, IdempotencyConflict. A
// failed operation looks the key up too, so a retry of a spend that
// succeeded is a replay even when the balance is gone by then.
//
// # Time
//
// Writes that touch lots (spend, hold, release, reverse, negative adjust)
// first settle the account: due pending lots become available (entry
// "unlock", paying debt first) and due lots expire (entry "expire"). So do
// reads of a member's points (Balance, Lots, the first page of Entries)
// when one of the member's pending lots has come due: settle on read, so a
// shopper, the console and a guide see order points available at their
// unlock time. For accounts nobody touches, serve's release job
// (ReleaseMembers over leased member ranges, every minute) and the expiry
// job (ExpireMembers, daily) settle them; ReleasePending and
// ReleaseExpiredHolds are the one-pass versions.
//
// # Choices worth knowing
//
//   - Reversing an earn takes what the lot still holds, then the part that
//     expired (gone already: nothing to take), then other available points,
//     and only the rest becomes debt; so a member with points never owes.
//   - Partial reversal of a spend restores the longest-lived lots first.
//   - Capture takes the whole hold; capture after the deadline is Conflict.
//   - Any points becoming available (earn, unlock, restore) pay debt first.
package ledger

import (
	"time"

	"github.com/jifen/jifen/domain"
)

// MaxPoints bounds any single amount (domain.MaxPoints).
const MaxPoints = int64(domain.MaxPoints)

// Kind is the type of an entry.
type Kind string

// The entry kinds.
const (
	KindEarn    Kind = "earn"
	KindUnlock  Kind = "unlock" // pending points became available
	KindSpend   Kind = "spend"
	KindHold    Kind = "hold"
	KindCapture Kind = "capture"
	KindRelease Kind = "release"
	KindExpire  Kind = "expire"
	KindReverse Kind = "reverse"
	KindAdjust  Kind = "adjust"
)

// defaultTitle is what a shopper sees when the caller gave no title.
var defaultTitle = map[Kind]string{
	KindEarn:    "获得积分",
	KindUnlock:  "积分到账",
	KindSpend:   "积分消费",
	KindHold:    "积分抵现冻结",
	KindCapture: "积分抵现",
	KindRelease: "积分抵现取消返还",
	KindExpire:  "积分过期",
	KindReverse: "积分退回",
	KindAdjust:  "积分调整",
}

// Titles the service chooses for its own entries.
const (
	titleReverseEarn  = "退款扣回积分"
	titleReverseSpend = "退款返还积分"
	titleHoldTimeout  = "积分抵现超时返还"
)

// Ref names what an entry is about: an order, a sign-in, a lottery draw….
type Ref struct {
	Type string // e.g. "order", "signin", "draw"
	ID   string
}

// Entry is one line of the journal. See the package doc for the sign of
// Delta.
type Entry struct {
	ID           int64
	MemberID     int64
	Kind         Kind
	Amount       int64 // size of the operation, > 0
	Delta        int64 // change of Available + Pending + Held − Debt
	BalanceAfter int64 // Available after the entry
	Ref          Ref
	RelatedID    int64 // reverse: the reversed entry; capture/release: the hold entry
	Key          string
	RequestHash  string
	Title        string // shown to the shopper, e.g. "签到奖励"
	Reason       string // adjust: why (required there)
	Operator     string // who did it: "system", a console user, a guide id…
	CreatedAt    time.Time
	// Replayed is true when the entry is the stored answer to an earlier
	// request with the same idempotency key (not stored).
	Replayed bool
}

// Account is the running totals of one member.
type Account struct {
	MemberID       int64
	Available      int64
	Pending        int64
	Held           int64
	Debt           int64
	LifetimeEarned int64 // Σ earned − Σ reversed earnings
	Version        int64
	UpdatedAt      time.Time
}

func (a *Account) net() int64 { return a.Available + a.Pending + a.Held - a.Debt }

// LotState is the life stage of a lot.
type LotState string

// The lot states.
const (
	LotPending LotState = "pending" // before AvailableAt
	LotActive  LotState = "active"
	LotExpired LotState = "expired"
	// LotSpent is an active lot with nothing left: kept out of the
	// member's active lots, which every spend reads first to expire first,
	// so that lots spent long ago cost it nothing. A reversal that puts
	// points back makes it active again. (Lots spent before it existed
	// may still be active with nothing left; nothing depends on either.)
	LotSpent LotState = "spent"
)

// Lot is one earning.
type Lot struct {
	ID          int64
	MemberID    int64
	EntryID     int64 // the earn (or positive adjust) entry
	Amount      int64
	Remaining   int64 // still usable (active) or waiting (pending)
	Expired     int64 // points that expired and were not reversed since
	State       LotState
	AvailableAt time.Time
	ExpiresAt   time.Time
	CreatedAt   time.Time
}

// LotKey is a lot's place in first-to-expire order: expiry, then id.
type LotKey struct {
	ExpiresAt time.Time
	ID        int64
}

// Key returns the lot's place in first-to-expire order.
func (l *Lot) Key() LotKey { return LotKey{ExpiresAt: l.ExpiresAt, ID: l.ID} }

// After reports whether k comes after o in first-to-expire order.
func (k LotKey) After(o LotKey) bool {
	if !k.ExpiresAt.Equal(o.ExpiresAt) {
		return k.ExpiresAt.After(o.ExpiresAt)
	}
	return k.ID > o.ID
}

// LiveRead is what a store read of one member's live lots (see
// Store.LiveLots): every one of them, or, when Through is set, every
// pending lot and the active lots with points remaining up to and
// including Through in first-to-expire order — every active lot it does
// not hold comes after Through. A spend that the lots up to Through pay
// needs no more (FIFO takes them first); otherwise the operation reads on
// with Store.LiveLotsAfter, a page at a time, until the lots pay it or
// none is left, so a member's lots are read only as far as they are used.
type LiveRead struct {
	Lots    []Lot
	Through *LotKey
}

// Allocation records that an entry took (debits) or put back (reversal of a
// spend, release of a hold) Amount points of a lot.
type Allocation struct {
	EntryID int64
	LotID   int64
	Amount  int64
}

// HoldStatus is the life stage of a hold.
type HoldStatus string

// The hold statuses.
const (
	HoldOpen     HoldStatus = "held"
	HoldCaptured HoldStatus = "captured"
	HoldReleased HoldStatus = "released"
)

// Hold reserves points for a checkout until it is captured or released.
type Hold struct {
	ID        int64
	MemberID  int64
	EntryID   int64 // the hold entry, which carries the allocations
	Ref       Ref
	Amount    int64
	Status    HoldStatus
	Deadline  time.Time
	ClosedAt  time.Time // zero while open
	CreatedAt time.Time
}

// Balance is what a shopper sees.
type Balance struct {
	Available      int64
	Pending        int64
	Held           int64
	Debt           int64
	LifetimeEarned int64
	// Expiring lists the next (up to) three Shanghai days on which available
	// points expire, with the amount expiring that day.
	Expiring []ExpiringAmount
}

// ExpiringAmount is the amount expiring on one day; ExpiresAt is the
// earliest expiry instant that day.
type ExpiringAmount struct {
	Amount    int64
	ExpiresAt time.Time
}

// MemberExpiring is one member's points expiring in a window (for reminders).
type MemberExpiring struct {
	MemberID    int64
	Amount      int64
	FirstExpiry time.Time
}

// Violation is a broken invariant found by Check.
type Violation struct {
	MemberID int64
	Rule     string // one of the Rule… constants
	Detail   string
}

// The invariants Check verifies.
const (
	RuleAvailableLots = "available == Σ active lots.remaining"
	RulePendingLots   = "pending == Σ pending lots.remaining"
	RuleHeldHolds     = "held == Σ open holds.amount"
	RuleEntrySum      = "Σ entries.delta == available + pending + held − debt"
	RuleNonNegative   = "no negative account field or lot"
	RuleAllocations   = "Σ allocations == amount of each debit entry"
)
