// Package guide holds the shop guides' HTTP handlers (/api/v1/guide), used
// from the WeCom app: login with a WeCom OAuth code, own customers, grants
// within the monthly budget, expiry pushes. The router lets only guide
// tokens through; the domain keeps each guide to their own customers.
package guide

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/mall"
)

// Handlers serves the guide routes.
type Handlers struct {
	Guides *guide.Service
	Tokens *auth.Tokens
	// Mall verifies pickup codes; PickupAnyStore lets a code be collected
	// in any store (config mall.pickup_any_store).
	Mall           *mall.Service
	PickupAnyStore bool
}

// guideID is the caller's guide id.
func guideID(c *gin.Context) int64 { return web.Claims(c).SubjectID() }

type expiryJSON struct {
	Amount int64     `json:"amount"`
	Date   string    `json:"date"`
	At     time.Time `json:"expires_at"`
}

type customerJSON struct {
	MemberID    int64       `json:"member_id"`
	PhoneMasked string      `json:"phone_masked"`
	Nickname    string      `json:"nickname"`
	Tier        string      `json:"tier"`
	Available   int64       `json:"available"`
	NextExpiry  *expiryJSON `json:"next_expiry"`
	LastActive  time.Time   `json:"last_active"`
	BoundAt     time.Time   `json:"bound_at"`
	Source      string      `json:"source"`
}

func toCustomerJSON(c guide.Customer) customerJSON {
	out := customerJSON{MemberID: c.MemberID, PhoneMasked: c.PhoneMasked, Nickname: c.Nickname, Tier: c.Tier,
		Available: c.Available, LastActive: c.LastActive, BoundAt: c.BoundAt, Source: c.Source}
	if e := c.NextExpiry; e != nil {
		out.NextExpiry = &expiryJSON{Amount: e.Amount, Date: domainDay(e.At), At: e.At}
	}
	return out
}

type grantJSON struct {
	ID        int64     `json:"id"`
	MemberID  int64     `json:"member_id"`
	Points    int64     `json:"points"`
	Reason    string    `json:"reason"`
	EntryID   int64     `json:"entry_id"`
	CreatedAt time.Time `json:"created_at"`
}

func toGrantJSON(g guide.Grant) grantJSON {
	return grantJSON{ID: g.ID, MemberID: g.MemberID, Points: g.Points, Reason: g.Reason, EntryID: g.EntryID, CreatedAt: g.CreatedAt}
}
