package guide

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

// problem is the field an Invalid error names, the code of any other
// error, or "" for nil.
func problem(err error) string {
	if err == nil {
		return ""
	}
	if de, ok := err.(*domain.Error); ok && de.Code == domain.Invalid && len(de.Fields) == 1 {
		for f := range de.Fields {
			return f
		}
	}
	return string(domain.ErrorCode(err))
}

func TestRebinding(t *testing.T) {
	bound := Binding{MemberID: 9, GuideID: 1, ExternalUserID: "wmA"}
	scene := Binding{MemberID: 9, GuideID: 1}
	cases := []struct {
		name     string
		rebind   Rebind
		cur      Binding
		found    bool
		guide    int64
		external string
		want     bindAction
	}{
		{"no guide yet, by scene", FirstWins, Binding{}, false, 1, "", bindAnew},
		{"no guide yet, by WeCom", FirstWins, Binding{}, false, 1, "wmA", bindAnew},
		{"the same guide's scene again", FirstWins, bound, true, 1, "", keep},
		{"the same guide adds the same contact again", FirstWins, bound, true, 1, "wmA", keep},
		{"the same guide, now on WeCom", FirstWins, scene, true, 1, "wmA", learnUserID},
		{"the same guide, another contact id", LastWins, bound, true, 1, "wmB", learnUserID},
		{"another guide, first wins", FirstWins, bound, true, 2, "wmB", keep},
		{"another guide's scene, first wins", FirstWins, bound, true, 2, "", keep},
		{"another guide, last wins", LastWins, bound, true, 2, "wmB", bindAnew},
		{"another guide's scene, last wins", LastWins, bound, true, 2, "", bindAnew},
		{"another guide, no rule set keeps the first", "", bound, true, 2, "wmB", keep},
	}
	for _, c := range cases {
		if got := (Rules{Rebind: c.rebind}).rebinding(c.cur, c.found, c.guide, c.external); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestSceneCode(t *testing.T) {
	cases := []struct {
		scene, want string
		ok          bool
	}{
		{"g:AB12", "AB12", true},
		{"g:" + strings.Repeat("x", 16), strings.Repeat("x", 16), true},
		{"g:" + strings.Repeat("x", 17), "", false},
		{"g:", "", false},
		{"x:AB12", "", false},
		{"AB12", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		got, ok := sceneCode(c.scene)
		if got != c.want || ok != c.ok {
			t.Errorf("sceneCode(%q) = %q, %v; want %q, %v", c.scene, got, ok, c.want, c.ok)
		}
	}
}

func TestGrantValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(r *GrantRequest)
		want string
	}{
		{"a grant", func(r *GrantRequest) {}, ""},
		{"no member", func(r *GrantRequest) { r.MemberID = 0 }, "member_id"},
		{"no points", func(r *GrantRequest) { r.Points = 0 }, "points"},
		{"negative points", func(r *GrantRequest) { r.Points = -5 }, "points"},
		{"the largest budget", func(r *GrantRequest) { r.Points = MaxBudget }, ""},
		{"above any budget", func(r *GrantRequest) { r.Points = MaxBudget + 1 }, "points"},
		{"a blank reason", func(r *GrantRequest) { r.Reason = "  " }, "reason"},
		{"a reason of 200 characters", func(r *GrantRequest) { r.Reason = strings.Repeat("谢", 200) }, ""},
		{"a reason of 201 characters", func(r *GrantRequest) { r.Reason = strings.Repeat("谢", 201) }, "reason"},
		{"no key", func(r *GrantRequest) { r.Key = "" }, "Idempotency-Key"},
		{"a key of 101 bytes", func(r *GrantRequest) { r.Key = strings.Repeat("k", 101) }, "Idempotency-Key"},
	}
	for _, c := range cases {
		r := GrantRequest{MemberID: 9, Points: 50, Reason: " 到店感谢 ", Key: "k1"}
		c.edit(&r)
		if got := problem(r.validate()); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	a := GrantRequest{MemberID: 9, Points: 50, Reason: "到店感谢"}
	b := a
	b.Key = "another key"
	if a.hash() != b.hash() {
		t.Error("the key changes the request's hash; a replay under another key is the same request")
	}
	for _, other := range []GrantRequest{{MemberID: 8, Points: 50, Reason: "到店感谢"}, {MemberID: 9, Points: 51, Reason: "到店感谢"}, {MemberID: 9, Points: 50, Reason: "到店"}} {
		if other.hash() == a.hash() {
			t.Errorf("%+v hashes as %+v", other, a)
		}
	}
}

func TestBudgetAndDailyCap(t *testing.T) {
	budget := []struct {
		budget, used, points int64
		want                 string
	}{
		{1000, 0, 1000, ""},
		{1000, 999, 1, ""},
		{1000, 999, 2, string(domain.RuleViolation)},
		{1000, 1200, 1, string(domain.RuleViolation)}, // the budget was lowered below what was used
		{0, 0, 1, string(domain.RuleViolation)},
	}
	for _, c := range budget {
		if got := problem(checkBudget(c.budget, c.used, c.points)); got != c.want {
			t.Errorf("budget %d used %d, grant %d: %q, want %q", c.budget, c.used, c.points, got, c.want)
		}
	}
	daily := []struct {
		limit, today, points int64
		want                 string
	}{
		{0, 1_000_000, 1_000_000, ""}, // no cap
		{200, 0, 200, ""},
		{200, 150, 50, ""},
		{200, 150, 51, string(domain.RuleViolation)},
		{200, 0, int64(domain.MaxPoints), string(domain.RuleViolation)},
		{200, int64(domain.MaxPoints), int64(domain.MaxPoints), string(domain.RuleViolation)}, // the sum overflows
	}
	for _, c := range daily {
		if got := problem((Rules{DailyCapPerCustomer: c.limit}).checkDailyCap(c.today, c.points)); got != c.want {
			t.Errorf("cap %d, %d today, grant %d: %q, want %q", c.limit, c.today, c.points, got, c.want)
		}
	}
}

func TestMonthOf(t *testing.T) {
	cases := []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 11, 30, 23, 59, 0, 0, domain.Shanghai), 202611},
		{time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), 202612}, // already December in Shanghai
		{time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), 202701},
	}
	for _, c := range cases {
		if got := monthOf(c.at); got != c.want {
			t.Errorf("monthOf(%s) = %d, want %d", c.at, got, c.want)
		}
	}
}

