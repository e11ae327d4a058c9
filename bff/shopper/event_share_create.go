package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

// ShareEvent handles POST /api/v1/shopper/events/share {"page"?}: one
// share step for the caller's share tasks; answers those tasks.
func (h *Handlers) ShareEvent(c *gin.Context) {
	var req struct {
		Page string `json:"page"`
	}
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	if len(req.Page) > 256 {
		web.Fail(c, domain.FieldError("page", "at most 256 characters"))
		return
	}
	vs, err := h.Task.Shared(c.Request.Context(), web.MemberID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tasks": toTaskViews(vs)})
}
