package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

// UpdateLotteryCampaign handles PUT /api/v1/console/lottery/campaigns/{id}
// (admin, marketer): replaces the campaign's own fields; prizes are edited
// at …/prizes.
func (h *Handlers) UpdateLotteryCampaign(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req campaignRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	if req.Prizes != nil {
		web.Fail(c, domain.FieldError("prizes", "edit prizes at /prizes/{prize_id}"))
		return
	}
	camp := req.toDomain()
	camp.ID = id
	out, err := h.Lottery.UpdateCampaign(c.Request.Context(), lotteryActor(c), camp)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"campaign": toCampaignJSON(out)})
}
