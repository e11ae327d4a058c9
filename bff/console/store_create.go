package console

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/guide"
)

// CreateStore handles POST /api/v1/console/stores (admin, marketer).
func (h *Handlers) CreateStore(c *gin.Context) {
	var req storeRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	h.createOnce(c, req, func(ctx context.Context) (gin.H, error) {
		s, err := h.Guides.CreateStore(ctx, guideActor(c), guide.StoreInput{Name: req.Name, RobotKey: req.RobotKey})
		if err != nil {
			return nil, err
		}
		return gin.H{"store": web.ToStoreJSON(s)}, nil
	})
}
