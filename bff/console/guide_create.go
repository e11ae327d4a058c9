package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// CreateGuide handles POST /api/v1/console/guides (admin, marketer).
func (h *Handlers) CreateGuide(c *gin.Context) {
	var req guideRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	g, err := h.Guides.CreateGuide(c.Request.Context(), req.input())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"guide": web.ToGuideJSON(g)})
}
