package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// CreateTask handles POST /api/v1/console/tasks (admin, marketer).
func (h *Handlers) CreateTask(c *gin.Context) {
	var req taskRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	in, err := req.input()
	if err != nil {
		web.Fail(c, err)
		return
	}
	t, err := h.Tasks.Create(c.Request.Context(), taskActor(c), in)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"task": toTaskJSON(t)})
}
