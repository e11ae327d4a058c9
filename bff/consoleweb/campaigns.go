package consoleweb

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/domain/reminder"
)

const (
	channelSlots = 4 // the channel order: first choice, then fallbacks
	variableRows = 4 // campaign variables the form shows; blank rows are ignored
)

type keyValue struct{ Key, Value string }

// campaignForm is a campaign as the form shows it, as typed.
type campaignForm struct {
	ID, Version                                     int64
	Name                                            string
	ExpiringDays, MinPoints, StoreIDs, InactiveDays string
	Tiers                                           map[string]bool
	Channels                                        []string          // channelSlots selects, in order; "" unused
	Templates                                       map[string]string // channel → template name; "" the default
	Variables                                       []keyValue
	OnceAt, Cron                                    string
	QuietHours                                      string
	Holdout                                         string // ‰ of the audience left out as the control group
	Throttle                                        map[string]string
}

func (f *campaignForm) pad() {
	for len(f.Channels) < channelSlots {
		f.Channels = append(f.Channels, "")
	}
	for len(f.Variables) < variableRows {
		f.Variables = append(f.Variables, keyValue{})
	}
}

func campaignFormOf(c *reminder.Campaign) campaignForm {
	sp := c.Spec
	a := sp.Audience
	f := campaignForm{ID: c.ID, Version: c.Version, Name: c.Name, ExpiringDays: intText(int64(a.ExpiringWithinDays)),
		MinPoints: intText(a.MinPoints), InactiveDays: intText(int64(a.InactiveSinceDays)), Tiers: map[string]bool{},
		Templates: map[string]string{}, Cron: sp.Schedule.Cron, OnceAt: localText(sp.Schedule.OnceAt), QuietHours: sp.QuietHours,
		Holdout: intText(int64(sp.HoldoutPermille)), Throttle: map[string]string{}}
	ids := make([]string, 0, len(a.StoreIDs))
	for _, id := range a.StoreIDs {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	f.StoreIDs = strings.Join(ids, ", ")
	for _, t := range a.Tiers {
		f.Tiers[t] = true
	}
	for _, ch := range sp.Channels {
		f.Channels = append(f.Channels, string(ch))
	}
	for ch, name := range sp.Templates {
		f.Templates[string(ch)] = name
	}
	for _, k := range slices.Sorted(maps.Keys(sp.Variables)) {
		f.Variables = append(f.Variables, keyValue{k, sp.Variables[k]})
	}
	for ch, n := range sp.Throttle {
		f.Throttle[string(ch)] = intText(int64(n))
	}
	f.pad()
	return f
}

func readCampaignForm(c *gin.Context) campaignForm {
	f := campaignForm{Name: c.PostForm("name"), ExpiringDays: c.PostForm("expiring_within_days"), MinPoints: c.PostForm("min_points"),
		StoreIDs: c.PostForm("store_ids"), InactiveDays: c.PostForm("inactive_since_days"), Tiers: map[string]bool{},
		Templates: map[string]string{}, OnceAt: c.PostForm("once_at"), Cron: strings.TrimSpace(c.PostForm("cron")),
		QuietHours: strings.TrimSpace(c.PostForm("quiet_hours")), Holdout: c.PostForm("holdout_permille"), Throttle: map[string]string{}}
	f.Version, _ = strconv.ParseInt(c.PostForm("version"), 10, 64)
	for _, t := range c.PostFormArray("tier") {
		f.Tiers[t] = true
	}
	for i, ch := range c.PostFormArray("channel") {
		if i < channelSlots {
			f.Channels = append(f.Channels, ch)
		}
	}
	for _, ch := range reminder.Channels {
		if v := c.PostForm("template_" + string(ch)); v != "" {
			f.Templates[string(ch)] = v
		}
		if v := c.PostForm("throttle_" + string(ch)); v != "" {
			f.Throttle[string(ch)] = v
		}
	}
	keys, values := c.PostFormArray("var_key"), c.PostFormArray("var_value")
	for i := 0; i < len(keys) && i < len(values) && i < 20; i++ {
		f.Variables = append(f.Variables, keyValue{keys[i], values[i]})
	}
	f.pad()
	return f
}

// input is the form as the JSON API's campaign request: the campaign's own
// checks run in reminder.Campaigns, as for the API.
func (f campaignForm) input() (reminder.CampaignInput, error) {
	bad := formErrors{}
	in := reminder.CampaignInput{Name: f.Name, Version: f.Version, QuietSet: true}
	sp := &in.Spec
	sp.Audience = reminder.Audience{ExpiringWithinDays: int(bad.int("audience.expiring_within_days", f.ExpiringDays)),
		MinPoints: bad.int("audience.min_points", f.MinPoints), InactiveSinceDays: int(bad.int("audience.inactive_since_days", f.InactiveDays))}
	for _, s := range list(f.StoreIDs) {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			bad.add("audience.store_ids", "problem.store_ids")
			break
		}
		sp.Audience.StoreIDs = append(sp.Audience.StoreIDs, id)
	}
	for _, t := range slices.Sorted(maps.Keys(f.Tiers)) {
		sp.Audience.Tiers = append(sp.Audience.Tiers, t)
	}
	for _, ch := range f.Channels {
		if ch != "" {
			sp.Channels = append(sp.Channels, reminder.Channel(ch))
		}
	}
	sp.Templates = map[reminder.Channel]string{}
	for ch, name := range f.Templates {
		if slices.Contains(sp.Channels, reminder.Channel(ch)) { // a template for a channel not chosen is not sent
			sp.Templates[reminder.Channel(ch)] = name
		}
	}
	sp.Variables = map[string]string{}
	for _, kv := range f.Variables {
		if k := strings.TrimSpace(kv.Key); k != "" {
			sp.Variables[k] = kv.Value
		}
	}
	switch {
	case f.Cron != "" && strings.TrimSpace(f.OnceAt) != "":
		bad.add("schedule", "problem.once_or_cron")
	case f.Cron != "":
		sp.Schedule.Cron = f.Cron
	default:
		sp.Schedule.OnceAt = bad.localTime("schedule.once_at", f.OnceAt)
	}
	sp.QuietHours = f.QuietHours
	sp.HoldoutPermille = int(bad.int("holdout_permille", f.Holdout))
	sp.Throttle = map[reminder.Channel]int{}
	for ch, v := range f.Throttle {
		if n := bad.int("throttle_per_minute."+ch, v); n != 0 {
			sp.Throttle[reminder.Channel(ch)] = int(n)
		}
	}
	return in, bad.err()
}

