package guide

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// Customer handles GET /api/v1/guide/customers/{member_id}; another
// guide's customer is a 404.
func (h *Handlers) Customer(c *gin.Context) {
	id, err := web.PathID(c, "member_id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	cu, err := h.Guides.Customer(c.Request.Context(), guideID(c), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"customer": toCustomerJSON(cu)})
}
