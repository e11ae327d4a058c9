package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// TaskProgress handles POST /api/v1/shopper/tasks/{id}/progress
// {"token"}: spends a browse token for one step.
func (h *Handlers) TaskProgress(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req struct {
		Token string `json:"token"`
	}
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	v, err := h.Task.Browsed(c.Request.Context(), web.MemberID(c), id, req.Token)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"task": toTaskViewJSON(v)})
}
