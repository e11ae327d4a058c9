package configs

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jifen/jifen/domain/reminder"
)

// Reminder configures points expiry, reminders and campaign delivery
// (domain/reminder). Keys are documented in default.yaml.
type Reminder struct {
	Jobs              bool                        `yaml:"jobs"`
	ExpiryCron        string                      `yaml:"expiry_cron"`
	ExpiryRangeSize   int64                       `yaml:"expiry_range_size"`
	ExpiryBatch       int                         `yaml:"expiry_batch"`
	ReleaseCron       string                      `yaml:"release_cron"`
	Lease             time.Duration               `yaml:"lease"`
	AutoCron          string                      `yaml:"auto_cron"`
	FollowersSyncCron string                      `yaml:"followers_sync_cron"`
	Offsets           []int                       `yaml:"offsets"`
	Channels          []string                    `yaml:"channels"`
	DispatchEvery     time.Duration               `yaml:"dispatch_every"`
	Workers           int                         `yaml:"workers"`
	Batch             int                         `yaml:"batch"`
	SendChunk         int                         `yaml:"send_chunk"`
	MaxAttempts       int                         `yaml:"max_attempts"`
	QuietHours        string                      `yaml:"quiet_hours"`
	ThrottlePerMinute map[string]int              `yaml:"throttle_per_minute"`
	Templates         map[string]ReminderTemplate `yaml:"templates"`
	AutoTemplates     map[string]string           `yaml:"auto_templates"`
	// AutoHoldoutPermille is the share (‰) of members each automatic
	// expiry reminder leaves out as its control group (0 to 500).
	AutoHoldoutPermille int `yaml:"auto_holdout_permille"`
}

// ReminderTemplate is one message template marketers and the automatic
// reminders can use.
type ReminderTemplate struct {
	Channel  string            `yaml:"channel"`
	WeChatID string            `yaml:"wechat_id"`
	Page     string            `yaml:"page"`
	Fields   map[string]string `yaml:"fields"`
	Text     string            `yaml:"text"`
}

func (r *Reminder) validate(bad func(key, why string)) {
	// What serve parses to run the jobs is checked here, so that a value
	// it cannot run is refused with the rest of the configuration.
	for _, c := range []struct{ key, expr string }{{"reminder.expiry_cron", r.ExpiryCron}, {"reminder.release_cron", r.ReleaseCron},
		{"reminder.auto_cron", r.AutoCron}, {"reminder.followers_sync_cron", r.FollowersSyncCron}} {
		if strings.TrimSpace(c.expr) == "" {
			bad(c.key, "required")
			continue
		}
		field(bad, second(reminder.ParseCron(c.key, c.expr)))
	}
	field(bad, second(reminder.ParseQuietHours("reminder.quiet_hours", r.QuietHours)))
	for ch, n := range r.ThrottlePerMinute {
		if _, err := reminder.ParseChannel(ch); err != nil {
			bad("reminder.throttle_per_minute."+ch, err.Error())
		} else if n < 0 {
			bad("reminder.throttle_per_minute."+ch, "must be 0 (no limit) or more")
		}
	}
	if r.ExpiryRangeSize <= 0 {
		bad("reminder.expiry_range_size", "must be positive")
	}
	if r.ExpiryBatch <= 0 {
		bad("reminder.expiry_batch", "must be positive")
	}
	if r.Lease < 10*time.Second {
		bad("reminder.lease", "must be at least 10s")
	}
	if r.DispatchEvery <= 0 {
		bad("reminder.dispatch_every", "must be positive")
	}
	if r.Workers <= 0 || r.Workers > 256 {
		bad("reminder.workers", "must be from 1 to 256")
	}
	if r.Batch <= 0 {
		bad("reminder.batch", "must be positive")
	}
	if r.SendChunk <= 0 || r.SendChunk > 64 {
		bad("reminder.send_chunk", "must be from 1 to 64")
	}
	if r.MaxAttempts <= 0 {
		bad("reminder.max_attempts", "must be positive")
	}
	if r.AutoHoldoutPermille < 0 || r.AutoHoldoutPermille > 500 {
		bad("reminder.auto_holdout_permille", "must be from 0 to 500 (‰ of the members left out)")
	}
	for _, o := range r.Offsets {
		if o <= 0 || o > 366 {
			bad("reminder.offsets", "each offset must be from 1 to 366 days")
		}
	}
	known := map[string]bool{"subscribe": true, "template": true, "wecom": true, "robot": true}
	for _, c := range r.Channels {
		if !known[c] {
			bad("reminder.channels", fmt.Sprintf("unknown channel %q", c))
		}
	}
	// In key order: the one error line reads the same on every start.
	for _, name := range slices.Sorted(maps.Keys(r.Templates)) {
		t := r.Templates[name]
		key := "reminder.templates." + name
		if !known[t.Channel] {
			bad(key+".channel", "must be subscribe, template, wecom or robot")
		}
		if (t.Channel == "subscribe" || t.Channel == "template") && (t.WeChatID == "" || len(t.Fields) == 0) {
			bad(key, "subscribe and template messages need wechat_id and fields")
		}
		field(bad, reminder.CheckFields(key+".fields", reminder.Channel(t.Channel), t.Fields))
		if (t.Channel == "wecom" || t.Channel == "robot") && strings.TrimSpace(t.Text) == "" {
			bad(key+".text", "required for wecom and robot")
		}
	}
	for _, ch := range slices.Sorted(maps.Keys(r.AutoTemplates)) {
		name := r.AutoTemplates[ch]
		t, ok := r.Templates[name]
		if !ok {
			bad("reminder.auto_templates."+ch, fmt.Sprintf("no template %q", name))
		} else if t.Channel != ch {
			bad("reminder.auto_templates."+ch, fmt.Sprintf("template %q is for channel %s", name, t.Channel))
		}
	}
}
