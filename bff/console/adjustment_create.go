package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/adjustment"
	"github.com/jifen/jifen/domain/ledger"
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
	e, err := h.AdjustPoints(c.Request.Context(), web.Claims(c), id, *req.Delta, req.Reason, key)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if e.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, gin.H{"entry": toEntryJSON(e)})
}

// AdjustPoints is the one way the console adjusts a member's points, from
// the JSON API or the page's form: the caller's name and role go into the
// journal and the audit row; key makes a repeat pay once.
func (h *Handlers) AdjustPoints(ctx context.Context, caller *auth.Claims, memberID, delta int64, reason, key string) (ledger.Entry, error) {
	if !CanWrite(caller.Role) {
		return ledger.Entry{}, domain.Errorf(domain.Forbidden, "this action needs one of the roles %s", strings.Join(Writers, ", "))
	}
	points, err := domain.ParsePointsChange("delta", delta)
	if err != nil {
		return ledger.Entry{}, err
	}
	return h.Adjust.Adjust(ctx, adjustment.Actor{Name: caller.Subject, Role: caller.Role},
		adjustment.Request{MemberID: memberID, Delta: points, Reason: reason, Scope: "console:", Key: key})
}
