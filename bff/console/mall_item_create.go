package console

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// CreateMallItem handles POST /api/v1/console/mall/items (admin, marketer).
func (h *Handlers) CreateMallItem(c *gin.Context) {
	var req mallItemRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	h.createOnce(c, req, func(ctx context.Context) (gin.H, error) {
		it := req.toDomain()
		if err := h.Mall.CreateItem(ctx, mallActor(c), it); err != nil {
			return nil, err
		}
		return gin.H{"item": toMallItemJSON(it)}, nil
	})
}
