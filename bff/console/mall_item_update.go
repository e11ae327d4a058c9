package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// UpdateMallItem handles PUT /api/v1/console/mall/items/{id} (admin,
// marketer): every field is replaced; the kind cannot change and the stock
// cannot go below what is sold.
func (h *Handlers) UpdateMallItem(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req mallItemRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	it := req.toDomain()
	it.ID = id
	saved, err := h.Mall.UpdateItem(c.Request.Context(), mallActor(c), it)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"item": toMallItemJSON(saved)})
}
