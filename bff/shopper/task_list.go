package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// Tasks handles GET /api/v1/shopper/tasks: every live task with the
// caller's progress and state in its current period.
func (h *Handlers) Tasks(c *gin.Context) {
	vs, err := h.Task.Tasks(c.Request.Context(), web.MemberID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tasks": toTaskViews(vs)})
}
