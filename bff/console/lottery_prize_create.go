package console

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// CreateLotteryPrize handles POST /api/v1/console/lottery/campaigns/{id}/prizes
// (admin, marketer).
func (h *Handlers) CreateLotteryPrize(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req prizeRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	h.createOnce(c, req, func(ctx context.Context) (gin.H, error) {
		p := req.toDomain()
		p.CampaignID = id
		if err := h.Lottery.AddPrize(ctx, lotteryActor(c), &p); err != nil {
			return nil, err
		}
		return gin.H{"prize": toPrizeJSON(p)}, nil
	})
}
