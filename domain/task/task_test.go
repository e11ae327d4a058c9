package task

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

var now = time.Date(2026, 11, 25, 10, 0, 0, 0, domain.Shanghai) // a Wednesday

func browseInput() Input {
	return Input{Type: "browse", Title: "逛逛新品", Period: "daily", Target: 3, Reward: 10, MinSeconds: 15, Page: "/pages/new", Status: Active}
}

// fields lists the fields an Invalid error names, sorted and joined by
// commas, "" for nil.
func fields(err error) string {
	if err == nil {
		return ""
	}
	de, ok := err.(*domain.Error)
	if !ok || de.Code != domain.Invalid {
		return "not invalid: " + err.Error()
	}
	var out []string
	for f := range de.Fields {
		out = append(out, f)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestInputValidate(t *testing.T) {
	from := now
	before, after := now.Add(-time.Second), now.Add(time.Second)
	cases := []struct {
		name string
		edit func(in *Input)
		want string // fields named, "" when valid
	}{
		{"a browse task", func(in *Input) {}, ""},
		{"a share task", func(in *Input) { in.Type, in.MinSeconds, in.Page = "share", 0, "" }, ""},
		{"a profile task of target 1", func(in *Input) { in.Type, in.MinSeconds, in.Target = "profile_complete", 0, 1 }, ""},
		{"a profile task of target 2", func(in *Input) { in.Type, in.MinSeconds, in.Target = "profile_complete", 0, 2 }, "target"},
		{"a follow task of target 3", func(in *Input) { in.Type, in.MinSeconds, in.Target = "follow_official_account", 0, 3 }, "target"},
		{"an unknown type", func(in *Input) { in.Type = "like" }, "min_seconds,type"},
		{"an empty title", func(in *Input) { in.Title = "  " }, "title"},
		{"a title of 64 characters", func(in *Input) { in.Title = strings.Repeat("任", 64) }, ""},
		{"a title of 65 characters", func(in *Input) { in.Title = strings.Repeat("任", 65) }, "title"},
		{"monthly", func(in *Input) { in.Period = "monthly" }, "period"},
		{"target 0", func(in *Input) { in.Target = 0 }, "target"},
		{"target 100", func(in *Input) { in.Target = 100 }, ""},
		{"target 101", func(in *Input) { in.Target = 101 }, "target"},
		{"no reward", func(in *Input) { in.Reward = 0 }, "reward_points"},
		{"the largest reward", func(in *Input) { in.Reward = maxReward }, ""},
		{"a reward a point too large", func(in *Input) { in.Reward = maxReward + 1 }, "reward_points"},
		{"browse without seconds", func(in *Input) { in.MinSeconds = 0 }, "min_seconds"},
		{"browse for an hour", func(in *Input) { in.MinSeconds = 3600 }, ""},
		{"browse for an hour and a second", func(in *Input) { in.MinSeconds = 3601 }, "min_seconds"},
		{"browse without a page", func(in *Input) { in.Page = "" }, "page"},
		{"a share task with seconds", func(in *Input) { in.Type, in.Page = "share", "" }, "min_seconds"},
		{"a page of 129 characters", func(in *Input) { in.Page = strings.Repeat("p", 129) }, "page"},
		{"valid to before valid from", func(in *Input) { in.ValidFrom, in.ValidTo = &from, &before }, "valid_to"},
		{"valid to at valid from", func(in *Input) { in.ValidFrom, in.ValidTo = &from, &from }, "valid_to"},
		{"valid to after valid from", func(in *Input) { in.ValidFrom, in.ValidTo = &from, &after }, ""},
		{"deleted", func(in *Input) { in.Status = Deleted }, "status"},
		{"paused", func(in *Input) { in.Status = Paused }, ""},
		{"everything wrong at once", func(in *Input) { *in = Input{Type: "browse"} },
			"min_seconds,page,period,reward_points,status,target,title"},
	}
	for _, c := range cases {
		in := browseInput()
		c.edit(&in)
		if got := fields(in.Validate()); got != c.want {
			t.Errorf("%s: fields %q, want %q", c.name, got, c.want)
		}
	}
}

func TestLive(t *testing.T) {
	before, after := now.Add(-time.Second), now.Add(time.Second)
	cases := []struct {
		name     string
		status   string
		from, to *time.Time
		want     bool
	}{
		{"active, no window", Active, nil, nil, true},
		{"paused", Paused, nil, nil, false},
		{"deleted", Deleted, nil, nil, false},
		{"starting now", Active, &now, nil, true},
		{"starting in a second", Active, &after, nil, false},
		{"ending in a second", Active, nil, &after, true},
		{"ending now", Active, nil, &now, false},
		{"ended a second ago", Active, &before, &before, false},
		{"inside its window", Active, &before, &after, true},
	}
	for _, c := range cases {
		tk := Task{Status: c.status, ValidFrom: c.from, ValidTo: c.to}
		if got := tk.Live(now); got != c.want {
			t.Errorf("%s: Live = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPeriodKey(t *testing.T) {
	cases := []struct {
		period Period
		at     time.Time
		want   string
	}{
		{Once, now, "once"},
		{Daily, now, "d20261125"},
		{Daily, time.Date(2026, 11, 25, 16, 30, 0, 0, time.UTC), "d20261126"}, // past midnight in Shanghai
		{Weekly, now, "w2026-48"},
		{Weekly, time.Date(2026, 11, 29, 16, 30, 0, 0, time.UTC), "w2026-49"}, // Sunday in UTC, Monday in Shanghai
		{Weekly, time.Date(2027, 1, 1, 12, 0, 0, 0, domain.Shanghai), "w2026-53"},
		{Weekly, time.Date(2027, 1, 4, 0, 0, 0, 0, domain.Shanghai), "w2027-01"},
		{"", now, "once"},
	}
	for _, c := range cases {
		tk := Task{Period: c.period}
		if got := tk.PeriodKey(c.at); got != c.want {
			t.Errorf("PeriodKey(%s at %s) = %s, want %s", c.period, c.at, got, c.want)
		}
	}
}

func TestView(t *testing.T) {
	claimed := now
	tk := Task{ID: 1, Target: 3}
	cases := []struct {
		name      string
		p         Progress
		wantState State
		wantShown int
	}{
		{"nothing done", Progress{}, Todo, 0},
		{"one step of three", Progress{Count: 1}, InProgress, 1},
		{"at target", Progress{Count: 3}, Claimable, 3},
		{"above target is shown at target", Progress{Count: 5}, Claimable, 3},
		{"claimed", Progress{Count: 3, ClaimedAt: &claimed}, Claimed, 3},
		{"claimed wins over counts", Progress{Count: 0, ClaimedAt: &claimed}, Claimed, 0},
	}
	for _, c := range cases {
		v := view(tk, "d20261125", c.p)
		if v.State != c.wantState || v.Progress != c.wantShown || v.Period != "d20261125" || v.ClaimedAt != c.p.ClaimedAt {
			t.Errorf("%s: %s %d/%d, want %s %d", c.name, v.State, v.Progress, tk.Target, c.wantState, c.wantShown)
		}
	}
}

func TestBrowseToken(t *testing.T) {
	s := &Service{TokenKey: []byte("k1")}
	c := startClaims{MemberID: 7, TaskID: 3, Period: "d20261125", Start: now.Add(-20 * time.Second), Nonce: "n0nce"}
	tok := s.sign(c)
	got, err := s.parse(tok)
	if err != nil || got.MemberID != 7 || got.TaskID != 3 || got.Period != "d20261125" || !got.Start.Equal(c.Start) || got.Nonce != "n0nce" {
		t.Fatalf("parse(sign(c)) = %+v, %v; want %+v", got, err, c)
	}
	p64, m64, _ := strings.Cut(tok, ".")
	enc := base64.RawURLEncoding.EncodeToString
	forged := []struct{ name, token string }{
		{"another key", (&Service{TokenKey: []byte("k2")}).sign(c)},
		{"another member, same mac", enc([]byte("8.3.d20261125.1.n0nce")) + "." + m64},
		{"no mac", p64},
		{"mac not base64", p64 + ".!!"},
		{"too long", p64 + "." + m64 + strings.Repeat("A", 512)},
		{"four fields, signed", (&Service{TokenKey: []byte("k1")}).signRaw("7.3.d20261125.1")},
		{"a member that is no number, signed", (&Service{TokenKey: []byte("k1")}).signRaw("x.3.d20261125.1.n")},
		{"empty", ""},
	}
	for _, f := range forged {
		if _, err := s.parse(f.token); err != errForged {
			t.Errorf("%s: parse answered %v, want the forged-token error", f.name, err)
		}
	}
}

// signRaw MACs an arbitrary payload as sign does, to build well-signed
// tokens with malformed payloads.
func (s *Service) signRaw(payload string) string {
	mac := hmac.New(sha256.New, s.TokenKey)
	mac.Write([]byte(payload))
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(payload)) + "." + enc(mac.Sum(nil))
}

func TestSpendable(t *testing.T) {
	tk := &Task{ID: 3, Type: Browse, Period: Daily, MinSeconds: 15}
	ok := startClaims{MemberID: 7, TaskID: 3, Period: "d20261125", Start: now.Add(-15 * time.Second)}
	cases := []struct {
		name string
		edit func(c *startClaims, tk *Task)
		want string // "" spendable, else the field or code
	}{
		{"fifteen seconds on the page", func(c *startClaims, tk *Task) {}, ""},
		{"fourteen seconds", func(c *startClaims, tk *Task) { c.Start = now.Add(-14 * time.Second) }, string(domain.RuleViolation)},
		{"another member", func(c *startClaims, tk *Task) { c.MemberID = 8 }, "token"},
		{"another task", func(c *startClaims, tk *Task) { c.TaskID = 4 }, "token"},
		{"a task no longer browse", func(c *startClaims, tk *Task) { tk.Type = Share }, "token"},
		{"yesterday's token", func(c *startClaims, tk *Task) { c.Period = "d20261124" }, string(domain.RuleViolation)},
	}
	for _, c := range cases {
		cl, task := ok, *tk
		c.edit(&cl, &task)
		err := cl.spendable(7, &task, now)
		got := ""
		if err != nil {
			got = string(domain.ErrorCode(err))
			if f := fields(err); !strings.HasPrefix(f, "not invalid") {
				got = f
			}
		}
		if got != c.want {
			t.Errorf("%s: %q (%v), want %q", c.name, got, err, c.want)
		}
	}
}
