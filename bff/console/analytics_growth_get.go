package console

import (
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// AnalyticsGrowth handles GET /api/v1/console/analytics/growth?from=&to=
// [&format=csv]: the referral funnel of the range (codes shared, binds,
// first orders, rewards paid, flagged) and, per Shanghai day, the
// lottery's draws, the points they took and the prizes they gave.
func (h *Handlers) AnalyticsGrowth(c *gin.Context) {
	from, to, asCSV, err := h.analyticsQuery(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	f, err := h.Analytics.Referrals(ctx, from, to)
	if err != nil {
		web.Fail(c, err)
		return
	}
	days, err := h.Analytics.Lottery(ctx, from, to)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if asCSV {
		w := analyticsCSV(c, "growth", from, to)
		_ = w.Write([]string{"day", "metric", "value"})
		for _, m := range []struct {
			name string
			n    int64
		}{{"referral_codes_shared", f.CodesShared}, {"referral_binds", f.Binds}, {"referral_first_orders", f.FirstOrders},
			{"referral_rewards_paid", f.RewardsPaid}, {"referral_reward_points", f.RewardPoints}, {"referral_flagged", f.Flagged}} {
			_ = w.Write([]string{"", m.name, strconv.FormatInt(m.n, 10)})
		}
		for _, d := range days {
			_ = w.Write([]string{d.Day.String(), "lottery_draws", strconv.FormatInt(d.Draws, 10)})
			_ = w.Write([]string{d.Day.String(), "lottery_cost_points", strconv.FormatInt(d.CostPoints, 10)})
			_ = w.Write([]string{d.Day.String(), "lottery_prize_points", strconv.FormatInt(d.PrizePoints, 10)})
			for _, k := range slices.Sorted(maps.Keys(d.Wins)) {
				_ = w.Write([]string{d.Day.String(), "lottery_wins_" + k, strconv.FormatInt(d.Wins[k], 10)})
			}
		}
		w.Flush()
		return
	}
	lot := make([]gin.H, 0, len(days))
	var cost, prize int64
	for _, d := range days {
		cost += d.CostPoints
		prize += d.PrizePoints
		lot = append(lot, gin.H{"day": d.Day.String(), "draws": d.Draws, "cost_points": d.CostPoints,
			"prize_points": d.PrizePoints, "wins_by_kind": d.Wins})
	}
	c.JSON(http.StatusOK, gin.H{"from": from.String(), "to": to.String(),
		"referral": gin.H{"codes_shared": f.CodesShared, "binds": f.Binds, "first_orders": f.FirstOrders,
			"rewards_paid": f.RewardsPaid, "reward_points": f.RewardPoints, "flagged": f.Flagged},
		"lottery": gin.H{"cost_points": cost, "prize_points": prize,
			"prize_value_fen": h.Analytics.ValueFen(prize), "days": lot}})
}
