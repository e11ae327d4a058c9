package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/risk"
	"github.com/jifen/jifen/domain/signin"
)

type signinJSON struct {
	Date    string        `json:"date"`
	Streak  int           `json:"streak"`
	Awarded []signin.Line `json:"awarded"`
	Balance int64         `json:"balance"`
}

func toSigninJSON(r signin.Result) signinJSON {
	aw := r.Awarded
	if aw == nil {
		aw = []signin.Line{}
	}
	return signinJSON{Date: r.Day.String(), Streak: r.Streak, Awarded: aw, Balance: r.Balance}
}

// SignIn handles POST /api/v1/shopper/signin: today's sign-in, once per
// Asia/Shanghai day (409 ALREADY_SIGNED_IN after). No body.
func (h *Handlers) SignIn(c *gin.Context) {
	res, err := h.Signin.SignIn(c.Request.Context(), web.MemberID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	h.observe(c, risk.SignIn)
	c.JSON(http.StatusCreated, toSigninJSON(res))
}
