package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

type makeupRequest struct {
	Date string `json:"date"`
}

// SigninMakeup handles POST /api/v1/shopper/signin/makeup {"date"}: signs a
// missed day of this month before today, paid in points. Naturally
// idempotent: a retry finds the day signed (409).
func (h *Handlers) SigninMakeup(c *gin.Context) {
	var req makeupRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	if req.Date == "" {
		web.Fail(c, domain.FieldError("date", "required"))
		return
	}
	if !h.spendAllowed(c) { // a make-up is paid in points
		return
	}
	res, err := h.Signin.Makeup(c.Request.Context(), web.MemberID(c), req.Date)
	if err != nil {
		web.Fail(c, err)
		return
	}
	h.Risk.Spent(c.Request.Context(), web.MemberID(c)) // points_laundering: a make-up is paid in points
	c.JSON(http.StatusCreated, toSigninJSON(res))
}
