// Package lottery runs points lotteries: campaigns with a window, a cost in
// points (or free draws per day), per-member limits, weighted prizes with
// stock, a pity rule and a consolation prize.
//
// # Invariant: stock never oversells
//
// A draw is decided in two places. The Gate (Redis, one Lua script) is the
// fast path: it checks the member's limits and reserves one unit of the
// picked prize atomically, so most losers of a sold-out prize never reach
// SQL. The unit of work in SQL is the guarantee: it locks the member's
// campaign row (limits, free draws, miss streak), takes the prize with a
// conditional UPDATE (won < stock), charges the cost and credits a points
// prize through the ledger, and inserts the draw row — one transaction.
// When the Gate has lost its counters (FLUSHALL, restart) it says so and
// they are rebuilt from SQL before the draw; a rebuild that overstates
// what is left is harmless because SQL still refuses the extra unit. When
// the transaction fails, the Gate's reservation is given back.
//
// Randomness comes from Service.Rand (crypto/rand unless set); Pick is the
// pure weighted choice.
package lottery

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
)

// Kind is what a prize gives.
type Kind string

// The prize kinds.
const (
	KindPoints  Kind = "points"
	KindCoupon  Kind = "coupon"
	KindGift    Kind = "gift"
	KindNothing Kind = "nothing"
)

// Unlimited is the stock of a prize without a stock limit.
const Unlimited int64 = -1

// Campaign is a lottery.
type Campaign struct {
	ID         int64
	Name       string
	StartsAt   time.Time
	EndsAt     time.Time
	CostPoints int64 // per paid draw; 0 = every draw is free
	FreePerDay int   // free draws per member per Shanghai day
	LimitTotal int   // draws per member in the campaign; 0 = no limit
	LimitDaily int   // draws per member per day; 0 = no limit
	PityAfter  int   // after this many misses in a row the next draw wins; 0 = off
	// Consolation is given when the picked prize is out of stock (or over
	// its per-member limit). Name "" means the draw is a plain miss.
	ConsolationName   string
	ConsolationPoints int64 // > 0 makes the consolation a points prize
	Prizes            []Prize
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Prize is one prize of a campaign.
type Prize struct {
	ID             int64
	CampaignID     int64
	Name           string
	Kind           Kind
	Points         int64  // KindPoints: points credited
	CouponCode     string // KindCoupon: the code handed out
	Weight         int64  // > 0
	Stock          int64  // Unlimited or ≥ 0
	Won            int64  // units given (stocked prizes)
	PerMemberLimit int    // 0 = no limit
}

// Empty reports whether the prize is a miss.
func (p *Prize) Empty() bool { return p.Kind == KindNothing }

// Open reports whether t is inside the campaign's window.
func (c *Campaign) Open(t time.Time) bool { return !t.Before(c.StartsAt) && t.Before(c.EndsAt) }

// Draw is one draw, as stored.
type Draw struct {
	ID         int64
	CampaignID int64
	MemberID   int64
	Key        string
	Ref        string
	Day        int
	PrizeID    int64 // 0: consolation or nothing
	PrizeKind  Kind
	PrizeName  string
	Points     int64
	CouponCode string
	CostPoints int64
	Free       bool
	Pity       bool // won by the pity rule
	CreatedAt  time.Time
	Replayed   bool // not stored
}

// MemberState is one member's counters in one campaign (the SQL truth).
type MemberState struct {
	Draws      int
	Day        int // yyyymmdd the day counters belong to
	DayDraws   int
	FreeUsed   int
	MissStreak int
}

// today returns the state with the day counters reset when day moved on.
func (s MemberState) today(day int) MemberState {
	if s.Day != day {
		s.Day, s.DayDraws, s.FreeUsed = day, 0, 0
	}
	return s
}

// Chances is what a member may still do in a campaign.
type Chances struct {
	FreeLeft  int // free draws left today
	DrawsLeft int // −1: no limit
	Cost      int64
}

const maxWeight = 1_000_000_000

// earliest is the earliest time a campaign may start or end: year 1 or the
// Unix epoch is a default value sent by mistake (as order events refuse
// it). A request without the date is refused when it is bound.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, domain.Shanghai)

// Validate checks a campaign and its prizes as the console sends them.
func (c *Campaign) Validate() error {
	if err := text("name", c.Name, 64, true); err != nil {
		return err
	}
	switch {
	case c.StartsAt.Before(earliest):
		return domain.FieldError("starts_at", "out of range: from 2000-01-01 on")
	case c.EndsAt.Before(earliest):
		return domain.FieldError("ends_at", "out of range: from 2000-01-01 on")
	case !c.EndsAt.After(c.StartsAt):
		return domain.FieldError("ends_at", "must be after starts_at")
	case c.CostPoints < 0 || c.CostPoints > 1_000_000_000:
		return domain.FieldError("cost_points", "must be from 0 to 1000000000")
	case c.FreePerDay < 0 || c.FreePerDay > 1000:
		return domain.FieldError("free_per_day", "must be from 0 to 1000")
	case c.LimitTotal < 0:
		return domain.FieldError("limit_total", "must not be negative")
	case c.LimitDaily < 0:
		return domain.FieldError("limit_daily", "must not be negative")
	case c.PityAfter < 0 || c.PityAfter > 1000:
		return domain.FieldError("pity_after", "must be from 0 to 1000")
	case c.ConsolationPoints < 0 || c.ConsolationPoints > 1_000_000_000:
		return domain.FieldError("consolation_points", "must be from 0 to 1000000000")
	case c.ConsolationPoints > 0 && c.ConsolationName == "":
		return domain.FieldError("consolation_name", "required with consolation_points")
	}
	if err := text("consolation_name", c.ConsolationName, 64, false); err != nil {
		return err
	}
	if len(c.Prizes) == 0 {
		return domain.FieldError("prizes", "at least one prize; the weights must sum to more than zero")
	}
	if len(c.Prizes) > 50 {
		return domain.FieldError("prizes", "at most 50")
	}
	for i := range c.Prizes {
		if err := c.Prizes[i].Validate(fmt.Sprintf("prizes[%d].", i)); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks one prize; prefix names its place in the request.
func (p *Prize) Validate(prefix string) error {
	if err := text(prefix+"name", p.Name, 64, true); err != nil {
		return err
	}
	switch p.Kind {
	case KindPoints:
		if p.Points <= 0 || p.Points > 1_000_000_000 {
			return domain.FieldError(prefix+"points", "a points prize needs points from 1 to 1000000000")
		}
	case KindCoupon:
		if err := text(prefix+"coupon_code", p.CouponCode, 64, true); err != nil {
			return err
		}
	case KindGift, KindNothing:
	default:
		return domain.FieldError(prefix+"kind", "must be points, coupon, gift or nothing")
	}
	if p.Kind != KindPoints && p.Points != 0 {
		return domain.FieldError(prefix+"points", "only a points prize has points")
	}
	switch {
	case p.Weight <= 0:
		return domain.FieldError(prefix+"weight", "must be positive")
	case p.Weight > maxWeight:
		return domain.FieldError(prefix+"weight", fmt.Sprintf("must be at most %d", maxWeight))
	case p.Stock < Unlimited:
		return domain.FieldError(prefix+"stock", "must not be negative (omit it for unlimited)")
	case p.PerMemberLimit < 0:
		return domain.FieldError(prefix+"per_member_limit", "must not be negative")
	}
	return nil
}

func text(field, v string, max int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return domain.FieldError(field, "required")
	}
	if utf8.RuneCountInString(v) > max {
		return domain.FieldError(field, fmt.Sprintf("at most %d characters", max))
	}
	return nil
}
