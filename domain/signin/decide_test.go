package signin_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/signin"
)

func day(s string) domain.Day {
	d, err := domain.ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

func code(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := err.(*domain.Error); ok {
		return string(e.Code)
	}
	return err.Error()
}

func TestDecideSignIn(t *testing.T) {
	r := signin.Rewards{Base: 10, Cycle: 7, Ladder: []signin.Step{{Day: 3, Bonus: 5}, {Day: 7, Multiplier: 2000}},
		TierPermille: map[string]int64{"gold": 1500}, MakeupsPerMonth: 2, MakeupCost: 20}
	// 2026-12-06 01:00 in Shanghai is still 2026-12-05 17:00 UTC.
	now := time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		m      signin.Member
		streak int
		points int64
		lines  int
		err    string
	}{
		{"first day", signin.Member{ID: 1, Tier: "normal"}, 1, 10, 1, ""},
		{"third day earns the bonus", signin.Member{ID: 1, Yesterday: 2, Tier: "normal"}, 3, 15, 2, ""},
		{"seventh day doubles", signin.Member{ID: 1, Yesterday: 6, Tier: "normal"}, 7, 20, 2, ""},
		{"the cycle restarts", signin.Member{ID: 1, Yesterday: 7, Tier: "normal"}, 8, 10, 1, ""},
		{"gold multiplies the whole reward", signin.Member{ID: 1, Yesterday: 2, Tier: "gold"}, 3, 22, 3, ""},
		{"today taken", signin.Member{ID: 1, Taken: true, Yesterday: 4}, 0, 0, 0, string(domain.AlreadySignedIn)},
	}
	for _, c := range cases {
		rec, lines, err := r.Decide(c.m, now)
		if code(err) != c.err {
			t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if rec.MemberID != 1 || rec.Day != day("2026-12-06") || rec.Streak != c.streak || rec.Points != c.points ||
			len(lines) != c.lines || signin.Total(lines) != rec.Points || !rec.CreatedAt.Equal(now) || rec.Makeup {
			t.Errorf("%s: %+v %v, want streak %d points %d in %d lines", c.name, rec, lines, c.streak, c.points, c.lines)
		}
	}
}

func TestMakeupRules(t *testing.T) {
	today := day("2026-12-06")
	for _, c := range []struct {
		day, err string
	}{
		{"2026-12-05", ""},
		{"2026-12-01", ""},
		{"2026-12-06", string(domain.RuleViolation)}, // today
		{"2026-12-07", string(domain.RuleViolation)}, // the future
		{"2026-11-30", string(domain.RuleViolation)}, // last month
	} {
		if err := signin.MakeupDay(day(c.day), today, domain.Day{}); code(err) != c.err {
			t.Errorf("make-up of %s: %v, want %q", c.day, err, c.err)
		}
	}
	// A member who joined on the 3rd: the 3rd and later, never before.
	for d, want := range map[string]string{"2026-12-02": string(domain.RuleViolation), "2026-12-03": "", "2026-12-05": ""} {
		if err := signin.MakeupDay(day(d), today, day("2026-12-03")); code(err) != want {
			t.Errorf("make-up of %s by a member who joined on 12-03: %v, want %q", d, err, want)
		}
	}
	r := signin.Rewards{MakeupsPerMonth: 2, MakeupCost: 20}
	signed := signin.Record{Day: day("2026-12-02")}
	madeUp := signin.Record{Day: day("2026-12-03"), Makeup: true}
	for _, c := range []struct {
		name  string
		month []signin.Record
		day   string
		err   string
		left  int
	}{
		{"nothing signed", nil, "2026-12-01", "", 2},
		{"a signed day", []signin.Record{signed}, "2026-12-02", string(domain.AlreadySignedIn), 2},
		{"one make-up used", []signin.Record{signed, madeUp}, "2026-12-04", "", 1},
		{"none left", []signin.Record{madeUp, {Day: day("2026-12-04"), Makeup: true}}, "2026-12-05", string(domain.RuleViolation), 0},
		{"a made-up day is signed", []signin.Record{madeUp}, "2026-12-03", string(domain.AlreadySignedIn), 1},
	} {
		if err := r.AllowMakeup(c.month, day(c.day)); code(err) != c.err {
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		}
		if left := r.MakeupsLeft(c.month); left != c.left {
			t.Errorf("%s: %d make-ups left, want %d", c.name, left, c.left)
		}
	}
}

func TestRenumberAndCurrentStreak(t *testing.T) {
	rows := func(days ...string) []signin.Record {
		var out []signin.Record
		for _, d := range days {
			out = append(out, signin.Record{MemberID: 1, Day: day(d), Streak: 1})
		}
		return out
	}
	today := day("2026-12-10")
	for _, c := range []struct {
		name    string
		later   []signin.Record
		changed string
		next    string
		streak  int
		current int
	}{
		{"nothing after", nil, "[]", "2026-12-04", 3, 0},
		{"a gap right after", rows("2026-12-06"), "[]", "2026-12-04", 3, 0},
		{"a run then a gap", rows("2026-12-04", "2026-12-05", "2026-12-08"), "[2026-12-04:4 2026-12-05:5]", "2026-12-06", 5, 0},
		{"a run to yesterday", rows("2026-12-04", "2026-12-05", "2026-12-06", "2026-12-07", "2026-12-08", "2026-12-09"), "[2026-12-04:4 2026-12-05:5 2026-12-06:6 2026-12-07:7 2026-12-08:8 2026-12-09:9]", "2026-12-10", 9, 9},
		{"a run to today", rows("2026-12-04", "2026-12-05", "2026-12-06", "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"), "[2026-12-04:4 2026-12-05:5 2026-12-06:6 2026-12-07:7 2026-12-08:8 2026-12-09:9 2026-12-10:10]", "2026-12-11", 10, 10},
	} {
		changed, next, streak := signin.Renumber(day("2026-12-04"), 3, c.later)
		var got []string
		for _, r := range changed {
			got = append(got, fmt.Sprintf("%s:%d", r.Day, r.Streak))
		}
		if s := fmt.Sprint(got); s != c.changed || next != day(c.next) || streak != c.streak {
			t.Errorf("%s: %s, next %s streak %d; want %s, %s, %d", c.name, s, next, streak, c.changed, c.next, c.streak)
		}
		if cur := signin.CurrentStreak(next, streak, today); cur != c.current {
			t.Errorf("%s: current streak %d, want %d", c.name, cur, c.current)
		}
	}
}
