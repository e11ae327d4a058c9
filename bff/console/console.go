// Package console holds the marketers' HTTP handlers (/api/v1/console):
// login with a role (admin, marketer, auditor), points adjustments, member
// ledgers and the audit trail. Roles are checked by the router.
package console

import (
	"slices"

	"golang.org/x/crypto/bcrypt"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/adjustment"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/checkout"
	"github.com/jifen/jifen/domain/formkey"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/lottery"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/domain/risk"
	"github.com/jifen/jifen/domain/ruleadmin"
	"github.com/jifen/jifen/domain/rules"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/domain/task"
	"github.com/jifen/jifen/domain/tier"
)

// User is a console account.
type User struct {
	Username     string
	Role         string
	PasswordHash []byte
}

// Writers are the roles that may change anything; an auditor only reads.
// The router and the console page both ask CanWrite.
var Writers = []string{"admin", "marketer"}

// CanWrite reports whether role is one of Writers.
func CanWrite(role string) bool { return slices.Contains(Writers, role) }

// Handlers serves the console routes.
type Handlers struct {
	Users   map[string]User
	Tokens  *auth.Tokens
	Members *member.Service
	// Directory answers member searches; Tiers and Signin feed the member
	// overview (issue #21).
	Directory *member.Directory
	Tiers     *tier.Service
	Signin    *signin.Service
	Ledger    *ledger.Service
	Adjust    *adjustment.Service
	Audit     *audit.Trail
	Guides    *guide.Service
	Lottery   *lottery.Service
	Referrals *referral.Service
	// Rules reads and simulates earning rules; RuleAdmin edits them with an
	// audit trail (issue #5).
	Rules     *rules.Service
	RuleAdmin *ruleadmin.Service
	Tasks     *task.Service
	// Campaigns are the marketers' reminder campaigns (issue #8).
	Campaigns *reminder.Campaigns
	// Mall is the points mall (issue #18).
	Mall *mall.Service
	// Analytics answers the daily facts and the liability (issue #24).
	Analytics *analytics.Service
	// Checkout edits the points-at-checkout policy (issue #18).
	Checkout *checkout.Service
	// Risk is risk control's policy and review (issue #24).
	Risk *risk.Service
	// Throttle locks out sign-ins after repeated failures (nil: in memory,
	// on the system clock).
	Throttle *Throttle
	// FormKeys keeps the creates sent with an Idempotency-Key (createOnce;
	// nil: every create creates).
	FormKeys *formkey.Service
	// dummy is compared when the username is unknown, so a wrong username
	// costs the same time as a wrong password.
	dummy []byte
}

// New builds the console handlers.
func New(users []User, h *Handlers) *Handlers {
	h.Users = map[string]User{}
	for _, u := range users {
		h.Users[u.Username] = u
	}
	cost := bcrypt.MinCost
	for _, u := range users {
		if c, err := bcrypt.Cost(u.PasswordHash); err == nil {
			cost = c
			break
		}
	}
	h.dummy, _ = bcrypt.GenerateFromPassword([]byte("no such user"), cost)
	if h.Throttle == nil {
		h.Throttle = &Throttle{Clock: domain.SystemClock{}}
	}
	return h
}
