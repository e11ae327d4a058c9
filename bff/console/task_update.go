package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// UpdateTask handles PUT /api/v1/console/tasks/{id} (admin, marketer):
// the whole task is replaced.
func (h *Handlers) UpdateTask(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
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
	t, err := h.Tasks.Update(c.Request.Context(), taskActor(c), id, in)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"task": toTaskJSON(t)})
}
