package consoleweb

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/domain/reminder"
)

// dashboardDays is the chart's span, today included: the JSON API's
// default range (GET /api/v1/console/analytics/points and /reminders).
const dashboardDays = 30

// dashboardData is the dashboard: the same three reads as the JSON API's
// analytics routes (Analytics.Points, Analytics.Liability,
// Campaigns.Outcomes), laid out for a person.
type dashboardData struct {
	From, To string
	// Today and the 30 days by fact kind (issued, spent, expired,
	// clawed_back, returned), and issued points by source.
	Today, Period                 map[string]int64
	TodaySources, PeriodSources   []keyValue64
	ActiveToday, ActivePeak       int64
	Points                        *lineChart
	Active                        *barChart
	Liability                     *analytics.Outstanding // nil before the job's first snapshot
	ValueFen                      int64
	ShowValue                     bool
	Tiers                         []keyValue64
	Expiring                      *barChart
	RemindersToday, Reminders30   map[string]int
	RemindersTodayN, Reminders30N int
	Reminders                     *barChart
	// The reminder effect of the most recent campaigns that reached or
	// held out anyone in the 30 days (Analytics.ReminderEffects).
	Effects *effectChart
}

type keyValue64 struct {
	Key, Label string
	Value      int64
}

// sorted lists m largest first (then by key), each labelled by the
// message prefix+key, or the key itself when there is none (a source the
// console has no word for yet).
func sorted(l *lang, prefix string, m map[string]int64) []keyValue64 {
	out := make([]keyValue64, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			label := k
			if _, ok := l.msgs[prefix+k]; ok {
				label = l.T(prefix + k)
			}
			out = append(out, keyValue64{Key: k, Label: label, Value: m[k]})
		}
	}
	slices.SortStableFunc(out, func(a, b keyValue64) int {
		switch {
		case a.Value > b.Value:
			return -1
		case a.Value < b.Value:
			return 1
		}
		return 0
	})
	return out
}

// dashboard is GET /console/dashboard (any role).
func (h *Handlers) dashboard(c *gin.Context) {
	ctx := c.Request.Context()
	l := h.lang(c)
	today := domain.DayOf(h.Clock.Now())
	from := today.AddDays(-(dashboardDays - 1))
	days, err := h.API.Analytics.Points(ctx, from, today)
	if err != nil {
		h.fail(c, err)
		return
	}
	outcomes, err := h.API.Campaigns.Outcomes(ctx, from, today)
	if err != nil {
		h.fail(c, err)
		return
	}
	d := dashboardData{From: from.String(), To: today.String(), Period: map[string]int64{}, RemindersToday: map[string]int{},
		Reminders30: map[string]int{}, ShowValue: h.API.Analytics.FenPerPoint > 0}

	// The points: today's figures, the 30 days' sums, and the chart.
	periodSources := map[string]int64{}
	labels := make([]string, len(days))
	series := map[string][]int64{}
	active := make([]int64, len(days))
	for i, day := range days {
		labels[i] = day.Day.Start().Format("01-02")
		for _, k := range analytics.Kinds {
			d.Period[k] += day.Totals[k]
			series[k] = append(series[k], day.Totals[k])
		}
		for src, n := range day.By[analytics.Issued] {
			periodSources[src] += n
		}
		active[i] = day.Active
		d.ActivePeak = max(d.ActivePeak, day.Active)
	}
	last := days[len(days)-1]
	d.Today, d.ActiveToday = last.Totals, last.Active
	d.TodaySources, d.PeriodSources = sorted(l, "source.", last.By[analytics.Issued]), sorted(l, "source.", periodSources)
	d.Points = newLineChart(l, labels, []lineSeries{
		{Key: analytics.Issued, Label: l.T("fact.issued"), Values: series[analytics.Issued]},
		{Key: analytics.Spent, Label: l.T("fact.spent"), Values: series[analytics.Spent]},
		{Key: analytics.Expired, Label: l.T("fact.expired"), Values: series[analytics.Expired]},
	})
	d.Active = newBarChart(l, labels, []string{"active"}, func(i int) []int64 { return []int64{active[i]} })

	// The liability at the latest snapshot.
	o, err := h.API.Analytics.Liability(ctx)
	switch {
	case err == nil:
		d.Liability, d.ValueFen = &o, h.API.Analytics.ValueFen(o.Total)
		d.Tiers = sorted(l, "level.", o.ByTier) // tier codes as configured
		months := make([]string, len(o.Expiring))
		for i, m := range o.Expiring {
			months[i] = m.Month
		}
		d.Expiring = newBarChart(l, months, []string{"expiring"}, func(i int) []int64 { return []int64{o.Expiring[i].Points} })
	case domain.ErrorCode(err) == domain.NotFound:
		// no snapshot yet: the page says so
	default:
		h.fail(c, err)
		return
	}

	// The reminders, by outcome.
	stacks := []string{string(reminder.Sent), string(reminder.Failed), string(reminder.Uncertain)}
	for i, day := range outcomes {
		for st, n := range day.ByStatus {
			d.Reminders30[string(st)] += n
			d.Reminders30N += n
			if i == len(outcomes)-1 {
				d.RemindersToday[string(st)] += n
				d.RemindersTodayN += n
			}
		}
	}
	d.Reminders = newBarChart(l, labels, stacks, func(i int) []int64 {
		out := make([]int64, len(stacks))
		for j, st := range stacks {
			out[j] = int64(outcomes[i].ByStatus[reminder.Status(st)])
		}
		return out
	})

	// The reminder effect: the campaigns' reached against held-out shares.
	effects, err := h.API.Analytics.ReminderEffects(ctx, from, today)
	if err != nil {
		h.fail(c, err)
		return
	}
	d.Effects = newEffectChart(l, effects)
	h.render(c, http.StatusOK, "dashboard", "dash.title", d)
}

