package console

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/reminder"
)

// auditedCampaign runs a campaign write and records who did it in the audit
// trail (action "campaign.<verb>", target "campaign:<id>"), both in one
// unit of work so the trail never disagrees with the campaign.
func (h *Handlers) auditedCampaign(c *gin.Context, verb string, write func(ctx context.Context) (*reminder.Campaign, error)) (*reminder.Campaign, error) {
	cl := web.Claims(c)
	var out *reminder.Campaign
	err := h.Campaigns.Tx.InTx(c.Request.Context(), func(ctx context.Context) error {
		camp, err := write(ctx)
		if err != nil {
			return err
		}
		out = camp
		detail, _ := json.Marshal(map[string]any{"name": camp.Name, "status": camp.Status, "version": camp.Version})
		return h.Audit.Insert(ctx, &audit.Entry{Actor: cl.Subject, ActorRole: cl.Role, Action: "campaign." + verb,
			Target: "campaign:" + strconv.FormatInt(camp.ID, 10), Detail: string(detail), CreatedAt: h.Campaigns.Clock.Now()})
	})
	return out, err
}
