package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// ReminderCampaign handles GET /api/v1/console/campaigns/{id} (any role).
func (h *Handlers) ReminderCampaign(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	camp, err := h.Campaigns.Get(c.Request.Context(), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"campaign": toReminderCampaignJSON(camp)})
}
