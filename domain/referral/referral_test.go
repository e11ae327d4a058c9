package referral

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

var rules = Rules{Window: 72 * time.Hour, Phone: Amounts{Inviter: 100, SecondLevel: 20}, FirstOrder: Amounts{Inviter: 300, SecondLevel: 0}, DailyCap: 1000}

func TestParseCode(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"ABC234", "ABC234", true},
		{" abc234 ", "ABC234", true}, // case and space do not matter
		{"ZZZZZZ", "ZZZZZZ", true},
		{"ABC23", "", false},   // five characters
		{"ABC2345", "", false}, // seven
		{"ABC0DE", "", false},  // 0 is not in the alphabet
		{"ABCODE", "", false},  // nor O
		{"ABC1DE", "", false},  // nor 1
		{"ABCIDE", "", false},  // nor I
		{"ABCLDE", "", false},  // nor L
		{"AB-2DE", "", false},
		{"码码", "", false}, // six bytes, not six characters of the alphabet
		{"", "", false},
	}
	for _, c := range cases {
		got, err := ParseCode(c.in)
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("ParseCode(%q) = %q, %v; want %q ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil {
			if de, ok := err.(*domain.Error); !ok || de.Code != domain.Invalid || de.Fields["code"] == "" {
				t.Errorf("ParseCode(%q): %v, want an Invalid error naming code", c.in, err)
			}
		}
	}
	for i := 0; i < 200; i++ {
		code, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if back, err := ParseCode(code); err != nil || back != code {
			t.Fatalf("NewCode gave %q, which parses as %q, %v", code, back, err)
		}
	}
	if strings.ContainsAny(Alphabet, "01ILO") {
		t.Errorf("the alphabet holds an ambiguous character: %s", Alphabet)
	}
}

func TestInWindow(t *testing.T) {
	joined := time.Date(2026, 11, 20, 10, 0, 0, 0, domain.Shanghai)
	cases := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"at once", joined, true},
		{"on the window's last second", joined.Add(72 * time.Hour), true},
		{"a second after the window", joined.Add(72*time.Hour + time.Second), false},
		{"a week later", joined.AddDate(0, 0, 7), false},
	}
	for _, c := range cases {
		err := rules.inWindow(joined, c.now)
		if (err == nil) != c.ok || (err != nil && domain.ErrorCode(err) != domain.RuleViolation) {
			t.Errorf("%s: %v, want ok=%v (else RULE_VIOLATION)", c.name, err, c.ok)
		}
	}
}

func TestShares(t *testing.T) {
	cases := []struct {
		name string
		b    Binding
		e    Event
		want []share
	}{
		{"a phone bound, two levels", Binding{InviteeID: 9, InviterID: 5, Parent2ID: 2}, EventPhone, []share{
			{1, 5, 100, "ref:phone:9", "邀请好友奖励"},
			{2, 2, 20, "ref:phone:9:l2", "二级邀请奖励"},
		}},
		{"a phone bound, no second level", Binding{InviteeID: 9, InviterID: 5}, EventPhone, []share{
			{1, 5, 100, "ref:phone:9", "邀请好友奖励"},
		}},
		{"a first order pays the second level nothing", Binding{InviteeID: 9, InviterID: 5, Parent2ID: 2}, EventOrder, []share{
			{1, 5, 300, "ref:order:9", "邀请好友奖励"},
		}},
	}
	for _, c := range cases {
		if got := rules.shares(c.b, c.e); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	if got := (Rules{}).shares(Binding{InviteeID: 9, InviterID: 5, Parent2ID: 2}, EventPhone); len(got) != 0 {
		t.Errorf("rules of no points pay %+v, want nothing", got)
	}
}

func TestStatus(t *testing.T) {
	cases := []struct {
		name      string
		cap       int64
		flagged   bool
		paidToday int64
		points    int64
		want      string
	}{
		{"nothing paid today", 1000, false, 0, 100, StatusPaid},
		{"reaching the cap exactly", 1000, false, 900, 100, StatusPaid},
		{"a point over the cap", 1000, false, 901, 100, StatusCapped},
		{"one reward above the cap alone", 1000, false, 0, 1001, StatusCapped},
		{"no cap", 0, false, 1_000_000, 100, StatusPaid},
		{"a flagged pair", 1000, true, 0, 100, StatusFlagged},
		{"a flagged pair past the cap", 1000, true, 1000, 100, StatusFlagged},
	}
	for _, c := range cases {
		r := rules
		r.DailyCap = c.cap
		if got := r.status(c.flagged, c.paidToday, c.points); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestRulesText(t *testing.T) {
	s := &Service{Rules: rules}
	got := s.RulesText()
	for _, want := range []string{"72 小时内", "您得 100 积分", "您得 300 积分", "另得 20 / 0 积分", "最多 1000 积分"} {
		if !strings.Contains(got, want) {
			t.Errorf("RulesText lacks %q: %s", want, got)
		}
	}
	s.Rules.DailyCap = 0
	if got := s.RulesText(); strings.Contains(got, "最多") {
		t.Errorf("RulesText names a cap when there is none: %s", got)
	}
}