type campaignsData struct {
	Campaigns []reminder.Campaign
	Next      int64
}

// listCampaigns is GET /console/campaigns?cursor=: Campaigns.List, as GET
// /api/v1/console/campaigns.
func (h *Handlers) listCampaigns(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	var d campaignsData
	if d.Campaigns, d.Next, err = h.API.Campaigns.List(c.Request.Context(), 50, page.Cursor); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "campaigns", "campaigns.title", d)
}

type templateOption struct{ Name, Preview string }

type campaignData struct {
	Form       campaignForm
	Campaign   *reminder.Campaign // nil for a new campaign
	Tiers      []string
	Channels   []reminder.Channel
	Templates  map[string][]templateOption // by channel
	Defaults   map[string]string           // reminder.auto_templates
	Errors     []string
	Done       string // the action just done
	Final      bool   // done or cancelled: nothing can change any more
	Dry        *dryRunView
	Report     *reportView
	Effect     *analytics.ReminderEffect // the campaign's effect against its holdout, once reach facts exist
	EffectFrom string                    // the first reach day the effect counts
}

func (h *Handlers) campaignData(f campaignForm) campaignData {
	cfg := h.API.Campaigns.Config
	d := campaignData{Form: f, Tiers: cfg.Tiers, Channels: reminder.Channels, Templates: map[string][]templateOption{}, Defaults: map[string]string{}}
	for _, name := range slices.Sorted(maps.Keys(cfg.Templates)) {
		t := cfg.Templates[name]
		preview := t.Text
		if preview == "" {
			preview = strings.Join(t.Placeholders(), ", ")
		}
		d.Templates[string(t.Channel)] = append(d.Templates[string(t.Channel)], templateOption{Name: name, Preview: preview})
	}
	for ch, name := range cfg.Defaults {
		d.Defaults[string(ch)] = name
	}
	return d
}

func (h *Handlers) renderCampaign(c *gin.Context, status int, d campaignData) {
	if d.Campaign != nil {
		d.Final = d.Campaign.Status == reminder.CampaignDone || d.Campaign.Status == reminder.CampaignCancelled
	}
	if d.Campaign == nil {
		h.render(c, status, "campaign", "campaign.new", d)
		return
	}
	h.render(c, status, "campaign", "campaign.title", d, d.Campaign.ID)
}

