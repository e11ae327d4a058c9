package mall

import (
	"context"
	"errors"
	"time"
)

// ErrDuplicateKey is returned (wrapped) by Store.InsertRedemption when the
// member already used the idempotency key.
var ErrDuplicateKey = errors.New("mall: duplicate redemption key")

// ErrDuplicatePickupCode is returned (wrapped) by Store.InsertRedemption
// when another redemption holds the pickup code already (a random code
// repeating, rare but certain over millions of codes).
var ErrDuplicatePickupCode = errors.New("mall: duplicate pickup code")

// ErrStockShort fails a unit of work whose SellGroup found fewer units
// left than it took.
var ErrStockShort = errors.New("mall: fewer units left than taken")

// Page is a keyset page of the catalogue: items after the cursor in
// catalogue order (Sort descending, then id descending).
type Page struct {
	Category string // "" = every category
	Limit    int
	After    *Cursor
	// OnSaleOnly hides disabled items and items whose sales window ended
	// by Now (the shoppers' view); items not on sale yet stay, their
	// detail says from when.
	OnSaleOnly bool
	Now        time.Time
}

// Cursor is an item's place in catalogue order.
type Cursor struct {
	Sort int
	ID   int64
}

// Store is the SQL truth of the mall. Methods use the transaction in ctx.
type Store interface {
	// CreateItem inserts it and sets it.ID.
	CreateItem(ctx context.Context, it *Item) error
	// UpdateItem saves it's fields (not Sold); a stock below what is sold
	// is a RuleViolation.
	UpdateItem(ctx context.Context, it *Item) error
	// Item loads an item; NotFound when missing.
	Item(ctx context.Context, id int64) (*Item, error)
	// Items lists one page in catalogue order and the cursor of the next
	// page (nil at the end).
	Items(ctx context.Context, p Page) ([]Item, *Cursor, error)

	// LockMember serialises one member's redemptions of one item (a row
	// created on first use and locked) and returns the member's usage of
	// the item, counting live redemptions, today being day.
	LockMember(ctx context.Context, itemID, memberID int64, day int) (Usage, error)
	// Usage is LockMember without the lock.
	Usage(ctx context.Context, itemID, memberID int64, day int) (Usage, error)
	// TakeStock takes n units if that many are left (sold + n <= stock)
	// and reports whether it did.
	TakeStock(ctx context.Context, itemID, n int64) (bool, error)
	// ReturnStock gives one unit back (sold − 1).
	ReturnStock(ctx context.Context, itemID int64) error

	// ImportCodes adds codes to an item's pool, skipping codes the pool
	// already has (given out or not), and returns how many it added.
	ImportCodes(ctx context.Context, itemID int64, codes []string, now time.Time) (int, error)
	// ClaimCode gives the oldest free code of the item's pool to the
	// redemption; found false when the pool is empty.
	ClaimCode(ctx context.Context, itemID, redemptionID int64) (code string, found bool, err error)
	// FreeCodes takes up to n free codes of the item's pool, oldest first,
	// for the unit of work in ctx (codes other units of work have taken
	// are skipped where the store can), to be given with GiveCodes.
	FreeCodes(ctx context.Context, itemID int64, n int) ([]PoolCode, error)
	// GiveCodes records that each code went to its redemption.
	GiveCodes(ctx context.Context, given []PoolCode) error
	// CodesLeft counts the free codes of each item's pool.
	CodesLeft(ctx context.Context, itemIDs []int64) (map[int64]int64, error)

	// LoadGroup loads what a group of redemptions of one item decides on
	// (see RedemptionGroupQuery), the members' rows of the item created if
	// missing and locked for the unit of work, and their points accounts,
	// with their lots, taken for it (ledger.AccountTaker): each of them
	// spends.
	LoadGroup(ctx context.Context, q RedemptionGroupQuery) (RedemptionGroup, error)
	// SellGroup gives each code to its redemption (GiveCodes) and takes
	// units of the item's stock, the last writes of a group's unit of
	// work; when fewer units are left the unit of work fails with
	// ErrStockShort (wrapped), at once or when it ends.
	SellGroup(ctx context.Context, itemID, units int64, given []PoolCode) error
	// InsertRedemptions stores rs in as few statements as it can and sets
	// their ids; a used key is ErrDuplicateKey.
	InsertRedemptions(ctx context.Context, rs []*Redemption) error
	// InsertRedemption stores r and sets r.ID; a used key is
	// ErrDuplicateKey, a pickup code in use ErrDuplicatePickupCode (the
	// unit of work goes on: only the statement failed).
	InsertRedemption(ctx context.Context, r *Redemption) error
	// UpdateRedemption saves r's status, codes, shipping, store and note.
	UpdateRedemption(ctx context.Context, r *Redemption) error
	// RedemptionByKey finds the member's redemption with the key.
	RedemptionByKey(ctx context.Context, memberID int64, key string) (Redemption, bool, error)
	// Redemption loads (locking) a redemption; NotFound when missing.
	Redemption(ctx context.Context, id int64) (Redemption, error)
	// RedemptionByPickupCode loads (locking) the redemption with the code.
	RedemptionByPickupCode(ctx context.Context, code string) (Redemption, bool, error)
	// Redemptions lists the member's redemptions newest first (keyset).
	Redemptions(ctx context.Context, memberID int64, limit int, cursor int64) ([]Redemption, int64, error)
	// FindRedemptions lists every member's redemptions that match f,
	// newest first (keyset), for the console.
	FindRedemptions(ctx context.Context, f RedemptionFilter, limit int, cursor int64) ([]Redemption, int64, error)
}

