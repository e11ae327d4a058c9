package shopper

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

type rankedJSON struct {
	Rank      int    `json:"rank"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url"`
	Score     int64  `json:"score"`
}

type meJSON struct {
	Rank  *int  `json:"rank"`
	Score int64 `json:"score"`
}

// Leaderboard handles GET /api/v1/shopper/leaderboards/{board}?limit=50.
func (h *Handlers) Leaderboard(c *gin.Context) {
	limit := 50
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			web.Fail(c, domain.FieldError("limit", "must be an integer from 1 to 100"))
			return
		}
		limit = n
	}
	v, err := h.Boards.Top(c.Request.Context(), c.Param("board"), web.MemberID(c), limit)
	if err != nil {
		web.Fail(c, err)
		return
	}
	top := make([]rankedJSON, 0, len(v.Top))
	for _, e := range v.Top {
		top = append(top, rankedJSON{Rank: e.Rank, Name: e.Name, AvatarURL: e.AvatarURL, Score: e.Score})
	}
	me := meJSON{Score: v.Me.Score}
	if v.Me.Rank > 0 {
		me.Rank = &v.Me.Rank
	}
	c.JSON(http.StatusOK, gin.H{"board": v.Board, "period": v.Period, "top": top, "me": me})
}
