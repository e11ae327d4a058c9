package console

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// CreateLotteryCampaign handles POST /api/v1/console/lottery/campaigns
// (admin, marketer): a campaign with its prizes.
func (h *Handlers) CreateLotteryCampaign(c *gin.Context) {
	var req campaignRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	h.createOnce(c, req, func(ctx context.Context) (gin.H, error) {
		camp := req.toDomain()
		if err := h.Lottery.CreateCampaign(ctx, lotteryActor(c), camp); err != nil {
			return nil, err
		}
		return gin.H{"campaign": toCampaignJSON(camp)}, nil
	})
}
