package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/risk"
)

// ClaimTask handles POST /api/v1/shopper/tasks/{id}/claim (no body;
// Idempotency-Key optional): pays the reward once per period. 409 when
// already claimed (unless the same Idempotency-Key replays the first
// answer), 422 when unfinished.
func (h *Handlers) ClaimTask(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	key, err := web.OptionalIdempotencyKey(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	res, err := h.Task.Claim(c.Request.Context(), web.MemberID(c), id, key)
	if err != nil {
		web.Fail(c, err)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		c.Header("Idempotent-Replayed", "true")
		status = http.StatusOK
	} else {
		h.observe(c, risk.TaskClaim)
	}
	c.JSON(status, gin.H{"task": toTaskViewJSON(res.View), "points": res.Points, "balance": res.Balance})
}
