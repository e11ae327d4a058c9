package console

import (
	"net/http"

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
	it := req.toDomain()
	if err := h.Mall.CreateItem(c.Request.Context(), mallActor(c), it); err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"item": toMallItemJSON(it)})
}
