package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/rules"
)

// ListRules handles GET /api/v1/console/rules?trigger=&status= (any role).
func (h *Handlers) ListRules(c *gin.Context) {
	rs, err := h.Rules.List(c.Request.Context(), rules.Filter{Trigger: rules.Trigger(c.Query("trigger")), Status: rules.Status(c.Query("status"))})
	if err != nil {
		web.Fail(c, err)
		return
	}
	if rs == nil {
		rs = []rules.Rule{}
	}
	c.JSON(http.StatusOK, gin.H{"rules": rs})
}
