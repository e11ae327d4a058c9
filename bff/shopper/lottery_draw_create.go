package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/risk"
)

// CreateLotteryDraw handles POST /api/v1/shopper/lottery/campaigns/{id}/draws
// with an Idempotency-Key and no body: one draw; a replay answers the same
// prize with Idempotent-Replayed: true.
func (h *Handlers) CreateLotteryDraw(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	key, err := web.IdempotencyKey(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if !h.drawAllowed(c, id) {
		return
	}
	d, err := h.Lottery.Draw(c.Request.Context(), web.MemberID(c), id, key)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if d.Replayed {
		c.Header("Idempotent-Replayed", "true")
	} else {
		h.observe(c, risk.Draw)
		if d.CostPoints > 0 {
			h.Risk.Spent(c.Request.Context(), web.MemberID(c)) // points_laundering
		}
	}
	c.JSON(http.StatusCreated, gin.H{"draw": toDrawJSON(d)})
}

// drawAllowed refuses a held member's draw in a campaign whose draws cost
// points (free draws are earning, and go on). The campaign is read only
// for a held member.
func (h *Handlers) drawAllowed(c *gin.Context, campaignID int64) bool {
	err := h.Risk.CheckSpend(c.Request.Context(), web.MemberID(c))
	if err == nil {
		return true
	}
	if domain.ErrorCode(err) == domain.AccountHeld {
		camp, cerr := h.Lottery.Campaign(c.Request.Context(), campaignID)
		if cerr != nil {
			err = cerr
		} else if camp.CostPoints == 0 {
			return true
		}
	}
	web.Fail(c, err)
	return false
}
