package console

import (
	"net/http"

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
	r, err := h.RuleAdmin.Create(c.Request.Context(), actor(c), req.rule())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"rule": r})
}