func TestStoreInputAndNames(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		name string
		in   StoreInput
		want string
	}{
		{"a name and a robot", StoreInput{Name: str(" 南京西路店 "), RobotKey: str(" key ")}, ""},
		{"nothing to change", StoreInput{}, ""},
		{"a blank name", StoreInput{Name: str("  ")}, "name"},
		{"a name of 65 characters", StoreInput{Name: str(strings.Repeat("店", 65))}, "name"},
		{"a robot key of 129 bytes", StoreInput{RobotKey: str(strings.Repeat("k", 129))}, "robot_key"},
	}
	for _, c := range cases {
		st := Store{Name: "old", RobotKey: "oldkey"}
		err := c.in.apply(&st)
		if got := problem(err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	st := Store{Name: "old", RobotKey: "oldkey"}
	_ = StoreInput{Name: str(" 南京西路店 ")}.apply(&st)
	if st.Name != "南京西路店" || st.RobotKey != "oldkey" {
		t.Errorf("a patch of the name gave %+v, want the name trimmed and the key kept", st)
	}
}

func TestThousands(t *testing.T) {
	cases := []struct {
		n    int64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {15600, "15,600"}, {1234567, "1,234,567"}, {-1000, "-1,000"}, {-999, "-999"},
	}
	for _, c := range cases {
		if got := thousands(c.n); got != c.want {
			t.Errorf("thousands(%d) = %s, want %s", c.n, got, c.want)
		}
	}
}

func TestRulesValidate(t *testing.T) {
	ok := Rules{Rebind: FirstWins, DailyCapPerCustomer: 500, PushWindowDays: 30, SummaryWindowDays: 7, PushText: "积分快过期了"}
	cases := []struct {
		name  string
		edit  func(*Rules)
		wants []string
	}{
		{"defaults", func(*Rules) {}, nil},
		{"last wins, a year, no cap", func(r *Rules) { r.Rebind, r.PushWindowDays, r.DailyCapPerCustomer = LastWins, MaxWindowDays, 0 }, nil},
		{"unknown rebind", func(r *Rules) { r.Rebind = "never" }, []string{"guides.rebind"}},
		{"empty windows and text", func(r *Rules) { r.PushWindowDays, r.SummaryWindowDays, r.PushText = 0, 367, "" },
			[]string{"guides.push_window_days", "guides.summary_window_days", "guides.push_text"}},
		{"negative cap", func(r *Rules) { r.DailyCapPerCustomer = -1 }, []string{"guides.daily_cap_per_customer"}},
		{"text past 4000 bytes", func(r *Rules) { r.PushText = strings.Repeat("积", 1334) }, []string{"guides.push_text"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			c.edit(&r)
			err := r.Validate("guides")
			if len(c.wants) == 0 {
				if err != nil {
					t.Fatalf("valid rules refused: %v", err)
				}
				return
			}
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.Invalid || len(de.Fields) != len(c.wants) {
				t.Fatalf("got %v, want Invalid naming %v", err, c.wants)
			}
			for _, f := range c.wants {
				if de.Fields[f] == "" {
					t.Fatalf("%s not named in %v", f, de.Fields)
				}
			}
		})
	}
}