// dashboardCampaigns is how many campaigns the effect chart shows: the
// most recent (by id) of those that reached or held out anyone.
const dashboardCampaigns = 8

// effectRow is one campaign of the effect chart, with its shares in basis
// points when its group has members.
type effectRow struct {
	analytics.ReminderEffect
	Label                  string // the x label: the name, cut short
	ReachedBP, HoldoutBP   int64
	HasReached, HasHoldout bool
}

// effectChart draws, for each campaign, two columns side by side: the
// share of the reached members who converted within the window and the
// share of the held-out members who did, on a percentage axis.
type effectChart struct {
	axes
	Rows []effectRow
	Bars []barRect // N is the share in basis points
}

func newEffectChart(l *lang, effects []analytics.ReminderEffect) *effectChart {
	var rows []effectRow
	for _, e := range effects {
		if e.Kind == "campaign" {
			rows = append(rows, effectRow{ReminderEffect: e})
		}
	}
	slices.SortFunc(rows, func(a, b effectRow) int { return cmp.Compare(b.CampaignID, a.CampaignID) })
	rows = rows[:min(len(rows), dashboardCampaigns)]
	slices.Reverse(rows) // oldest on the left
	if len(rows) == 0 {
		return &effectChart{}
	}
	var most int64
	labels := make([]string, len(rows))
	for i := range rows {
		r := &rows[i]
		r.ReachedBP, r.HasReached = analytics.ShareBP(r.ReachedN, r.ReachedK)
		r.HoldoutBP, r.HasHoldout = analytics.ShareBP(r.HoldoutN, r.HoldoutK)
		most = max(most, r.ReachedBP, r.HoldoutBP)
		r.Label = r.Name
		if r.Label == "" {
			r.Label = fmt.Sprint("#", r.CampaignID)
		}
		if rs := []rune(r.Label); len(rs) > 10 {
			r.Label = string(rs[:9]) + "…"
		}
		labels[i] = r.Label
	}
	top := min(niceCeiling(max(most, 100)), 10000) // at least 1 %, at most 100 %
	c := &effectChart{axes: axesOf(labels, top, 1, l.ShortPercent), Rows: rows}
	step := int64(chartW / len(rows))
	w := min(step/3, 64)
	for i, r := range rows {
		mid := chartLeft + int64(i)*step + step/2
		for _, g := range []struct {
			key string
			x   int64
			bp  int64
			has bool
		}{{"reached", mid - w - 2, r.ReachedBP, r.HasReached}, {"holdout", mid + 2, r.HoldoutBP, r.HasHoldout}} {
			if !g.has {
				continue // no group, no column (a share of 0 is a hairline)
			}
			h := max(scale(g.bp, top), 1)
			c.Bars = append(c.Bars, barRect{Key: g.key, X: g.x, Y: 8 + chartH - h, W: w, H: h, N: g.bp, Label: r.Label})
		}
	}
	return c
}

