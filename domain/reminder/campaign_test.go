package reminder

import (
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

func TestCampaignSpecValidation(t *testing.T) {
	cfg := CampaignConfig{Channels: []Channel{Subscribe, Robot}, QuietHours: "21:00-09:00", Tiers: []string{"normal", "gold"},
		Throttle: map[Channel]int{Robot: 20}, Defaults: map[Channel]string{Robot: "robot"},
		Templates: map[string]MessageTemplate{
			"robot":  {Channel: Robot, Text: "{{nickname}} {{points}}"},
			"coupon": {Channel: Subscribe, WeChatID: "t", Fields: map[string]string{"a": "{{coupon}} {{points}}"}},
		}}
	cases := []struct {
		name  string
		spec  CampaignSpec
		quiet *string
		code  domain.Code
		field string
	}{
		{"defaults", CampaignSpec{}, nil, "", ""},
		{"whole day quiet", CampaignSpec{}, ptr("09:00-09:00"), domain.RuleViolation, "quiet_hours"},
		{"no quiet", CampaignSpec{}, ptr(""), "", ""},
		{"bad quiet", CampaignSpec{}, ptr("9-10"), domain.Invalid, "quiet_hours"},
		{"cron never fires", CampaignSpec{Schedule: CampaignSchedule{Cron: "0 0 31 2 *"}}, nil, domain.RuleViolation, "schedule.cron"},
		{"cron descriptor", CampaignSpec{Schedule: CampaignSchedule{Cron: "@hourly"}}, nil, domain.Invalid, "schedule.cron"},
		{"unknown variable", CampaignSpec{Templates: map[Channel]string{Subscribe: "coupon"}}, nil, domain.RuleViolation, "templates.subscribe"},
		{"variable given", CampaignSpec{Templates: map[Channel]string{Subscribe: "coupon"}, Variables: map[string]string{"coupon": "券"}}, nil, "", ""},
		{"wrong channel", CampaignSpec{Templates: map[Channel]string{Subscribe: "robot"}}, nil, domain.RuleViolation, "templates.subscribe"},
		{"duplicate channel", CampaignSpec{Channels: []Channel{Robot, Robot}}, nil, domain.Invalid, "channels"},
		{"throttle above config", CampaignSpec{Throttle: map[Channel]int{Robot: 21}}, nil, domain.RuleViolation, "throttle_per_minute.robot"},
		{"throttle zero", CampaignSpec{Throttle: map[Channel]int{Robot: 0}}, nil, domain.Invalid, "throttle_per_minute.robot"},
		{"negative min", CampaignSpec{Audience: Audience{MinPoints: -1}}, nil, domain.Invalid, "audience.min_points"},
	}
	for _, tc := range cases {
		spec := tc.spec
		quietSet := tc.quiet != nil
		if quietSet {
			spec.QuietHours = *tc.quiet
		}
		err := cfg.normalize("name", &spec, quietSet)
		if domain.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			continue
		}
		if e, ok := err.(*domain.Error); ok && e.Fields[tc.field] == "" {
			t.Errorf("%s: fields %v, want %s", tc.name, e.Fields, tc.field)
		}
		if tc.name == "defaults" && (spec.QuietHours != "21:00-09:00" || len(spec.Channels) != 2 || spec.Templates[Robot] != "robot") {
			t.Errorf("defaults not filled: %+v", spec)
		}
	}
}

func TestNextRun(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai)
	past, future := now.Add(-time.Minute), now.Add(time.Minute)
	if _, err := nextRun(CampaignSchedule{OnceAt: &past}, now); domain.ErrorCode(err) != domain.RuleViolation {
		t.Fatalf("past once_at: %v", err)
	}
	if got, err := nextRun(CampaignSchedule{OnceAt: &future}, now); err != nil || !got.Equal(future) {
		t.Fatalf("future once_at: %v %v", got, err)
	}
	if got, err := nextRun(CampaignSchedule{Cron: "30 9 * * *"}, now); err != nil || !got.Equal(time.Date(2026, 11, 24, 9, 30, 0, 0, domain.Shanghai)) {
		t.Fatalf("cron: %v %v", got, err)
	}
	if _, err := nextRun(CampaignSchedule{}, now); domain.ErrorCode(err) != domain.RuleViolation {
		t.Fatalf("no schedule: %v", err)
	}
}

func ptr(s string) *string { return &s }
