package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// UpdateGuide handles PATCH /api/v1/console/guides/{id} (admin, marketer):
// the fields sent are changed; status disabled locks the guide out.
func (h *Handlers) UpdateGuide(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req guideRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	g, err := h.Guides.UpdateGuide(c.Request.Context(), guideActor(c), id, req.input())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"guide": web.ToGuideJSON(g)})
}
