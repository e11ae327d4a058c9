package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// LotteryCampaign handles GET /api/v1/console/lottery/campaigns/{id}: the
// campaign with weights, stock and units won.
func (h *Handlers) LotteryCampaign(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	camp, err := h.Lottery.Campaign(c.Request.Context(), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"campaign": toCampaignJSON(camp)})
}
