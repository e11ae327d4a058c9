// Package signin is the daily sign-in (签到): one sign-in per member per
// Asia/Shanghai day, a streak of consecutive days with rewards from a
// configured ladder, a monthly calendar and paid make-ups (补签).
//
// Invariant: the store's row per (member, day) is the truth, unique in SQL,
// so ten simultaneous taps sign in once and earn once (the reward is a
// ledger Earn in the same transaction, keyed by member and day). The
// calendar bitmap in Redis and the streak leaderboard are rebuilt from those
// rows whenever they are missing.
//
// A row's Streak is the run of consecutive signed days ending on it. A
// make-up fills a missed day of the current month before today, paid through
// the ledger, and renumbers the rows that follow it, so the streak
// reconnects. Make-ups earn no reward. A make-up is paid with one make-up
// card (补签卡, redeemed in the points mall: Cards) when the member holds
// one, else with Rewards.MakeupCost points (payMakeup, the one place that
// decides).
package signin

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/leaderboard"
	"github.com/jifen/jifen/domain/ledger"
)

// Record is one signed day.
type Record struct {
	MemberID  int64
	Day       domain.Day
	Streak    int
	Points    int64
	Makeup    bool
	CreatedAt time.Time
}

// Store persists sign-ins. Every method joins the transaction in ctx.
type Store interface {
	// Insert stores r; a row for the same member and day is ErrDuplicate.
	Insert(ctx context.Context, r Record) error
	// Get returns the member's row of day; lock takes it for the unit of
	// work (waiting for an unfinished insert or update of it; a missing
	// row is not taken: repo/signinstore says why).
	Get(ctx context.Context, memberID int64, day domain.Day, lock bool) (Record, bool, error)
	// After returns (locking) the member's rows after day, oldest first,
	// up to limit.
	After(ctx context.Context, memberID int64, day domain.Day, limit int) ([]Record, error)
	// Settle sets the streak and points of the row just inserted.
	Settle(ctx context.Context, memberID int64, day domain.Day, streak int, points int64) error
	// SetStreak updates the streak of one row.
	SetStreak(ctx context.Context, memberID int64, day domain.Day, streak int) error
	// Month returns the member's rows of the month of first (its 1st).
	Month(ctx context.Context, memberID int64, first domain.Day) ([]Record, error)
	// Latest returns the member's latest row on or before day.
	Latest(ctx context.Context, memberID int64, day domain.Day) (Record, bool, error)

	// For group commit (group.go):

	// LoadGroup loads what a group of sign-ins of one day decides on (see
	// SignInGroupQuery): the members' points accounts taken for the unit
	// of work first (ledger.AccountTaker: the member-level lock a make-up
	// also takes, Makeup), then their rows of q.Days, not taken.
	LoadGroup(ctx context.Context, q SignInGroupQuery) (SignInGroupState, error)
	// Rows returns the members' rows of the given days, taking them for
	// the unit of work when lock.
	Rows(ctx context.Context, members []int64, days []domain.Day, lock bool) ([]Record, error)
	// InsertMany stores rs at once, as late as the unit of work's next
	// read or write: a taken (member, day) fails it, or that next step,
	// with ErrDuplicate (wrapped) and the unit of work must roll back.
	InsertMany(ctx context.Context, rs []Record) error
}

// SignInGroupQuery is what a group of sign-ins of one day loads
// (Store.LoadGroup).
type SignInGroupQuery struct {
	Members []int64      // the group's members, ascending and unique
	Days    []domain.Day // the days whose rows decide: today and yesterday
}

// SignInGroupState is what Store.LoadGroup found.
type SignInGroupState struct {
	// Rows are the members' rows of the query's days, read after their
	// accounts were taken.
	Rows []Record
	// AccountTaken holds the members whose points account exists and was
	// taken for the unit of work before Rows were read. A member missing
	// from it (no account yet, or a store that takes accounts only when
	// the ledger applies) holds no member-level lock until then: the
	// group reads their rows of yesterday again, taken, after inserting
	// today's (group.go, step 3).
	AccountTaken map[int64]bool
}

