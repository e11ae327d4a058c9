package console

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// CreateRule handles POST /api/v1/console/rules (admin, marketer).
func (h *Handlers) CreateRule(c *gin.Context) {
	var req ruleRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	req.Version = 0
	h.createOnce(c, req, func(ctx context.Context) (gin.H, error) {
		r, err := h.RuleAdmin.Create(ctx, actor(c), req.rule())
		return gin.H{"rule": r}, err
	})
}
