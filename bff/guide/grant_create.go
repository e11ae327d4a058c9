package guide

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/guide"
)

type grantRequest struct {
	MemberID *int64 `json:"member_id"`
	Points   *int64 `json:"points"`
	Reason   string `json:"reason"`
}

// CreateGrant handles POST /api/v1/guide/grants with an Idempotency-Key.
func (h *Handlers) CreateGrant(c *gin.Context) {
	key, err := web.IdempotencyKey(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req grantRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	if req.MemberID == nil {
		web.Fail(c, domain.FieldError("member_id", "required"))
		return
	}
	if req.Points == nil {
		web.Fail(c, domain.FieldError("points", "required"))
		return
	}
	g, err := h.Guides.Grant(c.Request.Context(), guideID(c), guide.GrantRequest{
		MemberID: *req.MemberID, Points: *req.Points, Reason: req.Reason, Key: key})
	if err != nil {
		web.Fail(c, err)
		return
	}
	if g.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, gin.H{"grant": toGrantJSON(g)})
}
