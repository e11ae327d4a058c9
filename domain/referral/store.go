package referral

import (
	"context"
	"errors"
	"time"

	"github.com/jifen/jifen/domain/ledger"
)

// ErrCodeTaken is returned (wrapped) by Store.InsertCode when another
// member holds the code.
var ErrCodeTaken = errors.New("referral: invite code taken")

// ErrDuplicate is returned (wrapped) when a binding or a reward exists.
var ErrDuplicate = errors.New("referral: already recorded")

// Store is the SQL truth of referrals. Methods use the transaction in ctx.
type Store interface {
	// CodeOf returns the member's invite code ("" when none yet).
	CodeOf(ctx context.Context, memberID int64) (string, error)
	// InsertCode gives memberID the code; ErrCodeTaken when another member
	// has it. A member that already has a code keeps it (no error).
	InsertCode(ctx context.Context, memberID int64, code string, at time.Time) error
	// OwnerOf returns the member holding code (found false when none).
	OwnerOf(ctx context.Context, code string) (int64, bool, error)
	// LockOwner locks the member's invite-code row: the lock that
	// serialises the rewards (and so the daily cap) of one beneficiary.
	LockOwner(ctx context.Context, memberID int64) error
	// LockMember locks the member's row. A binding locks its invitee and
	// every member of the chain it walks before reading that member's
	// binding, so two bindings that would close a loop together wait for
	// each other and the second sees the first.
	LockMember(ctx context.Context, memberID int64) error

	// Binding returns the invitee's binding (found false when none).
	Binding(ctx context.Context, inviteeID int64) (Binding, bool, error)
	// InsertBinding stores b; ErrDuplicate when the invitee is bound.
	InsertBinding(ctx context.Context, b Binding) error
	// Flag marks the invitee's binding for review.
	Flag(ctx context.Context, inviteeID int64, note string) error

	// RememberIdentity records that memberID had the phone/unionid value.
	RememberIdentity(ctx context.Context, kind, value string, memberID int64, at time.Time) error
	// RememberIdentities is RememberIdentity for several at once.
	RememberIdentities(ctx context.Context, ids []Identity, at time.Time) error
	// SeenElsewhere reports another member that had the value (0 when none).
	SeenElsewhere(ctx context.Context, kind, value string, memberID int64) (int64, error)

	// RewardExists reports whether the reward (invitee, event, beneficiary)
	// was decided.
	RewardExists(ctx context.Context, inviteeID int64, e Event, beneficiaryID int64) (bool, error)
	// InsertReward stores r; ErrDuplicate when it exists.
	InsertReward(ctx context.Context, r Reward) error
	// OrderRewards returns the order rewards of the invitee's order.
	OrderRewards(ctx context.Context, inviteeID int64, orderID string) ([]Reward, error)
	// Reverse marks the reward (invitee, event, beneficiary) reversed if it
	// is paid, and reports whether it did.
	Reverse(ctx context.Context, inviteeID int64, e Event, beneficiaryID int64) (bool, error)
	// PaidOn sums the points paid to the beneficiary on day (yyyymmdd).
	PaidOn(ctx context.Context, beneficiaryID int64, day int) (int64, error)
	// Earned sums every point paid to the member.
	Earned(ctx context.Context, memberID int64) (int64, error)

	// Counts returns how many members the member invited (level 1) and how
	// many those invited (level 2).
	Counts(ctx context.Context, memberID int64) (level1, level2 int64, err error)
	// InviteCounts returns every inviter's level-1 count (the invites board).
	InviteCounts(ctx context.Context) (map[int64]int64, error)
	// TopInviters returns the inviters with most level-1 invites.
	TopInviters(ctx context.Context, limit int) ([]Inviter, error)
	// FlaggedBindings returns flagged bindings, newest first.
	FlaggedBindings(ctx context.Context, limit int) ([]Binding, error)
	// Bindings: many invitees' bindings at once (OnFirstPaidOrders).
	Bindings
}

// QRCache keeps mini-program codes (rebuildable: the SDK makes them again).
type QRCache interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Put(ctx context.Context, key string, jpeg []byte) error
}

// CodeMaker makes a mini-program code image (wxacode.getUnlimited).
type CodeMaker interface {
	// checkPath asks WeChat to refuse a page the released mini-program
	// lacks.
	WXACodeUnlimit(ctx context.Context, scene, page string, checkPath bool) ([]byte, error)
}

// Board is the invites leaderboard's writer (leaderboard.Service.Add).
type Board interface {
	Add(ctx context.Context, board string, memberID, delta int64)
}

// Points credits the ledger and takes a reversed reward back (joins the
// tx in ctx).
type Points interface {
	Earn(ctx context.Context, in ledger.EarnInput) (ledger.Entry, error)
	Reverse(ctx context.Context, in ledger.ReverseInput) (ledger.Entry, error)
}

// Identity is a phone or unionid a member had (Store.RememberIdentities).
type Identity struct {
	Kind     string
	Value    string
	MemberID int64
}
