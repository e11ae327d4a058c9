package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// LotteryCampaignStats handles GET /api/v1/console/lottery/campaigns/{id}/stats
// (any role): the campaign's draws, the members who drew, the free draws,
// the points the paid ones cost, and the draws by prize (prize_id 0: the
// consolation or a miss) with how many of them pity forced.
func (h *Handlers) LotteryCampaignStats(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	_, st, err := h.Lottery.Stats(c.Request.Context(), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	by := make([]gin.H, 0, len(st.ByPrize))
	for _, p := range st.ByPrize {
		by = append(by, gin.H{"prize_id": p.PrizeID, "draws": p.Draws, "pity": p.Pity})
	}
	c.JSON(http.StatusOK, gin.H{"campaign_id": id, "draws": st.Draws, "members": st.Members, "free_draws": st.Free,
		"points_spent": st.PointsSpent, "by_prize": by})
}
