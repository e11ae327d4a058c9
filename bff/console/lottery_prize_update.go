package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// UpdateLotteryPrize handles PUT /api/v1/console/lottery/campaigns/{id}/prizes/{prize_id}
// (admin, marketer). Stock may not go below what was already won (422).
func (h *Handlers) UpdateLotteryPrize(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	pid, err := web.PathID(c, "prize_id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req prizeRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	p := req.toDomain()
	p.ID, p.CampaignID = pid, id
	if err := h.Lottery.UpdatePrize(c.Request.Context(), lotteryActor(c), &p); err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"prize": toPrizeJSON(p)})
}
