package leaderboard

import (
	"reflect"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

func TestWeek(t *testing.T) {
	cases := []struct {
		at         time.Time
		wantMonday domain.Day
		wantName   string
	}{
		{time.Date(2026, 11, 23, 0, 0, 0, 0, domain.Shanghai), domain.Day{Year: 2026, Month: 11, Day: 23}, "2026-W48"},
		{time.Date(2026, 11, 29, 23, 59, 59, 0, domain.Shanghai), domain.Day{Year: 2026, Month: 11, Day: 23}, "2026-W48"},
		// Sunday 16:30 in UTC is Monday 00:30 in Shanghai: the next week.
		{time.Date(2026, 11, 29, 16, 30, 0, 0, time.UTC), domain.Day{Year: 2026, Month: 11, Day: 30}, "2026-W49"},
		// 1 January 2027 is a Friday: ISO week 53 of 2026.
		{time.Date(2027, 1, 1, 12, 0, 0, 0, domain.Shanghai), domain.Day{Year: 2026, Month: 12, Day: 28}, "2026-W53"},
		// 31 December 2029 is a Monday: ISO week 1 of 2030.
		{time.Date(2029, 12, 31, 8, 0, 0, 0, domain.Shanghai), domain.Day{Year: 2029, Month: 12, Day: 31}, "2030-W01"},
	}
	for _, c := range cases {
		monday, name := Week(c.at)
		if monday != c.wantMonday || name != c.wantName {
			t.Errorf("Week(%s) = %s %s, want %s %s", c.at, monday, name, c.wantMonday, c.wantName)
		}
		if got := WeekPeriod(c.at); got != c.wantName {
			t.Errorf("WeekPeriod(%s) = %s, want %s", c.at, got, c.wantName)
		}
	}
}

func TestPeriods(t *testing.T) {
	at := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC) // 1 December in Shanghai
	if got := DayPeriod(at); got != "20261201" {
		t.Errorf("DayPeriod = %s, want 20261201 (the Shanghai day)", got)
	}
	if got := (Func{BoardName: "invites"}).Period(at); got != "all" {
		t.Errorf("a Func without PeriodOf names period %q, want all", got)
	}
	if got := (Func{BoardName: "x", PeriodOf: DayPeriod}).Period(at); got != "20261201" {
		t.Errorf("a Func with PeriodOf names period %q, want 20261201", got)
	}
	if got := key(Func{BoardName: "points_week", PeriodOf: WeekPeriod}, at); got != "points_week:2026-W49" {
		t.Errorf("key = %s, want points_week:2026-W49", got)
	}
}

func TestRankAndTop(t *testing.T) {
	scores := map[int64]int64{1: 50, 2: 80, 3: 50, 4: 0, 5: -10, 6: 100, 7: 50}
	// Score descending, ties by member id descending, 0 and below left out.
	want := []Entry{{6, 100, 1}, {2, 80, 2}, {7, 50, 3}, {3, 50, 4}, {1, 50, 5}}
	if got := Rank(scores); !reflect.DeepEqual(got, want) {
		t.Fatalf("Rank = %v, want %v", got, want)
	}
	if got := Rank(nil); len(got) != 0 {
		t.Errorf("Rank(nil) = %v, want nothing", got)
	}
	cases := []struct {
		name    string
		member  int64
		limit   int
		wantTop []Entry
		wantMe  Entry
	}{
		{"the leader, top 3", 6, 3, want[:3], Entry{6, 100, 1}},
		{"ranked below the top shown", 1, 2, want[:2], Entry{1, 50, 5}},
		{"a limit beyond the board", 3, 100, want, Entry{3, 50, 4}},
		{"a member with score 0 is unranked", 4, 3, want[:3], Entry{MemberID: 4}},
		{"a member not on the board", 99, 1, want[:1], Entry{MemberID: 99}},
	}
	for _, c := range cases {
		top, me := topOf(scores, c.member, c.limit)
		if !reflect.DeepEqual(top, c.wantTop) || me != c.wantMe {
			t.Errorf("%s: top %v me %v, want %v me %v", c.name, top, me, c.wantTop, c.wantMe)
		}
	}
}

func TestMaskName(t *testing.T) {
	cases := []struct{ name, want string }{
		{"张三丰", "张**"},
		{"张", "张**"},
		{"  Alice ", "A**"},
		{"😀smile", "😀**"},
		{"", "微信用户"},
		{"   ", "微信用户"},
	}
	for _, c := range cases {
		if got := MaskName(c.name); got != c.want {
			t.Errorf("MaskName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestRegisterAndNames(t *testing.T) {
	s := &Service{}
	s.Register(Func{BoardName: "streak"})
	s.Register(Func{BoardName: "invites"})
	if got := s.Names(); !reflect.DeepEqual(got, []string{"invites", "streak"}) {
		t.Errorf("Names = %v, want [invites streak]", got)
	}
	if _, err := s.board("points"); domain.ErrorCode(err) != domain.NotFound {
		t.Errorf("an unknown board: %v, want NOT_FOUND", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	s.Register(Func{BoardName: "streak"})
}
