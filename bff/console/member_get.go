package console

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/domain/tier"
)

// MemberView is everything the console shows about one member besides the
// paged journal and audit trail. The JSON answer and the console page are
// both built from it, so they cannot disagree.
type MemberView struct {
	Member   *member.Member
	Balance  ledger.Balance
	Lots     []ledger.Lot
	Tier     tier.Status
	Calendar signin.CalendarView
	Referral referral.Overview
	Binding  guide.Binding
	Guide    *guide.Guide // nil when no guide is bound
}

// Member assembles the view of member id from the domain services.
func (h *Handlers) Member(ctx context.Context, id int64) (MemberView, error) {
	var v MemberView
	var err error
	if v.Member, err = h.Members.Get(ctx, id); err != nil {
		return v, err
	}
	if v.Balance, err = h.Ledger.Balance(ctx, id); err != nil {
		return v, err
	}
	if v.Lots, err = h.Ledger.Lots(ctx, id, 100); err != nil {
		return v, err
	}
	if v.Tier, err = h.Tiers.Get(ctx, id); err != nil {
		return v, err
	}
	if v.Calendar, err = h.Signin.Calendar(ctx, id, ""); err != nil {
		return v, err
	}
	if v.Referral, err = h.Referrals.Summary(ctx, id); err != nil {
		return v, err
	}
	var found bool
	if v.Binding, v.Guide, found, err = h.Guides.BindingOf(ctx, id); err != nil {
		return v, err
	}
	if !found {
		v.Guide = nil
	}
	return v, nil
}

type lotJSON struct {
	ID        int64     `json:"id"`
	Amount    int64     `json:"amount"`
	Remaining int64     `json:"remaining"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
}

// GetMember handles GET /api/v1/console/members/{id}: profile, balance,
// lots, tier, this month's sign-ins, referrals and bound guide.
func (h *Handlers) GetMember(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	v, err := h.Member(c.Request.Context(), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	lots := make([]lotJSON, 0, len(v.Lots))
	for _, l := range v.Lots {
		lots = append(lots, lotJSON{ID: l.ID, Amount: l.Amount, Remaining: l.Remaining, ExpiresAt: l.ExpiresAt.UTC(), CreatedAt: l.CreatedAt.UTC()})
	}
	b := v.Balance
	out := gin.H{
		"member":   toMemberJSON(v.Member),
		"account":  gin.H{"available": b.Available, "pending": b.Pending, "held": b.Held, "debt": b.Debt, "lifetime_earned": b.LifetimeEarned},
		"lots":     lots,
		"tier":     gin.H{"code": v.Tier.Level.Code, "name": v.Tier.Level.Name, "growth": v.Tier.Growth, "progress_permille": v.Tier.Progress},
		"signin":   gin.H{"month": v.Calendar.Month, "signed_days": nonNil(v.Calendar.SignedDays), "streak": v.Calendar.Streak},
		"referral": gin.H{"code": v.Referral.Code, "level1": v.Referral.Level1, "level2": v.Referral.Level2, "rewards_earned": v.Referral.RewardsEarned},
		"guide":    nil,
	}
	if v.Guide != nil {
		out["guide"] = gin.H{"id": v.Guide.ID, "name": v.Guide.Name, "store_id": v.Guide.StoreID, "source": v.Binding.Source, "bound_at": v.Binding.BoundAt.UTC()}
	}
	c.JSON(http.StatusOK, out)
}

func nonNil(days []int) []int {
	if days == nil {
		return []int{}
	}
	return days
}
