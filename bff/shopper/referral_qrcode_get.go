package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// ReferralQRCode handles GET /api/v1/shopper/referral/qrcode: the caller's
// mini-program code (image/jpeg) whose scene is their invite code.
func (h *Handlers) ReferralQRCode(c *gin.Context) {
	img, err := h.Referrals.QRCode(c.Request.Context(), web.MemberID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, max-age=3600")
	c.Data(http.StatusOK, "image/jpeg", img)
}
