// Package referral is member-get-member: every member has an invite code; a
// new member binds once to the inviter whose code they came with (never to
// themselves, never closing a cycle, only within a window after joining);
// the inviter, and the inviter's own inviter at the second level, earn
// points when the invitee binds a phone and pays a first order.
//
// The invariant: each (invitee, event, beneficiary) reward exists once in
// referral_rewards, written in the same transaction as its ledger entry
// (whose idempotency key is ref:<event>:<invitee>[:l2]), so calling a hook
// twice pays once. A reward refused by the daily cap or by a fraud flag is
// recorded too, with no points.
//
// A first-order reward is pending as long as the order's own points are
// (the order's return window); a full refund of the order within it
// reverses the reward (status reversed, in the refund's transaction). A
// reversed reward is still the invitee's one first-order reward: a later
// order pays none.
package referral

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// Alphabet holds the characters of an invite code: no 0/O, 1/I/L, so a
// code read aloud or off a poster is unambiguous.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CodeLen is the length of an invite code (31^6 ≈ 887 million codes).
const CodeLen = 6

// NewCode returns a random invite code (crypto/rand).
func NewCode() (string, error) {
	var b strings.Builder
	max := big.NewInt(int64(len(Alphabet)))
	for i := 0; i < CodeLen; i++ {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b.WriteByte(Alphabet[n.Int64()])
	}
	return b.String(), nil
}

// ParseCode normalises a code typed or scanned by a shopper (case and
// surrounding space do not matter) and rejects anything that cannot be one.
func ParseCode(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != CodeLen {
		return "", domain.FieldError("code", "an invite code is 6 characters")
	}
	for _, r := range s {
		if !strings.ContainsRune(Alphabet, r) {
			return "", domain.FieldError("code", "an invite code uses only 2-9 and A-Z without I, L, O")
		}
	}
	return s, nil
}

// Event is what an invitee did that pays a reward.
type Event string

// The rewarded events.
const (
	EventPhone Event = "phone" // the invitee bound a phone number
	EventOrder Event = "order" // the invitee's first paid order
)

// Reward statuses.
const (
	StatusPaid     = "paid"
	StatusCapped   = "capped"   // the beneficiary's daily cap was reached
	StatusFlagged  = "flagged"  // the pair is flagged for review
	StatusReversed = "reversed" // paid, then taken back: the order was fully refunded within its return window
)

// Binding is one invitee → inviter link; Parent2ID is the inviter's own
// inviter (0 when none), who gets the second-level share.
type Binding struct {
	InviteeID int64
	InviterID int64
	Parent2ID int64
	Flagged   bool
	FlagNote  string
	CreatedAt time.Time
}

// Reward is one reward decision.
type Reward struct {
	InviteeID     int64
	Event         Event
	BeneficiaryID int64
	Level         int // 1 inviter, 2 inviter's inviter
	Points        int64
	Day           int // yyyymmdd, Shanghai
	Status        string
	OrderID       string    // the first paid order of an order reward ("" for the phone)
	AvailableAt   time.Time // when the points become available (zero: at once)
	CreatedAt     time.Time
}

// reversible reports whether a full refund of the reward's order at now
// takes the reward back: it was paid and is still pending (the order's
// return window is not over). A withheld reward has nothing to take back;
// after the window the points are the beneficiary's.
func (r Reward) reversible(now time.Time) bool {
	return r.Event == EventOrder && r.Status == StatusPaid && r.AvailableAt.After(now)
}

// Amounts are the points of one event at each level.
type Amounts struct {
	Inviter     int64
	SecondLevel int64
}

// Rules are the configured referral rules.
type Rules struct {
	Window     time.Duration // a member may bind within this time after joining
	Phone      Amounts
	FirstOrder Amounts
	DailyCap   int64 // points one beneficiary may earn from referrals per Shanghai day; 0 = none
}

// MaxWindow is the longest binding window: a quarter of a year.
const MaxWindow = 90 * 24 * time.Hour

