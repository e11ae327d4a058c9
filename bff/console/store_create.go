package console

import (
	"net/http"

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
	s, err := h.Guides.CreateStore(c.Request.Context(), guideActor(c), guide.StoreInput{Name: req.Name, RobotKey: req.RobotKey})
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"store": web.ToStoreJSON(s)})
}
