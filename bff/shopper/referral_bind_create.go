package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/risk"
)

type bindRequest struct {
	Code string `json:"code"`
}

// BindReferral handles POST /api/v1/shopper/referral/bind {"code"}: binds
// the caller to the inviter owning code, once.
func (h *Handlers) BindReferral(c *gin.Context) {
	var req bindRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	b, err := h.Referrals.Bind(c.Request.Context(), web.MemberID(c), req.Code)
	if err != nil {
		web.Fail(c, err)
		return
	}
	h.observe(c, risk.ReferralBind)
	c.JSON(http.StatusCreated, gin.H{"inviter_id": b.InviterID, "bound_at": b.CreatedAt.UTC()})
}
