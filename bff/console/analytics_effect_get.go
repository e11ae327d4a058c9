package console

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/analytics"
)

// AnalyticsReminderEffect handles GET
// /api/v1/console/analytics/reminder-effect?from=&to=[&format=csv]: per
// campaign and per automatic expiry reminder, the members reached and held
// out on the range's days, how many of each ordered or redeemed within 7
// days, the two shares and their difference with its 95% interval.
func (h *Handlers) AnalyticsReminderEffect(c *gin.Context) {
	from, to, asCSV, err := h.analyticsQuery(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	effects, err := h.Analytics.ReminderEffects(c.Request.Context(), from, to)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if asCSV {
		w := analyticsCSV(c, "reminder-effect", from, to)
		_ = w.Write([]string{"reminder", "kind", "name", "reached", "reached_converted", "reached_share_bp",
			"holdout", "holdout_converted", "holdout_share_bp", "difference_bp", "low_bp", "high_bp", "open"})
		n := strconv.FormatInt
		for _, e := range effects {
			row := []string{e.Reminder, e.Kind, web.CSVText(e.Name), n(e.ReachedN, 10), n(e.ReachedK, 10), "",
				n(e.HoldoutN, 10), n(e.HoldoutK, 10), "", "", "", "", n(e.Open, 10)}
			if bp, ok := analytics.ShareBP(e.ReachedN, e.ReachedK); ok {
				row[5] = n(bp, 10)
			}
			if bp, ok := analytics.ShareBP(e.HoldoutN, e.HoldoutK); ok {
				row[8] = n(bp, 10)
			}
			if e.Effect.OK {
				row[9], row[10], row[11] = n(e.Effect.DiffBP, 10), n(e.Effect.LowBP, 10), n(e.Effect.HighBP, 10)
			}
			_ = w.Write(row)
		}
		w.Flush()
		return
	}
	out := make([]gin.H, 0, len(effects))
	for _, e := range effects {
		out = append(out, effectJSON(e))
	}
	c.JSON(http.StatusOK, gin.H{"from": from.String(), "to": to.String(), "window_days": int(analytics.EffectWindow.Hours() / 24),
		"reminders": out})
}

func effectJSON(e analytics.ReminderEffect) gin.H {
	group := func(n, k int64) gin.H {
		var share any
		if bp, ok := analytics.ShareBP(n, k); ok {
			share = bp
		}
		return gin.H{"members": n, "converted": k, "share_bp": share}
	}
	r := gin.H{"reminder": e.Reminder, "kind": e.Kind, "name": e.Name,
		"reached": group(e.ReachedN, e.ReachedK),
		"holdout": group(e.HoldoutN, e.HoldoutK),
		"open":    e.Open, "difference": nil}
	switch e.Kind {
	case "campaign":
		r["campaign_id"] = e.CampaignID
	case "expiry":
		r["offset_days"] = e.OffsetDays
	}
	if e.Effect.OK {
		r["difference"] = gin.H{"bp": e.Effect.DiffBP, "low_bp": e.Effect.LowBP, "high_bp": e.Effect.HighBP}
	}
	return r
}
