package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// UpdateRule handles PUT /api/v1/console/rules/{id} (admin, marketer): a
// new version; "version" must be the one edited, else 409.
func (h *Handlers) UpdateRule(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req ruleRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	in := req.rule()
	in.ID = id
	r, err := h.RuleAdmin.Update(c.Request.Context(), actor(c), in)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"rule": r})
}
