package guide

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// Me handles GET /api/v1/guide/me: the guide, their store, this month's
// budget and grants.
func (h *Handlers) Me(c *gin.Context) {
	me, err := h.Guides.Me(c.Request.Context(), guideID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	grants := make([]grantJSON, len(me.Grants))
	for i, g := range me.Grants {
		grants[i] = toGrantJSON(g)
	}
	c.JSON(http.StatusOK, gin.H{
		"guide":  web.ToGuideJSON(&me.Guide),
		"store":  web.ToStoreJSON(&me.Store),
		"budget": gin.H{"month": me.Month, "total": me.Budget, "used": me.Used, "left": me.Left},
		"grants": grants,
	})
}
