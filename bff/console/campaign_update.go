package console

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/reminder"
)

// UpdateReminderCampaign handles PUT /api/v1/console/campaigns/{id}
// (admin, marketer): the whole campaign with the "version" edited (409 if
// stale). A running campaign may only be renamed, a paused one keeps its
// audience, done and cancelled ones never change (409).
func (h *Handlers) UpdateReminderCampaign(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req reminderCampaignUpdate
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	in := req.input()
	in.Version = req.Version
	camp, err := h.auditedCampaign(c, "update", func(ctx context.Context) (*reminder.Campaign, error) {
		return h.Campaigns.Update(ctx, id, in)
	})
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"campaign": toReminderCampaignJSON(camp)})
}
