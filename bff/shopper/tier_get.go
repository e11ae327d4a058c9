package shopper

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/tier"
)

type levelJSON struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Growth   int64    `json:"growth"`
	Price    int64    `json:"price"`
	Benefits []string `json:"benefits"`
}

func toLevelJSON(l tier.Level) levelJSON {
	b := l.Benefits
	if b == nil {
		b = []string{}
	}
	return levelJSON{Code: l.Code, Name: l.Name, Growth: l.Growth, Price: l.Price, Benefits: b}
}

func toTierJSON(st tier.Status) gin.H {
	var next any
	if st.Next != nil {
		next = toLevelJSON(*st.Next)
	}
	var reached, review *time.Time
	if !st.ReachedAt.IsZero() {
		r, v := st.ReachedAt.UTC(), st.ReviewAt.UTC()
		reached, review = &r, &v
	}
	return gin.H{"level": toLevelJSON(st.Level), "growth": st.Growth, "next": next, "next_threshold": st.NextThreshold,
		"progress_permille": st.Progress, "benefits": toLevelJSON(st.Level).Benefits, "reached_at": reached, "review_at": review}
}

// TierStatus handles GET /api/v1/shopper/tier.
func (h *Handlers) TierStatus(c *gin.Context) {
	st, err := h.Tiers.Get(c.Request.Context(), web.MemberID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toTierJSON(st))
}
