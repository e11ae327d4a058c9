package console

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/reminder"
)

// CampaignWrite is the one way the console changes a campaign, from the
// JSON API or the pages: it refuses an auditor, runs the write and
// records who did it in the audit trail (action "campaign.<verb>", target
// "campaign:<id>"), both in one unit of work so the trail never disagrees
// with the campaign.
func (h *Handlers) CampaignWrite(ctx context.Context, caller *auth.Claims, verb string, write func(ctx context.Context) (*reminder.Campaign, error)) (*reminder.Campaign, error) {
	if !CanWrite(caller.Role) {
		return nil, domain.Errorf(domain.Forbidden, "this action needs one of the roles %s", strings.Join(Writers, ", "))
	}
	var out *reminder.Campaign
	err := h.Campaigns.Tx.InTx(ctx, func(ctx context.Context) error {
		camp, err := write(ctx)
		if err != nil {
			return err
		}
		out = camp
		detail, _ := json.Marshal(map[string]any{"name": camp.Name, "status": camp.Status, "version": camp.Version})
		return h.Audit.Insert(ctx, &audit.Entry{Actor: caller.Subject, ActorRole: caller.Role, Action: "campaign." + verb,
			Target: "campaign:" + strconv.FormatInt(camp.ID, 10), Detail: string(detail), CreatedAt: h.Campaigns.Clock.Now()})
	})
	return out, err
}

func (h *Handlers) auditedCampaign(c *gin.Context, verb string, write func(ctx context.Context) (*reminder.Campaign, error)) (*reminder.Campaign, error) {
	return h.CampaignWrite(c.Request.Context(), web.Claims(c), verb, write)
}
