package reminder

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/jifen/jifen/domain"
)

// CampaignStatus is the life stage of a marketer's campaign.
//
//	draft → scheduled → running → done (once) | scheduled (cron, next run)
//	scheduled, running → paused → scheduled (resume)
//	anything but done → cancelled
//
// done and cancelled are final.
type CampaignStatus string

// The campaign statuses.
const (
	CampaignDraft     CampaignStatus = "draft"
	CampaignScheduled CampaignStatus = "scheduled"
	CampaignRunning   CampaignStatus = "running"
	CampaignPaused    CampaignStatus = "paused"
	CampaignDone      CampaignStatus = "done"
	CampaignCancelled CampaignStatus = "cancelled"
)

// Audience selects members. Zero fields do not filter. With
// ExpiringWithinDays the points are those expiring in the next N days and
// MinPoints applies to them; without it the points are the member's
// available balance.
type Audience struct {
	ExpiringWithinDays int      `json:"expiring_within_days,omitempty"`
	MinPoints          int64    `json:"min_points,omitempty"`
	Tiers              []string `json:"tiers,omitempty"`
	StoreIDs           []int64  `json:"store_ids,omitempty"`
	InactiveSinceDays  int      `json:"inactive_since_days,omitempty"`
}

// CampaignSchedule is exactly one of a single run at OnceAt or a cron
// expression ("m h dom mon dow", Asia/Shanghai).
type CampaignSchedule struct {
	OnceAt *time.Time `json:"once_at,omitempty"`
	Cron   string     `json:"cron,omitempty"`
}

// CampaignSpec is what a marketer edits; it is stored as JSON.
type CampaignSpec struct {
	Audience  Audience           `json:"audience"`
	Channels  []Channel          `json:"channels"`
	Templates map[Channel]string `json:"templates"` // channel → reminder.templates name
	Variables map[string]string  `json:"variables"`
	Schedule  CampaignSchedule   `json:"schedule"`
	// QuietHours is "HH:MM-HH:MM" or "" for none.
	QuietHours string `json:"quiet_hours"`
	// Throttle is the campaign's sends per minute per channel. It may not
	// exceed reminder.throttle_per_minute; the dispatcher enforces the
	// configured, global per-channel cap (see docs/features/campaigns.md).
	Throttle map[Channel]int `json:"throttle_per_minute"`
	// HoldoutPermille is the share of the audience (‰, 0 to
	// MaxHoldoutPermille) left out at random as the control group of the
	// reminder effect: recorded, never sent (see HeldOut).
	HoldoutPermille int `json:"holdout_permille,omitempty"`
}

