package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// ReminderCampaigns handles GET /api/v1/console/campaigns (any role),
// newest first, ?limit=&cursor= like every console list.
func (h *Handlers) ReminderCampaigns(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	list, next, err := h.Campaigns.List(c.Request.Context(), page.Limit, page.Cursor)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]reminderCampaignJSON, 0, len(list))
	for i := range list {
		out = append(out, toReminderCampaignJSON(&list[i]))
	}
	c.JSON(http.StatusOK, gin.H{"campaigns": out, "next_cursor": web.NextCursor(next)})
}
