package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/signin"
)

type calendarJSON struct {
	Month       string        `json:"month"`
	SignedDays  []int         `json:"signed_days"`
	Today       string        `json:"today"`
	SignedToday bool          `json:"signed_today"`
	Streak      int           `json:"streak"`
	MakeupsLeft int           `json:"makeups_left"`
	MakeupCost  int64         `json:"makeup_cost"`
	MakeupCards int           `json:"makeup_cards"`
	BasePoints  int64         `json:"base_points"`
	CycleDays   int           `json:"cycle_days"`
	Ladder      []signin.Step `json:"ladder"`
}

// SigninCalendar handles GET /api/v1/shopper/signin/calendar?month=YYYY-MM.
func (h *Handlers) SigninCalendar(c *gin.Context) {
	v, err := h.Signin.Calendar(c.Request.Context(), web.MemberID(c), c.Query("month"))
	if err != nil {
		web.Fail(c, err)
		return
	}
	ladder := v.Rewards.Ladder
	if ladder == nil {
		ladder = []signin.Step{}
	}
	c.JSON(http.StatusOK, calendarJSON{Month: v.Month, SignedDays: v.SignedDays, Today: v.Today.String(), SignedToday: v.SignedToday,
		Streak: v.Streak, MakeupsLeft: v.MakeupsLeft, MakeupCost: v.MakeupCost, MakeupCards: v.MakeupCards, BasePoints: v.Rewards.Base,
		CycleDays: v.Rewards.Cycle, Ladder: ladder})
}
