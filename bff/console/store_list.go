package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// ListStores handles GET /api/v1/console/stores.
func (h *Handlers) ListStores(c *gin.Context) {
	ss, err := h.Guides.Stores(c.Request.Context())
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]web.StoreJSON, len(ss))
	for i := range ss {
		out[i] = web.ToStoreJSON(&ss[i])
	}
	c.JSON(http.StatusOK, gin.H{"stores": out})
}
