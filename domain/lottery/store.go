package lottery

import (
	"context"
	"errors"
)

// ErrDuplicateDraw is returned (wrapped) by Store.InsertDraw when the member
// already used the idempotency key.
var ErrDuplicateDraw = errors.New("lottery: duplicate draw key")

// Store is the SQL truth of the lottery. Methods use the transaction in ctx.
type Store interface {
	// CreateCampaign inserts c and its prizes and sets their ids.
	CreateCampaign(ctx context.Context, c *Campaign) error
	// UpdateCampaign saves c's own fields (not its prizes).
	UpdateCampaign(ctx context.Context, c *Campaign) error
	// Campaign loads a campaign with its prizes (by id); NotFound when missing.
	Campaign(ctx context.Context, id int64) (*Campaign, error)
	// Campaigns lists campaigns newest first with keyset paging.
	Campaigns(ctx context.Context, limit int, cursor int64) ([]Campaign, int64, error)
	// CreatePrize inserts p (p.CampaignID set).
	CreatePrize(ctx context.Context, p *Prize) error
	// Stats counts the campaign's draws by prize (0: consolation or miss)
	// and the members who drew.
	Stats(ctx context.Context, campaignID int64) (Stats, error)
	// UpdatePrize saves p; when p is stocked, Won is recounted from the draws
	// so that stock set on a formerly unlimited prize counts what it gave.
	// A stock below what was won is a RuleViolation.
	UpdatePrize(ctx context.Context, p *Prize) error

	// LockMember locks (creating it) the member's row in the campaign: the
	// lock that serialises one member's draws.
	LockMember(ctx context.Context, campaignID, memberID int64) (MemberState, error)
	SaveMember(ctx context.Context, campaignID, memberID int64, st MemberState) error
	// MemberState reads the row without locking (zero when none).
	MemberState(ctx context.Context, campaignID, memberID int64) (MemberState, error)
	// TakeStock gives one unit of a stocked prize if any is left
	// (UPDATE … SET won = won + 1 WHERE won < stock) and reports whether it did.
	TakeStock(ctx context.Context, prizeID int64) (bool, error)
	// MemberWins counts the member's draws of the prize.
	MemberWins(ctx context.Context, campaignID, memberID, prizeID int64) (int, error)
	// DrawByKey finds the member's draw with the idempotency key.
	DrawByKey(ctx context.Context, memberID int64, key string) (Draw, bool, error)
	// InsertDraw stores d and sets d.ID; a used key is ErrDuplicateDraw.
	InsertDraw(ctx context.Context, d *Draw) error
	// Draws lists the member's draws in a campaign, newest first.
	Draws(ctx context.Context, campaignID, memberID int64, limit int, cursor int64) ([]Draw, int64, error)

	GroupStore
}

// Reservation is what a draw asks the Gate for.
type Reservation struct {
	CampaignID int64
	MemberID   int64
	Day        int   // yyyymmdd
	PrizeID    int64 // the picked prize
	LimitTotal int
	LimitDaily int
	// Key is the draw's Idempotency-Key: a reservation records it (the
	// copy marker of domain.CopyWindow), and a release forgets it; ""
	// records nothing.
	Key string
}

// Outcome is the Gate's answer.
type Outcome int

// The outcomes.
const (
	GateNotReady   Outcome = iota // counters missing: rebuild and ask again
	GateLimitTotal                // the member reached the campaign limit
	GateLimitDaily                // the member reached today's limit
	GateOutOfStock                // the picked prize has no stock left
	GateUnlimited                 // the picked prize has no stock limit
	GateReserved                  // one unit of the picked prize is reserved
	// GateMemberNotReady: the stock counters are there but the member's
	// are missing (their first draw, or expired): RebuildMember and ask again.
	GateMemberNotReady
	// GateCopyInFlight: a limit turned the draw away while a copy of it
	// (the member and Key) holds a reservation, in flight elsewhere or
	// committed: look for its draw, and ask again (domain.AwaitCopy).
	GateCopyInFlight
)

