package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/adjustment"
)

type adjustmentRequest struct {
	Delta  *int64 `json:"delta"`
	Reason string `json:"reason"`
}

// CreateAdjustment handles POST /api/v1/console/members/{id}/adjustments
// (admin, marketer) with an Idempotency-Key.
func (h *Handlers) CreateAdjustment(c *gin.Context) {
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
	var req adjustmentRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	if req.Delta == nil {
		web.Fail(c, domain.FieldError("delta", "required"))
		return
	}
	delta, err := domain.ParsePointsChange("delta", *req.Delta)
	if err != nil {
		web.Fail(c, err)
		return
	}
	cl := web.Claims(c)
	e, err := h.Adjust.Adjust(c.Request.Context(), adjustment.Actor{Name: cl.Subject, Role: cl.Role},
		adjustment.Request{MemberID: id, Delta: delta, Reason: req.Reason, Key: "console:" + key})
	if err != nil {
		web.Fail(c, err)
		return
	}
	if e.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, gin.H{"entry": toEntryJSON(e)})
}
