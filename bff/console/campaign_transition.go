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
	h.transition(c, "schedule", h.Campaigns.Schedule)
}

// PauseReminderCampaign handles POST /api/v1/console/campaigns/{id}/pause
// (admin, marketer): scheduled or running → paused.
func (h *Handlers) PauseReminderCampaign(c *gin.Context) {
	h.transition(c, "pause", h.Campaigns.Pause)
}

// CancelReminderCampaign handles POST /api/v1/console/campaigns/{id}/cancel
// (admin, marketer): → cancelled for good; its unsent messages are skipped.
func (h *Handlers) CancelReminderCampaign(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var skipped int
	camp, err := h.auditedCampaign(c, "cancel", func(ctx context.Context) (*reminder.Campaign, error) {
		camp, n, err := h.Campaigns.Cancel(ctx, id)
		skipped = n
		return camp, err
	})
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"campaign": toReminderCampaignJSON(camp), "skipped": skipped})
}

func (h *Handlers) transition(c *gin.Context, verb string, fn func(context.Context, int64) (*reminder.Campaign, error)) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	camp, err := h.auditedCampaign(c, verb, func(ctx context.Context) (*reminder.Campaign, error) { return fn(ctx, id) })
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"campaign": toReminderCampaignJSON(camp)})
}