// Campaign is a marketer's reminder campaign.
type Campaign struct {
	ID        int64
	Name      string
	Status    CampaignStatus
	Spec      CampaignSpec
	NextRunAt *time.Time
	// Runs counts started runs; OpenRun is the run started and not yet
	// finished (0: none), reused when a paused or crashed run resumes so
	// its outbox key — and so its recipients — stay the same.
	Runs       int
	OpenRun    int
	LeaseUntil time.Time
	CreatedBy  string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Key is the outbox campaign key of one run.
func (c *Campaign) Key(run int) string { return fmt.Sprintf("%s%d", CampaignKeyPrefix(c.ID), run) }

// CampaignKeyPrefix is the outbox campaign key prefix of every run of id.
func CampaignKeyPrefix(id int64) string { return fmt.Sprintf("campaign:%d:", id) }

// CampaignConfig is what campaigns may use, from reminder.* configuration.
type CampaignConfig struct {
	Templates  map[string]MessageTemplate // reminder.templates by name
	Defaults   map[Channel]string         // reminder.auto_templates: a channel's template when the campaign names none
	Channels   []Channel                  // reminder.channels: the default order
	QuietHours string                     // reminder.quiet_hours: the default window
	Throttle   map[Channel]int            // reminder.throttle_per_minute: caps
	Tiers      []string                   // tier codes, lowest first
}

var varName = regexp.MustCompile(`^[a-zA-Z0-9_]{1,32}$`)

// violation turns a validation failure of a value that is well-formed but
// refused by a rule (a cron that never fires, a whole-day quiet window)
// into a 422 naming the field.
func violation(field, problem string) *domain.Error {
	return &domain.Error{Code: domain.RuleViolation, Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// normalize fills defaults and validates spec against cfg. quietSet tells
// whether the marketer gave quiet_hours ("" then means none).
func (cfg CampaignConfig) normalize(name string, spec *CampaignSpec, quietSet bool) error {
	if n := len([]rune(strings.TrimSpace(name))); n == 0 || n > 64 {
		return domain.FieldError("name", "required, at most 64 characters")
	}
	a := &spec.Audience
	if _, err := domain.ParsePointsOrZero("audience.min_points", a.MinPoints); err != nil {
		return err
	}
	switch {
	case a.ExpiringWithinDays < 0 || a.ExpiringWithinDays > 366:
		return domain.FieldError("audience.expiring_within_days", "must be from 0 to 366")
	case a.InactiveSinceDays < 0 || a.InactiveSinceDays > 3660:
		return domain.FieldError("audience.inactive_since_days", "must be from 0 to 3660")
	case len(a.Tiers) > 20 || len(a.StoreIDs) > 500:
		return domain.FieldError("audience", "at most 20 tiers and 500 stores")
	}
	for _, t := range a.Tiers {
		if !slices.Contains(cfg.Tiers, t) {
			return domain.FieldError("audience.tiers", fmt.Sprintf("unknown tier %q (want one of %s)", t, strings.Join(cfg.Tiers, ", ")))
		}
	}
	for _, id := range a.StoreIDs {
		if id <= 0 {
			return domain.FieldError("audience.store_ids", "store ids are positive")
		}
	}
	slices.Sort(a.Tiers)
	a.Tiers = slices.Compact(a.Tiers)
	slices.Sort(a.StoreIDs)
	a.StoreIDs = slices.Compact(a.StoreIDs)

	if len(spec.Channels) == 0 {
		spec.Channels = append([]Channel(nil), cfg.Channels...)
	}
	seen := map[Channel]bool{}
	for _, c := range spec.Channels {
		if _, err := ParseChannel(string(c)); err != nil {
			return domain.FieldError("channels", err.Error())
		}
		if seen[c] {
			return domain.FieldError("channels", fmt.Sprintf("channel %s listed twice", c))
		}
		seen[c] = true
	}

	if spec.Templates == nil {
		spec.Templates = map[Channel]string{}
	}
	for c, name := range spec.Templates {
		field := "templates." + string(c)
		if _, err := ParseChannel(string(c)); err != nil {
			return domain.FieldError(field, err.Error())
		}
		t, ok := cfg.Templates[name]
		switch {
		case !ok:
			return violation(field, fmt.Sprintf("no template %q in reminder.templates", name))
		case t.Channel != c:
			return violation(field, fmt.Sprintf("template %q is for channel %s", name, t.Channel))
		}
	}
	for _, c := range spec.Channels {
		if _, ok := spec.Templates[c]; !ok && cfg.Defaults[c] != "" {
			spec.Templates[c] = cfg.Defaults[c]
		}
	}

	if spec.Variables == nil {
		spec.Variables = map[string]string{}
	}
	if len(spec.Variables) > 20 {
		return domain.FieldError("variables", "at most 20")
	}
	for k, v := range spec.Variables {
		switch {
		case !varName.MatchString(k):
			return domain.FieldError("variables."+k, "names are 1–32 letters, digits or _")
		case slices.Contains(BuiltinVars, k):
			return domain.FieldError("variables."+k, "is a builtin variable, filled per member")
		case len([]rune(v)) > 200:
			return domain.FieldError("variables."+k, "at most 200 characters")
		}
	}
	for _, c := range spec.Channels {
		name, ok := spec.Templates[c]
		if !ok {
			continue
		}
		field := "templates." + string(c)
		t := cfg.Templates[name]
		if unknown := t.Unknown(spec.Variables); len(unknown) > 0 {
			return violation(field, fmt.Sprintf("template %q uses unknown variables: %s", name, strings.Join(unknown, ", ")))
		}
		if a.ExpiringWithinDays == 0 && slices.Contains(t.Placeholders(), "expire_date") {
			return violation(field, fmt.Sprintf("template %q uses {{expire_date}}, known only with audience.expiring_within_days", name))
		}
	}

	s := &spec.Schedule
	if s.OnceAt != nil && s.Cron != "" {
		return domain.FieldError("schedule", "either once_at or cron, not both")
	}
	if s.Cron != "" {
		if _, err := parseCampaignCron(s.Cron); err != nil {
			return err
		}
	}
	if s.OnceAt != nil {
		t := s.OnceAt.UTC().Truncate(time.Second)
		s.OnceAt = &t
	}

	if !quietSet {
		spec.QuietHours = cfg.QuietHours
	}
	q, err := parseCampaignQuiet(spec.QuietHours)
	if err != nil {
		return err
	}
	spec.QuietHours = q.String()

	if spec.HoldoutPermille < 0 || spec.HoldoutPermille > MaxHoldoutPermille {
		return domain.FieldError("holdout_permille", fmt.Sprintf("must be from 0 to %d (‰ of the audience left out)", MaxHoldoutPermille))
	}
	for c, n := range spec.Throttle {
		field := "throttle_per_minute." + string(c)
		if _, err := ParseChannel(string(c)); err != nil {
			return domain.FieldError(field, err.Error())
		}
		if n <= 0 {
			return domain.FieldError(field, "must be positive")
		}
		if limit := cfg.Throttle[c]; limit > 0 && n > limit {
			return violation(field, fmt.Sprintf("at most %d, the configured reminder.throttle_per_minute.%s", limit, c))
		}
	}
	return nil
}

// parseCampaignCron tells a malformed expression (400) from one that never
// fires or fires more than once a day (422): what a campaign may be saved
// or scheduled with.
func parseCampaignCron(expr string) (Cron, error) {
	c, err := parseCron(expr)
	if err == nil && tooOften(c.sched) {
		err = violation("schedule.cron", "fires more than once a day: every run reminds the same members again; at most daily (e.g. \"0 10 * * *\")")
	}
	return c, err
}

// parseCron is parseCampaignCron without the daily bound: a run that ends
// finds its next with it, so that a campaign saved before the bound still
// finishes its run.
func parseCron(expr string) (Cron, error) {
	s, err := cronParser.Parse("CRON_TZ=Asia/Shanghai " + expr)
	if err != nil || strings.HasPrefix(strings.TrimSpace(expr), "@") || strings.Contains(expr, "TZ=") {
		return Cron{}, domain.FieldError("schedule.cron", `must be "minute hour day month weekday"`)
	}
	if s.Next(time.Now()).IsZero() {
		return Cron{}, violation("schedule.cron", "never fires")
	}
	return Cron{Expr: expr, sched: s}, nil
}

// MinCronInterval is the least time between two runs of a repeating
// campaign. Each run reminds its whole audience again: a cron every
// minute sent each member a message a minute (on WeCom, the template and
// the robot, which no WeChat quota bounds), and runs held back by quiet
// hours all went out together when the window ended.
const MinCronInterval = 24 * time.Hour

// tooOften reports whether two firings of s within the coming year are
// closer than MinCronInterval (a cron's pattern repeats within a year;
// Asia/Shanghai has no daylight saving).
func tooOften(s cron.Schedule) bool {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, domain.Shanghai)
	prev := s.Next(from)
	for range 400 {
		next := s.Next(prev)
		if next.IsZero() || next.Sub(from) > 366*24*time.Hour {
			return false
		}
		if next.Sub(prev) < MinCronInterval {
			return true
		}
		prev = next
	}
	return false
}

// parseCampaignQuiet tells a malformed window (400) from a whole-day one
// (422).
func parseCampaignQuiet(s string) (QuietHours, error) {
	q, err := ParseQuietHours("quiet_hours", s)
	if err == nil {
		return q, nil
	}
	if a, b, ok := strings.Cut(strings.TrimSpace(s), "-"); ok {
		from, err1 := parseHHMM(a)
		to, err2 := parseHHMM(b)
		if err1 == nil && err2 == nil && from == to {
			return q, violation("quiet_hours", "covers the whole day: nothing could ever be sent")
		}
	}
	return q, err
}

// Quiet is the campaign's parsed quiet window.
func (s CampaignSpec) Quiet() QuietHours {
	q, _ := ParseQuietHours("quiet_hours", s.QuietHours) // validated on save
	return q
}

// sameAudience compares normalized audiences.
func sameAudience(a, b Audience) bool {
	norm := func(x Audience) Audience {
		if len(x.Tiers) == 0 {
			x.Tiers = nil
		}
		if len(x.StoreIDs) == 0 {
			x.StoreIDs = nil
		}
		return x
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// sameSpec reports whether two normalized specs are equal.
func sameSpec(a, b CampaignSpec) bool {
	na, nb := a, b
	na.Audience, nb.Audience = Audience{}, Audience{}
	return sameAudience(a.Audience, b.Audience) && reflect.DeepEqual(canon(na), canon(nb))
}

func canon(s CampaignSpec) CampaignSpec {
	if len(s.Variables) == 0 {
		s.Variables = nil
	}
	if len(s.Throttle) == 0 {
		s.Throttle = nil
	}
	if len(s.Templates) == 0 {
		s.Templates = nil
	}
	return s
}

// nextRun is when a campaign scheduled at now runs first: once_at (which
// must be in the future) or the cron's next firing.
func nextRun(s CampaignSchedule, now time.Time) (time.Time, error) {
	switch {
	case s.OnceAt != nil:
		if !s.OnceAt.After(now) {
			return time.Time{}, violation("schedule.once_at", "is in the past")
		}
		return *s.OnceAt, nil
	case s.Cron != "":
		c, err := parseCampaignCron(s.Cron)
		if err != nil {
			return time.Time{}, err
		}
		return c.Next(now).UTC(), nil
	}
	return time.Time{}, violation("schedule", "a campaign needs once_at or cron before it is scheduled")
}
