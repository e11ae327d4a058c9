package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// UpgradeTier handles POST /api/v1/shopper/tier/upgrade (Idempotency-Key):
// buys the next level with points. No body.
func (h *Handlers) UpgradeTier(c *gin.Context) {
	key, err := web.IdempotencyKey(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if !h.spendAllowed(c) {
		return
	}
	p, err := h.Tiers.Upgrade(c.Request.Context(), web.MemberID(c), key)
	if err != nil {
		web.Fail(c, err)
		return
	}
	st, err := h.Tiers.Get(c.Request.Context(), web.MemberID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	if p.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, gin.H{"purchase": gin.H{"from": p.From, "to": p.To, "points": p.Points}, "tier": toTierJSON(st)})
}
