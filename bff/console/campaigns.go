package console

import (
	"strconv"
	"time"

	"github.com/jifen/jifen/domain/reminder"
)

// reminderCampaignRequest is a marketer's campaign, strictly: every field
// but name is optional (channels default to reminder.channels, templates
// to reminder.auto_templates, quiet_hours to reminder.quiet_hours; "" is
// none).
type reminderCampaignRequest struct {
	Name       string                      `json:"name"`
	Audience   reminder.Audience           `json:"audience"`
	Channels   []reminder.Channel          `json:"channels"`
	Templates  map[reminder.Channel]string `json:"templates"`
	Variables  map[string]string           `json:"variables"`
	Schedule   reminder.CampaignSchedule   `json:"schedule"`
	QuietHours *string                     `json:"quiet_hours"`
	Throttle   map[reminder.Channel]int    `json:"throttle_per_minute"`
	Holdout    int                         `json:"holdout_permille"`
}

// reminderCampaignUpdate is a PUT: the whole campaign and the version edited.
type reminderCampaignUpdate struct {
	reminderCampaignRequest
	Version int64 `json:"version"`
}

func (r *reminderCampaignRequest) input() reminder.CampaignInput {
	in := reminder.CampaignInput{Name: r.Name, Spec: reminder.CampaignSpec{Audience: r.Audience, Channels: r.Channels,
		Templates: r.Templates, Variables: r.Variables, Schedule: r.Schedule, Throttle: r.Throttle,
		HoldoutPermille: r.Holdout}}
	if r.QuietHours != nil {
		in.Spec.QuietHours, in.QuietSet = *r.QuietHours, true
	}
	return in
}

type audienceJSON struct {
	ExpiringWithinDays int      `json:"expiring_within_days"`
	MinPoints          int64    `json:"min_points"`
	Tiers              []string `json:"tiers"`
	StoreIDs           []int64  `json:"store_ids"`
	InactiveSinceDays  int      `json:"inactive_since_days"`
}

type scheduleJSON struct {
	OnceAt *time.Time `json:"once_at"`
	Cron   *string    `json:"cron"`
}

type reminderCampaignJSON struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name"`
	Status     string            `json:"status"`
	Audience   audienceJSON      `json:"audience"`
	Channels   []string          `json:"channels"`
	Templates  map[string]string `json:"templates"`
	Variables  map[string]string `json:"variables"`
	Schedule   scheduleJSON      `json:"schedule"`
	QuietHours string            `json:"quiet_hours"`
	Throttle   map[string]int    `json:"throttle_per_minute"`
	Holdout    int               `json:"holdout_permille"`
	NextRunAt  *time.Time        `json:"next_run_at"`
	Runs       int               `json:"runs"`
	CreatedBy  string            `json:"created_by"`
	Version    int64             `json:"version"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

func toReminderCampaignJSON(c *reminder.Campaign) reminderCampaignJSON {
	sp := c.Spec
	out := reminderCampaignJSON{ID: c.ID, Name: c.Name, Status: string(c.Status), QuietHours: sp.QuietHours,
		Audience: audienceJSON{ExpiringWithinDays: sp.Audience.ExpiringWithinDays, MinPoints: sp.Audience.MinPoints,
			Tiers: append([]string{}, sp.Audience.Tiers...), StoreIDs: append([]int64{}, sp.Audience.StoreIDs...),
			InactiveSinceDays: sp.Audience.InactiveSinceDays},
		Channels: []string{}, Templates: map[string]string{}, Variables: map[string]string{}, Throttle: map[string]int{},
		Holdout: sp.HoldoutPermille, Runs: c.Runs, CreatedBy: c.CreatedBy, Version: c.Version, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	for _, ch := range sp.Channels {
		out.Channels = append(out.Channels, string(ch))
	}
	for ch, name := range sp.Templates {
		out.Templates[string(ch)] = name
	}
	for k, v := range sp.Variables {
		out.Variables[k] = v
	}
	for ch, n := range sp.Throttle {
		out.Throttle[string(ch)] = n
	}
	if sp.Schedule.OnceAt != nil {
		t := sp.Schedule.OnceAt.UTC()
		out.Schedule.OnceAt = &t
	}
	if sp.Schedule.Cron != "" {
		cr := sp.Schedule.Cron
		out.Schedule.Cron = &cr
	}
	if c.NextRunAt != nil {
		t := c.NextRunAt.UTC()
		out.NextRunAt = &t
	}
	return out
}

// Mask hides the middle of an address (openid, userid, robot key): enough
// to tell samples apart, not enough to reuse.
func Mask(s string) string {
	r := []rune(s)
	if len(r) <= 6 {
		return "***"
	}
	return string(r[:4]) + "***" + string(r[len(r)-2:])
}

func errcodeKey(n int64) string { return strconv.FormatInt(n, 10) }