// The charts are SVG drawn here: no script, nothing the CSP has to allow.
const (
	chartW, chartH       = 720, 180 // the plot area
	chartLeft, chartBase = 56, 196  // the y axis's labels to the left; the x labels under chartBase
)

type tick struct {
	Y     int
	Label string
}

type xLabel struct {
	X     int
	Label string
}

// axes is what every chart shares: its y gridlines and x labels.
type axes struct {
	W, H, Left, Base, ViewW, ViewH int
	Ticks                          []tick
	XLabels                        []xLabel
}

func newAxes(l *lang, labels []string, most int64, every int) (axes, int64) {
	top := niceCeiling(most)
	return axesOf(labels, top, every, l.Compact), top
}

// axesOf draws the axes of a plot whose top is top, its four gridlines
// labelled by label.
func axesOf(labels []string, top int64, every int, label func(int64) string) axes {
	a := axes{W: chartW, H: chartH, Left: chartLeft, Base: chartH + 8, ViewW: chartLeft + chartW + 8, ViewH: chartH + 30}
	for i := 0; i <= 4; i++ {
		v := top * int64(i) / 4
		a.Ticks = append(a.Ticks, tick{Y: 8 + chartH - int(scale(v, top)), Label: label(v)})
	}
	step := chartW / max(len(labels), 1)
	for i, s := range labels {
		if (len(labels)-1-i)%every == 0 { // counted back from the last (today)
			a.XLabels = append(a.XLabels, xLabel{X: chartLeft + i*step + step/2, Label: s})
		}
	}
	return a
}

// niceCeiling rounds n up to 1, 2, 4, 5, 6 or 8 × a power of ten that four
// divides (at least 4), so the four gridlines are round numbers.
func niceCeiling(n int64) int64 {
	if n <= 4 {
		return 4
	}
	if n > 1e17 {
		return n
	}
	p := int64(1)
	for p <= n/10 {
		p *= 10
	}
	for _, q := range []int64{p, 10 * p} {
		for _, m := range []int64{1, 2, 4, 5, 6, 8} {
			if m*q >= n && (m*q)%4 == 0 {
				return m * q
			}
		}
	}
	return 100 * p
}

// scale is v's height in a plot whose top is top (floats: points can be
// large enough for v × chartH to overflow).
func scale(v, top int64) int64 { return int64(float64(v) / float64(top) * chartH) }

type lineSeries struct {
	Key, Label string
	Values     []int64
	Points     string // the polyline's "x,y x,y …"
}

type lineChart struct {
	axes
	Series []lineSeries
}

func newLineChart(l *lang, labels []string, series []lineSeries) *lineChart {
	var most int64
	for _, s := range series {
		for _, v := range s.Values {
			most = max(most, v)
		}
	}
	a, top := newAxes(l, labels, most, 7)
	step := chartW / max(len(labels), 1)
	for i := range series {
		pts := make([]string, len(series[i].Values))
		for j, v := range series[i].Values {
			pts[j] = fmt.Sprintf("%d,%d", chartLeft+j*step+step/2, 8+chartH-scale(v, top))
		}
		series[i].Points = strings.Join(pts, " ")
	}
	return &lineChart{axes: a, Series: series}
}

type barRect struct {
	Key           string
	X, Y, W, H, N int64
	Label         string // the column's label, for the tooltip
}

type barChart struct {
	axes
	Keys []string
	Bars []barRect
}

// newBarChart draws one column per label, each a stack of values(i) in
// the order of keys.
func newBarChart(l *lang, labels, keys []string, values func(i int) []int64) *barChart {
	var most int64
	cols := make([][]int64, len(labels))
	for i := range labels {
		cols[i] = values(i)
		var sum int64
		for _, v := range cols[i] {
			sum += v
		}
		most = max(most, sum)
	}
	every := 7
	if len(labels) <= 12 {
		every = 1
	}
	a, top := newAxes(l, labels, most, every)
	step := int64(chartW / max(len(labels), 1))
	b := &barChart{axes: a, Keys: keys}
	for i, col := range cols {
		y := int64(8 + chartH)
		for j, v := range col {
			if v <= 0 {
				continue
			}
			h := max(scale(v, top), 1)
			y -= h
			b.Bars = append(b.Bars, barRect{Key: keys[j], X: chartLeft + int64(i)*step + step/6, Y: y, W: step * 2 / 3, H: h, N: v, Label: labels[i]})
		}
	}
	return b
}
