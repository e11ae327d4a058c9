package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// MyLotteryDraws handles GET /api/v1/shopper/lottery/campaigns/{id}/draws/mine.
func (h *Handlers) MyLotteryDraws(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	draws, next, err := h.Lottery.MyDraws(c.Request.Context(), web.MemberID(c), id, page.Limit, page.Cursor)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]drawJSON, 0, len(draws))
	for _, d := range draws {
		out = append(out, toDrawJSON(d))
	}
	c.JSON(http.StatusOK, gin.H{"draws": out, "next_cursor": web.NextCursor(next)})
}