// Gate is the fast, rebuildable copy of stock and member counters (Redis).
type Gate interface {
	// Reserve atomically checks the member's limits and takes one unit of
	// the prize when it is stocked; the member's counters grow by one
	// draw, and the copy marker of r.Key by one reservation, unless the
	// answer is a limit, GateCopyInFlight or a not-ready one.
	Reserve(ctx context.Context, r Reservation) (Outcome, error)
	// Release gives back a reservation whose draw did not commit (and the
	// stock unit when unit), and its count in the copy marker of r.Key.
	Release(ctx context.Context, r Reservation, unit bool) error
	// AdjustStock adds delta to what the Gate thinks is left of a prize.
	AdjustStock(ctx context.Context, campaignID, prizeID, delta int64) error
	// SoldOut records that SQL has no unit of the prize left.
	SoldOut(ctx context.Context, campaignID, prizeID int64) error
	// Rebuild loads what is left of each stocked prize and the member's
	// counters for day, each only if missing.
	Rebuild(ctx context.Context, c *Campaign, memberID int64, day int, st MemberState) error
	// RebuildMember loads only the member's counters for day, if missing.
	RebuildMember(ctx context.Context, campaignID, memberID int64, day int, st MemberState) error
	// Reset drops the campaign's stock counters (after a console edit).
	Reset(ctx context.Context, campaignID int64) error
}

// MemberKey names one member's row in one campaign.
type MemberKey struct{ CampaignID, MemberID int64 }

// DrawKey names a draw by its member and idempotency key.
type DrawKey struct {
	MemberID int64
	Key      string
}

// WinKey names a member's wins of one prize.
type WinKey struct{ CampaignID, MemberID, PrizeID int64 }

// GroupStore is the part of Store group commit uses (group.go), each call
// for the whole group at once, in the unit of work in ctx. A group loads
// what it decides on in two calls (LoadDrawBatch, then LoadPrizeClaims for
// the draws that passed their limits) and writes it in one (WriteGroup);
// how the store sends these to the database, and in which order it locks,
// is repo/lotterystore's.
type GroupStore interface {
	// LoadDrawBatch locks, for the unit of work, the members' rows of
	// their campaigns (creating them when q.FirstDraws) and returns their
	// counters, the draws already stored under the requests' keys and the
	// campaigns' prizes as stored now (not locked). The drawers' points
	// accounts may be taken for the unit of work too, here or at
	// LoadPrizeClaims (ledger.AccountTaker). Without q.FirstDraws a member
	// with no row fails it with ErrFirstDraw.
	LoadDrawBatch(ctx context.Context, q DrawBatchQuery) (DrawBatchState, error)
	// LoadPrizeClaims locks, for the unit of work, the prizes whose stock
	// the draws may take and returns them with the members' wins asked
	// for; the drawers' points accounts are taken for the unit of work by
	// then (with the lots of the spenders).
	LoadPrizeClaims(ctx context.Context, q PrizeClaimQuery) (PrizeClaimState, error)
	// WriteGroup inserts the draws, saves the members' counters and sets
	// the prizes' won. The draws' ids are set by the time the unit of work
	// ends (not before). A used key is ErrDuplicateDraw.
	WriteGroup(ctx context.Context, draws []*Draw, members map[MemberKey]MemberState, won map[int64]int64) error
}

// ErrFirstDraw fails LoadDrawBatch when a member draws in a campaign for
// the first time and the query did not say FirstDraws: the unit of work
// rolls back and runs again with FirstDraws.
var ErrFirstDraw = errors.New("lottery: a member draws for the first time in a campaign")

// BatchDraw is one draw of a batch as LoadDrawBatch needs it.
type BatchDraw struct {
	Campaign *Campaign // as the request saw it (perhaps cached)
	MemberID int64
	Key      string
	MaySpend bool // the draw may cost points
}

// DrawBatchQuery is what a batch of draws loads first: a member may have
// several draws (under distinct keys), its row is locked once.
type DrawBatchQuery struct {
	Draws []BatchDraw
	// FirstDraws: some member may draw in their campaign for the first
	// time (their row is created).
	FirstDraws bool
}

// DrawBatchState is what LoadDrawBatch found.
type DrawBatchState struct {
	Members map[MemberKey]MemberState // locked for the unit of work
	Prior   map[DrawKey]Draw          // draws already stored under the keys
	Prizes  map[int64]Prize           // the campaigns' prizes, by id, not locked
}

// PrizeClaimQuery is what the draws of a batch that passed their limits
// load before their prizes are decided.
type PrizeClaimQuery struct {
	Stocked []int64  // prizes with stock left, ascending: locked for the unit of work
	Wins    []WinKey // members' wins of prizes with a per-member limit
	// Drawers are the members whose points the draws change; Spenders
	// those of them who pay for their draw.
	Drawers  []int64
	Spenders map[int64]bool
}

// PrizeClaimState is what LoadPrizeClaims found.
type PrizeClaimState struct {
	Stocked map[int64]Prize // locked for the unit of work
	Wins    map[WinKey]int
}
