package console

import (
	"encoding/csv"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/domain/reminder"
)

// AnalyticsPoints handles GET /api/v1/console/analytics/points?from=&to=
// [&format=csv]: per Shanghai day, points issued by source, spent by sink,
// expired, clawed back and returned, and the members active that day.
// Default: the last 30 days.
func (h *Handlers) AnalyticsPoints(c *gin.Context) {
	from, to, asCSV, err := h.analyticsQuery(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	days, err := h.Analytics.Points(c.Request.Context(), from, to)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if asCSV {
		pointsCSV(c, from, to, days)
		return
	}
	out := make([]gin.H, 0, len(days))
	for _, d := range days {
		out = append(out, gin.H{"day": d.Day.String(), "totals": d.Totals, "by_source": d.By, "active_members": d.Active})
	}
	c.JSON(http.StatusOK, gin.H{"from": from.String(), "to": to.String(), "days": out})
}

// analyticsQuery reads ?from=&to= (see analyticsRange) and ?format=json
// (the default) or csv.
func (h *Handlers) analyticsQuery(c *gin.Context) (from, to domain.Day, asCSV bool, err error) {
	if from, to, err = h.analyticsRange(c); err != nil {
		return from, to, false, err
	}
	switch c.DefaultQuery("format", "json") {
	case "json":
		return from, to, false, nil
	case "csv":
		return from, to, true, nil
	}
	return from, to, false, domain.FieldError("format", "must be json or csv")
}

// analyticsCSV starts the CSV download of every analytics route's
// format=csv: 200, text/csv named <name>-<from>-<to>.csv, and a
// byte-order mark so that Excel reads it as UTF-8. Free text goes into a
// cell through web.CSVText. The caller writes the rows and flushes.
func analyticsCSV(c *gin.Context, name string, from, to domain.Day) *csv.Writer {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+name+`-`+from.String()+`-`+to.String()+`.csv"`)
	c.Status(http.StatusOK)
	_, _ = c.Writer.WriteString("\ufeff")
	return csv.NewWriter(c.Writer)
}

// analyticsRange reads ?from=&to= (Shanghai days, not before 2000-01-01;
// default the last 30 days, today included).
func (h *Handlers) analyticsRange(c *gin.Context) (from, to domain.Day, err error) {
	today := domain.DayOf(h.Analytics.Clock.Now())
	from, to = today.AddDays(-29), today
	if s := c.Query("from"); s != "" {
		if from, err = domain.ParseDay(s); err != nil {
			return from, to, domain.FieldError("from", "must be YYYY-MM-DD")
		}
		if from.Before(firstDay) {
			return from, to, domain.FieldError("from", "must be YYYY-MM-DD, not before 2000-01-01")
		}
	}
	if s := c.Query("to"); s != "" {
		if to, err = domain.ParseDay(s); err != nil {
			return from, to, domain.FieldError("to", "must be YYYY-MM-DD")
		}
		if to.Before(firstDay) {
			return from, to, domain.FieldError("to", "must be YYYY-MM-DD, not before 2000-01-01")
		}
	}
	return from, to, nil
}

// AnalyticsReminders handles GET /api/v1/console/analytics/reminders
// ?from=&to=[&format=csv]: per Shanghai day, the reminder messages (every
// campaign and the automatic expiry reminders) last attempted that day by
// outcome. Default: the last 30 days.
func (h *Handlers) AnalyticsReminders(c *gin.Context) {
	from, to, asCSV, err := h.analyticsQuery(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	days, err := h.Campaigns.Outcomes(c.Request.Context(), from, to)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if asCSV {
		remindersCSV(c, from, to, days)
		return
	}
	out := make([]gin.H, 0, len(days))
	for _, d := range days {
		by, total := map[string]int{}, 0
		for st, n := range d.ByStatus {
			by[string(st)] = n
			total += n
		}
		out = append(out, gin.H{"day": d.Day.String(), "by_status": by, "total": total})
	}
	c.JSON(http.StatusOK, gin.H{"from": from.String(), "to": to.String(), "days": out})
}

// remindersCSV writes one row per day: the messages of each outcome
// (holdout: members held out, on the day they would have been sent) and
// their total, as the JSON's by_status and total.
func remindersCSV(c *gin.Context, from, to domain.Day, days []reminder.DayOutcomes) {
	w := analyticsCSV(c, "reminders", from, to)
	cols := append(slices.Clone(reminder.Outcomes), reminder.Holdout)
	head := []string{"day"}
	for _, st := range cols {
		head = append(head, string(st))
	}
	_ = w.Write(append(head, "total"))
	for _, d := range days {
		row, total := []string{d.Day.String()}, 0
		for _, st := range cols {
			row = append(row, strconv.Itoa(d.ByStatus[st]))
		}
		for _, n := range d.ByStatus {
			total += n
		}
		_ = w.Write(append(row, strconv.Itoa(total)))
	}
	w.Flush()
}

// pointsCSV streams one row per day, kind and source.
func pointsCSV(c *gin.Context, from, to domain.Day, days []analytics.DayReport) {
	w := analyticsCSV(c, "points", from, to)
	_ = w.Write([]string{"day", "kind", "source", "points", "active_members"})
	for _, d := range days {
		active := strconv.FormatInt(d.Active, 10)
		for _, k := range analytics.Kinds {
			if len(d.By[k]) == 0 && d.Totals[k] != 0 {
				_ = w.Write([]string{d.Day.String(), k, "", strconv.FormatInt(d.Totals[k], 10), active})
			}
			for _, src := range slices.Sorted(maps.Keys(d.By[k])) {
				_ = w.Write([]string{d.Day.String(), k, src, strconv.FormatInt(d.By[k][src], 10), active})
			}
		}
	}
	w.Flush()
}

// AnalyticsOutstanding handles GET /api/v1/console/analytics/outstanding:
// the latest snapshot of the outstanding points (the brand's liability),
// by tier and by the month they expire in, with their value.
func (h *Handlers) AnalyticsOutstanding(c *gin.Context) {
	o, err := h.Analytics.Liability(c.Request.Context())
	if err != nil {
		web.Fail(c, err)
		return
	}
	months := make([]gin.H, 0, len(o.Expiring))
	for _, m := range o.Expiring {
		months = append(months, gin.H{"month": m.Month, "points": m.Points})
	}
	value := h.Analytics.ValueFen(o.Total)
	c.JSON(http.StatusOK, gin.H{"day": o.Day.String(), "total": o.Total, "by_tier": o.ByTier, "expiring_by_month": months,
		"fen_per_point": h.Analytics.FenPerPoint, "value_fen": value})
}
