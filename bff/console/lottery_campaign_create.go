package console

import (
	"net/http"

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
	camp := req.toDomain()
	if err := h.Lottery.CreateCampaign(c.Request.Context(), lotteryActor(c), camp); err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"campaign": toCampaignJSON(camp)})
}
