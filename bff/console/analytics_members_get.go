package console

import (
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
)

// AnalyticsMembers handles GET /api/v1/console/analytics/members?from=&to=
// [&format=csv]: per Shanghai day, the members who joined and the members
// active by tier; and the 30- and 90-day repurchase rates ending on to, of
// the members who redeemed points against those who did not.
func (h *Handlers) AnalyticsMembers(c *gin.Context) {
	from, to, asCSV, err := h.analyticsQuery(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	days, err := h.Analytics.Members(c.Request.Context(), from, to)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if asCSV {
		membersCSV(c, from, to, days)
		return
	}
	reps, err := h.Analytics.Repurchases(c.Request.Context(), to)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]gin.H, 0, len(days))
	for _, d := range days {
		out = append(out, gin.H{"day": d.Day.String(), "new_members": d.New, "active_members": d.Active, "active_by_tier": d.ActiveByTier})
	}
	cohort := func(co analytics.Cohort) gin.H {
		return gin.H{"buyers": co.Buyers, "repeat_buyers": co.Repeat, "rate_bp": co.RateBP}
	}
	rr := make([]gin.H, 0, len(reps))
	for _, r := range reps {
		rr = append(rr, gin.H{"window_days": r.Window, "from": r.From.String(), "to": r.To.String(),
			"redeemed": cohort(r.Redeemed), "not_redeemed": cohort(r.NotRedeemed)})
	}
	c.JSON(http.StatusOK, gin.H{"from": from.String(), "to": to.String(), "days": out, "repurchase": rr})
}

// membersCSV streams one row per day and tier.
func membersCSV(c *gin.Context, from, to domain.Day, days []analytics.MemberDay) {
	w := analyticsCSV(c, "members", from, to)
	_ = w.Write([]string{"day", "new_members", "tier", "active_members"})
	for _, d := range days {
		joined := strconv.FormatInt(d.New, 10)
		if len(d.ActiveByTier) == 0 {
			_ = w.Write([]string{d.Day.String(), joined, "", "0"})
		}
		for _, tier := range slices.Sorted(maps.Keys(d.ActiveByTier)) {
			_ = w.Write([]string{d.Day.String(), joined, tier, strconv.FormatInt(d.ActiveByTier[tier], 10)})
		}
	}
	w.Flush()
}
