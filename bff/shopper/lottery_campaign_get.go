package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// LotteryCampaign handles GET /api/v1/shopper/lottery/campaigns/{id}: the
// prizes to show (no weights or stock) and the caller's chances left today.
func (h *Handlers) LotteryCampaign(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	camp, ch, err := h.Lottery.Chances(c.Request.Context(), web.MemberID(c), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	prizes := make([]lotteryPrizeJSON, 0, len(camp.Prizes))
	for _, p := range camp.Prizes {
		prizes = append(prizes, lotteryPrizeJSON{ID: p.ID, Name: p.Name, Kind: string(p.Kind), Points: p.Points})
	}
	var drawsLeft *int
	if ch.DrawsLeft >= 0 {
		drawsLeft = &ch.DrawsLeft
	}
	c.JSON(http.StatusOK, gin.H{"campaign": gin.H{
		"id": camp.ID, "name": camp.Name, "starts_at": camp.StartsAt.UTC(), "ends_at": camp.EndsAt.UTC(),
		"cost_points": camp.CostPoints, "prizes": prizes,
		"chances": gin.H{"free_left": ch.FreeLeft, "draws_left": drawsLeft},
	}})
}
