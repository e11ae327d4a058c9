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
// missed day of this month before today, paid with a make-up card when the
// member holds one, else in points (signin.Service.Makeup). Naturally
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
	// A make-up may be paid in points: a member held for review is refused
	// before it, even one holding a card (which card pays is decided in
	// the unit of work).
	if !h.spendAllowed(c) {
		return
	}
	res, err := h.Signin.Makeup(c.Request.Context(), web.MemberID(c), req.Date)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if res.PointsSpent > 0 {
		h.Risk.Spent(c.Request.Context(), web.MemberID(c)) // points_laundering: only a make-up paid in points spends
	}
	paidWith := "points"
	if res.CardUsed {
		paidWith = "card"
	}
	c.JSON(http.StatusCreated, makeupJSON{signinJSON: toSigninJSON(res), PaidWith: paidWith, PointsSpent: res.PointsSpent,
		MakeupCards: res.CardsLeft})
}

// makeupJSON is a make-up's answer: the sign-in's, and how it was paid.
type makeupJSON struct {
	signinJSON
	PaidWith    string `json:"paid_with"`    // card | points
	PointsSpent int64  `json:"points_spent"` // 0 when a card paid
	MakeupCards int    `json:"makeup_cards"` // cards left
}
