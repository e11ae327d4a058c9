package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// Me handles GET /api/v1/shopper/me.
func (h *Handlers) Me(c *gin.Context) {
	m, err := h.Members.Get(c.Request.Context(), web.MemberID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	bal, err := h.Ledger.Balance(c.Request.Context(), m.ID)
	if err != nil {
		web.Fail(c, err)
		return
	}
	st, err := h.Tiers.Get(c.Request.Context(), m.ID)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"member": toMemberJSON(m), "points": toPointsJSON(bal),
		"tier": gin.H{"code": st.Level.Code, "name": st.Level.Name}})
}
