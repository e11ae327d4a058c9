package console

import (
	"context"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
)

// CampaignWrite is the one way the console changes a campaign, from the
// JSON API or the pages: it refuses an auditor, and runs the write with
// its audit row through reminder.Campaigns.Audited.
func (h *Handlers) CampaignWrite(ctx context.Context, caller *auth.Claims, verb string, write func(ctx context.Context) (*reminder.Campaign, error)) (*reminder.Campaign, error) {
	if !CanWrite(caller.Role) {
		return nil, domain.Errorf(domain.Forbidden, "this action needs one of the roles %s", strings.Join(Writers, ", "))
	}
	return h.Campaigns.Audited(ctx, caller.Subject, caller.Role, verb, write)
}

func (h *Handlers) auditedCampaign(c *gin.Context, verb string, write func(ctx context.Context) (*reminder.Campaign, error)) (*reminder.Campaign, error) {
	return h.CampaignWrite(c.Request.Context(), web.Claims(c), verb, write)
}
