package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// DeleteTask handles DELETE /api/v1/console/tasks/{id} (admin, marketer):
// the task disappears for members; progress and paid rewards stay.
func (h *Handlers) DeleteTask(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	if err := h.Tasks.Delete(c.Request.Context(), taskActor(c), id); err != nil {
		web.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