// Cards keeps members' make-up cards (补签卡): a count per member, never
// negative. Every method joins the transaction in ctx.
type Cards interface {
	// Cards returns how many cards the member holds.
	Cards(ctx context.Context, memberID int64) (int, error)
	// AddCards gives the member n > 0 more cards.
	AddCards(ctx context.Context, memberID int64, n int) error
	// UseCard takes one of the member's cards in one conditional write
	// (only while the count is above zero): false when there was none,
	// so two units of work never take the same card.
	UseCard(ctx context.Context, memberID int64) (bool, error)
}

// ErrDuplicate is returned (wrapped) by Store.Insert for a taken day.
var ErrDuplicate = fmt.Errorf("signin: day already signed")

// Calendar caches which days of a month a member signed (Redis bitmap).
// It holds nothing that cannot be rebuilt from the Store. A month it
// answers must show every sign-in committed before the answer, but for a
// bounded while after a mark failed: Mark and MarkMany see to a mark that
// did not land (sent again, and the month rebuilt from the Store after a
// bounded life), so callers only report their errors, if anything.
type Calendar interface {
	// Month returns the signed days (bit d = day d) and whether the cache
	// holds the month.
	Month(ctx context.Context, memberID int64, first domain.Day) (bits uint64, ok bool, err error)
	// Fill marks the month as built with the given days (adding to any
	// days marked concurrently, never removing).
	Fill(ctx context.Context, memberID int64, first domain.Day, days []int) error
	// Mark adds one signed day.
	Mark(ctx context.Context, memberID int64, day domain.Day) error
	// MarkMany marks one day of many members at once: a
	// group marks its sign-ins after the commit, before answering, so the
	// callers skip their own Mark.
	MarkMany(ctx context.Context, members []int64, day domain.Day) error
}

// StreakBoard is told a member's current streak after a commit (the
// signin_streak leaderboard). Its errors are ignored: the board rebuilds.
type StreakBoard interface {
	StreakChanged(ctx context.Context, memberID int64, streak int)
}

// PointsBoard is told a member earned points (points_week board).
type PointsBoard interface {
	Earned(ctx context.Context, memberID int64, points int64)
}

// Boards is both boards at once: sign-ins' streaks and points told in one
// call (a group of sign-ins: one round trip to the cache, one script per
// board). Optional: when Streaks and Points are one value that implements
// it, sign-ins use it.
type Boards interface {
	SignedIn(ctx context.Context, signins []leaderboard.SignIn)
}

// Tiers tells members' tiers for the tier multiplier (tier.Service), in
// one call for a group. Members missing from the map are "normal".
type Tiers interface {
	TiersOf(ctx context.Context, members []int64) (map[int64]string, error)
}

// Ledger is the part of the points ledger sign-in uses.
type Ledger interface {
	Earn(ctx context.Context, in ledger.EarnInput) (ledger.Entry, error)
	Spend(ctx context.Context, in ledger.SpendInput) (ledger.Entry, error)
	Balance(ctx context.Context, memberID int64) (ledger.Balance, error)
	// Shown is what reads show of the members' points after their awards
	// committed, given each award entry's BalanceAfter (the answers'
	// balance: ledger.Service.Shown).
	Shown(ctx context.Context, afterEarn map[int64]int64) (map[int64]int64, error)
	// LockMember locks the member's account for the rest of the
	// transaction in ctx (a sign-in and a make-up take it first).
	LockMember(ctx context.Context, memberID int64) error

	// For group commit (group.go), on the accounts Store.LoadGroup took:

	// ApplyWithoutIDs makes many earns in the caller's unit of work at
	// once, reading no entry id before it ends.
	ApplyWithoutIDs(ctx context.Context, ops []ledger.Op) ([]ledger.Entry, []error, error)
}