// Validate names every wrong rule under key (e.g. "referral"): the window
// from an hour to MaxWindow, rewards and cap whole points (0: none).
func (r Rules) Validate(key string) error {
	bad := domain.Problems{}
	if r.Window < time.Hour || r.Window > MaxWindow {
		bad.Add(key+".window", "must be between 1h and 2160h")
	}
	bad.Parsed(domain.ParsePointsOrZero(key+".rewards.phone_inviter", r.Phone.Inviter))
	bad.Parsed(domain.ParsePointsOrZero(key+".rewards.phone_second_level", r.Phone.SecondLevel))
	bad.Parsed(domain.ParsePointsOrZero(key+".rewards.first_order_inviter", r.FirstOrder.Inviter))
	bad.Parsed(domain.ParsePointsOrZero(key+".rewards.first_order_second_level", r.FirstOrder.SecondLevel))
	bad.Parsed(domain.ParsePointsOrZero(key+".daily_cap_points", r.DailyCap))
	return bad.Err("invalid referral rules")
}

func (r Rules) amounts(e Event) Amounts {
	if e == EventPhone {
		return r.Phone
	}
	return r.FirstOrder
}

// inWindow refuses a binding more than Window after the invitee joined.
func (r Rules) inWindow(joined, now time.Time) error {
	if now.Sub(joined) > r.Window {
		return domain.Errorf(domain.RuleViolation, "an inviter can only be bound within %d hours of joining", int(r.Window.Hours()))
	}
	return nil
}

// share is one level's part of an event's reward.
type share struct {
	level       int // 1 inviter, 2 inviter's inviter
	beneficiary int64
	points      int64
	key         string // the ledger's idempotency key
	title       string // the ledger entry's title
}

// shares are what event e of binding b pays, level by level; a level
// without a beneficiary or without points pays nothing.
func (r Rules) shares(b Binding, e Event) []share {
	a := r.amounts(e)
	all := []share{
		{1, b.InviterID, a.Inviter, rewardKey(e, b.InviteeID, 1), "邀请好友奖励"},
		{2, b.Parent2ID, a.SecondLevel, rewardKey(e, b.InviteeID, 2), "二级邀请奖励"},
	}
	var out []share
	for _, l := range all {
		if l.beneficiary != 0 && l.points > 0 {
			out = append(out, l)
		}
	}
	return out
}

// rewardKey is the ledger's idempotency key of the reward of event e of
// invitee at level.
func rewardKey(e Event, invitee int64, level int) string {
	if level == 2 {
		return fmt.Sprintf("ref:%s:%d:l2", e, invitee)
	}
	return fmt.Sprintf("ref:%s:%d", e, invitee)
}

// rewardRef is the ledger reference of the rewards of event e of invitee
// (ref: the phone's member id, the first paid order's id); a reversal
// names it.
func rewardRef(e Event, invitee int64, ref string) ledger.Ref {
	return ledger.Ref{Type: "referral", ID: ledger.RefIDFor(fmt.Sprintf("%s:%d:", e, invitee), ref)}
}

// status decides a reward of points to a beneficiary already paid
// paidToday by referrals this Shanghai day: a flagged pair pays nothing,
// and neither does a reward that would pass the daily cap.
func (r Rules) status(flagged bool, paidToday, points int64) string {
	switch {
	case flagged:
		return StatusFlagged
	case r.DailyCap > 0 && paidToday+points > r.DailyCap:
		return StatusCapped
	}
	return StatusPaid
}

// Overview is what GET /shopper/referral shows.
type Overview struct {
	Code          string
	Level1        int64
	Level2        int64
	RewardsEarned int64
	Rules         string
}

// Inviter is one row of the console's top inviters.
type Inviter struct {
	MemberID int64
	Invites  int64
	Points   int64
}

// Report is the console's referral report.
type Report struct {
	TopInviters []Inviter
	Flagged     []Binding
}

// MemberInfo is what referral needs to know of a member.
type MemberInfo struct {
	ID        int64
	UnionID   string
	Phone     string
	CreatedAt time.Time
}

// Members reads members (joins the tx in ctx).
type Members interface {
	Info(ctx context.Context, id int64) (MemberInfo, error)
}
