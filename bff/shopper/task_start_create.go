package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// StartTask handles POST /api/v1/shopper/tasks/{id}/start (no body): a
// browse task's signed start token, to send to .../progress after
// min_seconds.
func (h *Handlers) StartTask(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	st, err := h.Task.Start(c.Request.Context(), web.MemberID(c), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"token": st.Token, "not_before": st.NotUntil.UTC(), "task": toTaskViewJSON(st.View)})
}
