package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// Referral handles GET /api/v1/shopper/referral: the caller's invite code,
// how many they invited (by level), the points it earned them and the rules.
func (h *Handlers) Referral(c *gin.Context) {
	o, err := h.Referrals.Overview(c.Request.Context(), web.MemberID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"code": o.Code, "invited": gin.H{"level1": o.Level1, "level2": o.Level2},
		"rewards_earned": o.RewardsEarned, "rules": o.Rules})
}