// RedemptionFilter narrows the console's list of redemptions; zero fields
// match everything.
type RedemptionFilter struct {
	Status   Status
	ItemID   int64
	MemberID int64
}

// RedemptionGroupQuery is what a group of redemptions of one item on one
// day loads (Store.LoadGroup).
type RedemptionGroupQuery struct {
	ItemID  int64
	Day     int     // yyyymmdd
	Members []int64 // ascending, unique
	Keys    []RedemptionKey
	// Usage: the item has limits, load the members' usage of it.
	Usage bool
	// Codes is how many free codes of the item's pool to take for the unit
	// of work (codes other units of work hold are skipped where the store
	// can); 0 takes none.
	Codes int
}

// RedemptionGroup is what LoadGroup found.
type RedemptionGroup struct {
	Item  *Item                        // as stored now
	Usage map[int64]Usage              // by member, when asked
	Prior map[RedemptionKey]Redemption // redemptions already stored under the keys
	Codes []PoolCode                   // the free codes taken, oldest first
}

// RedemptionKey names a member's redemption by its idempotency key.
type RedemptionKey struct {
	MemberID int64
	Key      string
}

// PoolCode is a code of an item's pool and the redemption it goes to.
type PoolCode struct {
	ID           int64
	Code         string
	RedemptionID int64
}

// Reservation is what a redemption asks the Gate for.
type Reservation struct {
	ItemID     int64
	MemberID   int64
	Day        int // yyyymmdd
	LimitTotal int
	LimitDaily int
	// Key is the redemption's Idempotency-Key: a reservation records it
	// (the copy marker of domain.CopyWindow), and a release forgets it;
	// "" (a cancel's or refund's release) records nothing.
	Key string
}

// Outcome is the Gate's answer.
type Outcome int

// The outcomes.
const (
	GateNotReady       Outcome = iota // stock counter missing: rebuild and ask again
	GateLimitTotal                    // the member reached the item's limit
	GateLimitDaily                    // the member reached today's limit
	GateOutOfStock                    // nothing left
	GateReserved                      // one unit reserved
	GateMemberNotReady                // the member's counters are missing: rebuild them and ask again
	// GateCopyInFlight: a limit or the stock turned the redemption away
	// while a copy of it (the member and Key) holds a reservation, in
	// flight elsewhere or committed: look for its redemption, and ask
	// again (domain.AwaitCopy).
	GateCopyInFlight
)

// Gate is the fast, rebuildable copy of stock and member counters (Redis).
type Gate interface {
	// Reserve atomically checks the member's counters against the limits
	// and takes one unit; on GateReserved the member's counters, and the
	// copy marker of r.Key, grow by one.
	Reserve(ctx context.Context, r Reservation) (Outcome, error)
	// Release gives back a reservation whose redemption did not commit,
	// or whose redemption was cancelled (the unit and the member's count,
	// and the reservation's count in the copy marker of r.Key).
	Release(ctx context.Context, r Reservation) error
	// SoldOut records that SQL has no unit left.
	SoldOut(ctx context.Context, itemID int64) error
	// Rebuild loads what is left of the item, if missing.
	Rebuild(ctx context.Context, itemID, left int64) error
	// RebuildMember loads the member's counters for day, if missing.
	RebuildMember(ctx context.Context, itemID, memberID int64, day int, u Usage) error
	// Reset drops the item's stock counter (after a console edit).
	Reset(ctx context.Context, itemID int64) error
}

// ItemAudit is what Check compares for one item.
type ItemAudit struct {
	ItemID int64
	Kind   Kind
	Stock  int64
	Sold   int64
	// LiveRedemptions counts redemptions that are not cancelled or refunded.
	LiveRedemptions int64
	// CodesGiven counts pool codes that name a redemption; CodedRedemptions
	// counts redemptions that carry a coupon code; CodesMismatched counts
	// redemptions whose code is not the pool code naming them.
	CodesGiven       int64
	CodedRedemptions int64
	CodesMismatched  int64
}

// Auditor reads what Check needs.
type Auditor interface {
	// Audit returns the figures of up to limit items with id > after,
	// ascending.
	Audit(ctx context.Context, after int64, limit int) ([]ItemAudit, error)
}
