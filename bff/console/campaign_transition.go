package console

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/reminder"
)

// ScheduleReminderCampaign handles POST /api/v1/console/campaigns/{id}/schedule
// (admin, marketer): draft or paused → scheduled. 422 for an empty
// audience, a once_at in the past or no schedule; 409 from other statuses.
func (h *Handlers) ScheduleReminderCampaign(c *gin.Context) {
	h.transition(c, h.Campaigns.Schedule)
}

// PauseReminderCampaign handles POST /api/v1/console/campaigns/{id}/pause
// (admin, marketer): scheduled or running → paused.
func (h *Handlers) PauseReminderCampaign(c *gin.Context) {
	h.transition(c, h.Campaigns.Pause)
}

// CancelReminderCampaign handles POST /api/v1/console/campaigns/{id}/cancel
// (admin, marketer): → cancelled for good; its unsent messages are skipped.
func (h *Handlers) CancelReminderCampaign(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	camp, skipped, err := h.Campaigns.Cancel(c.Request.Context(), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"campaign": toReminderCampaignJSON(camp), "skipped": skipped})
}

func (h *Handlers) transition(c *gin.Context, fn func(context.Context, int64) (*reminder.Campaign, error)) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	camp, err := fn(c.Request.Context(), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"campaign": toReminderCampaignJSON(camp)})
}
