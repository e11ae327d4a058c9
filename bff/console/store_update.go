package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/guide"
)

// UpdateStore handles PATCH /api/v1/console/stores/{id} (admin, marketer).
func (h *Handlers) UpdateStore(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req storeRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	s, err := h.Guides.UpdateStore(c.Request.Context(), guideActor(c), id, guide.StoreInput{Name: req.Name, RobotKey: req.RobotKey})
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"store": web.ToStoreJSON(s)})
}