// newCampaign is GET /console/campaigns/new: a reminder for points
// expiring within 7 days, on the configured channels and quiet hours.
func (h *Handlers) newCampaign(c *gin.Context) {
	cfg := h.API.Campaigns.Config
	f := campaignForm{ExpiringDays: "7", Tiers: map[string]bool{}, Templates: map[string]string{}, QuietHours: cfg.QuietHours, Throttle: map[string]string{}}
	for _, ch := range cfg.Channels {
		f.Channels = append(f.Channels, string(ch))
	}
	f.pad()
	h.renderCampaign(c, http.StatusOK, h.campaignData(f))
}

// loadCampaign reads campaign id with its delivery report.
func (h *Handlers) loadCampaign(ctx context.Context, id int64) (campaignData, error) {
	camp, rep, err := h.API.Campaigns.Report(ctx, id)
	if err != nil {
		return campaignData{}, err
	}
	d := h.campaignData(campaignFormOf(camp))
	d.Campaign, d.Report = camp, newReportView(rep)
	d.Effect, d.EffectFrom, err = h.campaignEffect(ctx, camp)
	return d, err
}

// campaignEffect is the campaign's line of GET
// /api/v1/console/analytics/reminder-effect over the days it can have
// reached anyone (since it was created, at most analytics.MaxRange days):
// nil until the analytics job has recorded a reach of it.
func (h *Handlers) campaignEffect(ctx context.Context, camp *reminder.Campaign) (*analytics.ReminderEffect, string, error) {
	to := domain.DayOf(h.Clock.Now())
	from := domain.DayOf(camp.CreatedAt)
	if earliest := to.AddDays(-(analytics.MaxRange - 1)); from.Before(earliest) {
		from = earliest
	}
	if to.Before(from) { // a clock set back: nothing to report
		return nil, from.String(), nil
	}
	effects, err := h.API.Analytics.ReminderEffects(ctx, from, to)
	if err != nil {
		return nil, "", err
	}
	for i := range effects {
		if effects[i].Kind == "campaign" && effects[i].CampaignID == camp.ID {
			return &effects[i], from.String(), nil
		}
	}
	return nil, from.String(), nil
}

// showCampaign is GET /console/campaigns/{id}: the campaign, its actions
// and its delivery report.
func (h *Handlers) showCampaign(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	d, err := h.loadCampaign(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	d.Done = c.Query("done")
	if !slices.Contains([]string{"", "create", "update", "schedule", "pause", "cancel"}, d.Done) {
		d.Done = ""
	}
	h.renderCampaign(c, http.StatusOK, d)
}

// saveCampaign is POST /console/campaigns (create a draft) and POST
// /console/campaigns/{id} (update, with the version edited): the same
// Campaigns.Create / Update and audit row as the JSON API.
func (h *Handlers) saveCampaign(c *gin.Context) {
	f := readCampaignForm(c)
	verb := "create"
	if c.Param("id") != "" {
		id, err := pathID(c)
		if err != nil {
			h.fail(c, err)
			return
		}
		f.ID, verb = id, "update"
	}
	in, err := f.input()
	var next string
	if err == nil {
		next, err = h.once(c, func(ctx context.Context) (string, error) {
			camp, err := h.API.CampaignWrite(ctx, web.Claims(c), verb, func(ctx context.Context) (*reminder.Campaign, error) {
				if f.ID == 0 {
					return h.API.Campaigns.Create(ctx, web.Claims(c).Subject, in)
				}
				return h.API.Campaigns.Update(ctx, f.ID, in)
			})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("/console/campaigns/%d?done=%s", camp.ID, verb), nil
		})
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	status, detail := web.Describe(c, err)
	if status >= 500 || detail.Code == domain.NotFound || detail.Code == domain.Forbidden {
		h.fail(c, err)
		return
	}
	d := h.campaignData(f)
	if f.ID != 0 {
		if cur, lerr := h.loadCampaign(c.Request.Context(), f.ID); lerr == nil {
			d.Campaign, d.Report = cur.Campaign, cur.Report
		}
	}
	d.Errors = problems(h.lang(c), detail)
	h.renderCampaign(c, status, d)
}

// campaignAction is POST /console/campaigns/{id}/schedule, /pause and
// /cancel (admin, marketer): the JSON API's transitions and audit rows.
func (h *Handlers) campaignAction(verb string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c)
		if err != nil {
			h.fail(c, err)
			return
		}
		next, err := h.once(c, func(ctx context.Context) (string, error) {
			_, err := h.API.CampaignWrite(ctx, web.Claims(c), verb, func(ctx context.Context) (*reminder.Campaign, error) {
				switch verb {
				case "schedule":
					return h.API.Campaigns.Schedule(ctx, id)
				case "pause":
					return h.API.Campaigns.Pause(ctx, id)
				default:
					camp, _, err := h.API.Campaigns.Cancel(ctx, id)
					return camp, err
				}
			})
			return fmt.Sprintf("/console/campaigns/%d?done=%s", id, verb), err
		})
		if err == nil {
			c.Redirect(http.StatusSeeOther, next)
			return
		}
		status, detail := web.Describe(c, err)
		if status >= 500 || detail.Code == domain.NotFound || detail.Code == domain.Forbidden {
			h.fail(c, err)
			return
		}
		d, lerr := h.loadCampaign(c.Request.Context(), id)
		if lerr != nil {
			h.fail(c, lerr)
			return
		}
		d.Errors = problems(h.lang(c), detail)
		h.renderCampaign(c, status, d)
	}
}

