package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// CreateLotteryDraw handles POST /api/v1/shopper/lottery/campaigns/{id}/draws
// with an Idempotency-Key and no body: one draw; a replay answers the same
// prize with Idempotent-Replayed: true.
func (h *Handlers) CreateLotteryDraw(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	key, err := web.IdempotencyKey(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	d, err := h.Lottery.Draw(c.Request.Context(), web.MemberID(c), id, key)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if d.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, gin.H{"draw": toDrawJSON(d)})
}
