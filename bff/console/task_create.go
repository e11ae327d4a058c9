package console

import (
	"context"

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
	h.createOnce(c, req, func(ctx context.Context) (gin.H, error) {
		t, err := h.Tasks.Create(ctx, taskActor(c), in)
		if err != nil {
			return nil, err
		}
		return gin.H{"task": toTaskJSON(t)}, nil
	})
}
