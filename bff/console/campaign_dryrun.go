package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

type campaignSampleJSON struct {
	MemberID   int64             `json:"member_id"`
	Channel    string            `json:"channel"`
	To         string            `json:"to"` // masked
	TemplateID string            `json:"template_id"`
	Page       string            `json:"page"`
	Data       map[string]string `json:"data"`
	Text       string            `json:"text"`
	Reason     string            `json:"reason"` // why no channel reaches the member
}

// DryRunReminderCampaign handles POST /api/v1/console/campaigns/{id}/dry-run
// (any role: it writes nothing): the audience size now, the channel each
// member would get, and up to 10 rendered messages.
func (h *Handlers) DryRunReminderCampaign(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	camp, res, err := h.Campaigns.DryRun(c.Request.Context(), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	by := map[string]int{}
	for ch, n := range res.ByChannel {
		by[string(ch)] = n
	}
	samples := make([]campaignSampleJSON, 0, len(res.Samples))
	for _, d := range res.Samples {
		s := campaignSampleJSON{MemberID: d.MemberID, Channel: string(d.Channel), TemplateID: d.Message.TemplateID,
			Page: d.Message.Page, Data: d.Message.Data, Text: d.Message.Text, Reason: d.Reason}
		if d.Message.To != "" {
			s.To = Mask(d.Message.To)
		}
		if s.Data == nil {
			s.Data = map[string]string{}
		}
		samples = append(samples, s)
	}
	c.JSON(http.StatusOK, gin.H{"campaign": toReminderCampaignJSON(camp),
		"dry_run": gin.H{"audience": res.Audience, "by_channel": by, "samples": samples}})
}
