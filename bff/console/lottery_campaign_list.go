package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// LotteryCampaigns handles GET /api/v1/console/lottery/campaigns, newest
// first, without prizes.
func (h *Handlers) LotteryCampaigns(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	list, next, err := h.Lottery.Campaigns(c.Request.Context(), page.Limit, page.Cursor)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]campaignJSON, 0, len(list))
	for i := range list {
		out = append(out, toCampaignJSON(&list[i]))
	}
	c.JSON(http.StatusOK, gin.H{"campaigns": out, "next_cursor": web.NextCursor(next)})
}
