package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

type phoneRequest struct {
	Code string `json:"code"`
}

// BindPhone handles POST /api/v1/shopper/phone: a getPhoneNumber code binds
// the caller's phone. One phone, one member.
func (h *Handlers) BindPhone(c *gin.Context) {
	var req phoneRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	m, err := h.Members.BindPhone(c.Request.Context(), web.MemberID(c), req.Code)
	if err != nil {
		web.Fail(c, err)
		return
	}
	// phone_sequence and referral_no_order (the bind paid the inviters).
	h.Risk.PhoneBound(c.Request.Context(), m.ID, m.Phone)
	c.JSON(http.StatusOK, gin.H{"member": toMemberJSON(m)})
}
