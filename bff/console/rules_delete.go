package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// DeleteRule handles DELETE /api/v1/console/rules/{id} (admin, marketer):
// the rule stops applying; its versions stay readable.
func (h *Handlers) DeleteRule(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	if err := h.RuleAdmin.Delete(c.Request.Context(), actor(c), id); err != nil {
		web.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