// dryRunView is a dry run as the page shows it.
type dryRunView struct {
	Audience  int
	ByChannel []keyCount
	Samples   []sampleView
}

type keyCount struct {
	Key string
	N   int
}

type sampleView struct {
	MemberID int64
	Channel  string
	To       string // masked, as the JSON API shows it
	Text     string
	Data     []keyValue
	Reason   string
}

// dryRunCampaign is POST /console/campaigns/{id}/dry-run (any role: it
// writes nothing): Campaigns.DryRun, as the JSON API's dry-run.
func (h *Handlers) dryRunCampaign(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	_, res, err := h.API.Campaigns.DryRun(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := &dryRunView{Audience: res.Audience}
	for _, ch := range append(slices.Clone(reminder.Channels), reminder.None) {
		v.ByChannel = append(v.ByChannel, keyCount{string(ch), res.ByChannel[ch]})
	}
	for _, s := range res.Samples {
		sv := sampleView{MemberID: s.MemberID, Channel: string(s.Channel), Text: s.Message.Text, Reason: s.Reason}
		if s.Message.To != "" {
			sv.To = console.Mask(s.Message.To)
		}
		for _, k := range slices.Sorted(maps.Keys(s.Message.Data)) {
			sv.Data = append(sv.Data, keyValue{k, s.Message.Data[k]})
		}
		v.Samples = append(v.Samples, sv)
	}
	if c.GetHeader("HX-Request") != "" {
		h.renderBlock(c, http.StatusOK, "campaign", "dry-run", h.page(c, "campaign.dry_run", campaignData{Dry: v}))
		return
	}
	d, err := h.loadCampaign(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	d.Dry = v
	h.renderCampaign(c, http.StatusOK, d)
}

// reportView is the delivery report with its bar chart (SVG, drawn here).
type reportView struct {
	Total     int
	ByStatus  []keyCount
	ByErrCode []keyCount
	Failures  []reminder.Delivery
	Bars      []bar
	Height    int
}

type bar struct {
	Key   string
	N     int
	Y, W  int
	TextX int
}

// The statuses in the report's order.
var reportStatuses = []reminder.Status{reminder.Sent, reminder.Failed, reminder.Uncertain, reminder.Skipped, reminder.Pending, reminder.Holdout}

const chartWidth, barHeight, barGap, labelWidth = 360, 18, 8, 0

func newReportView(rep reminder.CampaignReport) *reportView {
	v := &reportView{}
	most := 0
	for _, st := range reportStatuses {
		n := rep.ByStatus[st]
		v.Total += n
		most = max(most, n)
		v.ByStatus = append(v.ByStatus, keyCount{string(st), n})
	}
	for _, code := range slices.Sorted(maps.Keys(rep.ByErrCode)) {
		v.ByErrCode = append(v.ByErrCode, keyCount{strconv.FormatInt(code, 10), rep.ByErrCode[code]})
	}
	v.Failures = rep.Failures
	for i, kc := range v.ByStatus {
		w := 0
		if most > 0 {
			w = kc.N * (chartWidth - 60) / most
		}
		if kc.N > 0 {
			w = max(w, 2)
		}
		v.Bars = append(v.Bars, bar{Key: kc.Key, N: kc.N, Y: i * (barHeight + barGap), W: w, TextX: w + 6})
	}
	v.Height = len(v.Bars)*(barHeight+barGap) - barGap
	return v
}
