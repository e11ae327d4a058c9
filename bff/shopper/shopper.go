// Package shopper holds the mini-program's HTTP handlers (/api/v1/shopper).
// Every handler acts on the caller's own member id from the access token;
// no route takes a member id from the request.
package shopper

import (
	"time"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/domain/birthday"
	"github.com/jifen/jifen/domain/leaderboard"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/lottery"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/domain/risk"
	"github.com/jifen/jifen/domain/session"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/domain/task"
	"github.com/jifen/jifen/domain/tier"
)

// Handlers serves the shopper routes.
type Handlers struct {
	Members  *member.Service
	Sessions *session.Service
	Tokens   *auth.Tokens
	Ledger   *ledger.Service
	Signin   *signin.Service
	Boards   *leaderboard.Service
	Lottery  *lottery.Service
	// Orders, Tier and Birthdays serve the order points, tier and profile
	// routes (issue #5).
	Orders    *orders.Service
	Tiers     *tier.Service
	Birthdays *birthday.Service
	// Referrals serves invite codes and bindings; it also bumps the
	// invites board after a new member's login committed.
	Referrals *referral.Service
	Task      *task.Service
	// Subscriptions records subscribe-message answers (reminder quotas).
	Subscriptions *reminder.Subscriptions
	// Mall is the points mall (issue #18).
	Mall *mall.Service
	// Risk counts sign-ins, draws, task claims and referral binds, and
	// refuses a held member's spends (issue #24).
	Risk *risk.Service
	// MeCache serves GET /me without the database (nil: every /me reads
	// it; issue #20).
	MeCache MeCache
}

// memberJSON is the member as the mini-program sees it: no openid, no
// session key, the phone masked.
type memberJSON struct {
	ID          int64     `json:"id"`
	PhoneMasked string    `json:"phone_masked"`
	Nickname    string    `json:"nickname"`
	AvatarURL   string    `json:"avatar_url"`
	Birthday    string    `json:"birthday"`
	CreatedAt   time.Time `json:"created_at"`
}

func toMemberJSON(m *member.Member) memberJSON {
	return memberJSON{ID: m.ID, PhoneMasked: m.PhoneMasked(), Nickname: m.Nickname, AvatarURL: m.AvatarURL,
		Birthday: m.Birthday, CreatedAt: m.CreatedAt.UTC()}
}
