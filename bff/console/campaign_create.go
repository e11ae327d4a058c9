package console

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/reminder"
)

// CreateReminderCampaign handles POST /api/v1/console/campaigns (admin,
// marketer): a draft reminder campaign.
func (h *Handlers) CreateReminderCampaign(c *gin.Context) {
	var req reminderCampaignRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	h.createOnce(c, req, func(context.Context) (gin.H, error) {
		camp, err := h.auditedCampaign(c, "create", func(ctx context.Context) (*reminder.Campaign, error) {
			return h.Campaigns.Create(ctx, web.Claims(c).Subject, req.input())
		})
		if err != nil {
			return nil, err
		}
		return gin.H{"campaign": toReminderCampaignJSON(camp)}, nil
	})
}
