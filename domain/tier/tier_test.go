package tier

import (
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

// levels: growth in yuan, price in points; gold cannot be bought.
var levels = []Level{
	{Code: "normal", Name: "普通", Growth: 0},
	{Code: "silver", Name: "银卡", Growth: 1000, Price: 500},
	{Code: "gold", Name: "金卡", Growth: 5000},
	{Code: "diamond", Name: "钻石", Growth: 20000, Price: 3000},
}

var (
	svc = &Service{Levels: levels}
	t0  = time.Date(2026, 3, 1, 10, 0, 0, 0, domain.Shanghai)
)

func TestForGrowthAndRank(t *testing.T) {
	cases := []struct {
		fen  int64
		want string
	}{
		{0, "normal"},
		{99_999, "normal"}, // 999.99 yuan: growth counts whole yuan
		{100_000, "silver"},
		{499_999, "silver"},
		{500_000, "gold"},
		{1_999_999, "gold"},
		{2_000_000, "diamond"},
		{int64(domain.MaxFen), "diamond"},
	}
	for _, c := range cases {
		if got := svc.Levels[svc.forGrowth(c.fen)].Code; got != c.want {
			t.Errorf("forGrowth(%d fen) = %s, want %s", c.fen, got, c.want)
		}
	}
	for i, l := range levels {
		if got := svc.rank(l.Code); got != i {
			t.Errorf("rank(%s) = %d, want %d", l.Code, got, i)
		}
	}
	if got := svc.rank("platinum"); got != 0 {
		t.Errorf("a level no longer configured ranks %d, want 0 (the first level)", got)
	}
}

func TestWeekOf(t *testing.T) {
	cases := []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 11, 23, 0, 0, 0, 0, domain.Shanghai), 20261123},   // a Monday
		{time.Date(2026, 11, 29, 23, 59, 0, 0, domain.Shanghai), 20261123}, // its Sunday night
		{time.Date(2026, 11, 30, 0, 0, 0, 0, domain.Shanghai), 20261130},   // the next Monday
		{time.Date(2026, 11, 29, 16, 30, 0, 0, time.UTC), 20261130},        // Sunday in UTC, Monday in Shanghai
		{time.Date(2027, 1, 1, 12, 0, 0, 0, domain.Shanghai), 20261228},    // a Friday: the week began last year
	}
	for _, c := range cases {
		if got := weekOf(c.at); got != c.want {
			t.Errorf("weekOf(%s) = %d, want %d", c.at, got, c.want)
		}
	}
}

func TestCountPaid(t *testing.T) {
	cases := []struct {
		name                 string
		st                   State
		monday               int
		want                 int64
		wantStart, wantCount int64
	}{
		{"the first order ever", State{}, 20261123, 1, 20261123, 1},
		{"a second order in the week", State{PaidOrders: 1, WeekStart: 20261123, WeekOrders: 1}, 20261123, 2, 20261123, 2},
		{"the first order of a new week", State{PaidOrders: 5, WeekStart: 20261116, WeekOrders: 4}, 20261123, 1, 20261123, 1},
		{"a late order of an earlier week", State{PaidOrders: 5, WeekStart: 20261123, WeekOrders: 3}, 20261116, 1, 20261123, 3},
	}
	for _, c := range cases {
		st := c.st
		got := countPaid(&st, c.monday)
		if got != c.want || int64(st.WeekStart) != c.wantStart || st.WeekOrders != c.wantCount || st.PaidOrders != c.st.PaidOrders+1 {
			t.Errorf("%s: counted %d, week %d has %d, %d paid; want %d, week %d has %d, %d paid",
				c.name, got, st.WeekStart, st.WeekOrders, st.PaidOrders, c.want, c.wantStart, c.wantCount, c.st.PaidOrders+1)
		}
	}
}

func TestGrow(t *testing.T) {
	later := t0.Add(time.Hour)
	cases := []struct {
		name        string
		level       string
		growthFen   int64
		delta       int64
		wantLevel   string
		wantGrowth  int64
		wantReached time.Time
	}{
		{"below the next threshold", "normal", 50_000, 49_999, "normal", 99_999, t0},
		{"reaching silver exactly", "normal", 50_000, 50_000, "silver", 100_000, later},
		{"skipping silver to gold", "normal", 0, 600_000, "gold", 600_000, later},
		{"a refund never moves down", "gold", 500_000, -450_000, "gold", 50_000, t0},
		{"a refund beyond growth stops at zero", "silver", 100_000, -300_000, "silver", 0, t0},
		{"a bought level above growth stays", "diamond", 100_000, 100_000, "diamond", 200_000, t0},
		{"growth reaching the level already held", "silver", 0, 100_000, "silver", 100_000, t0},
	}
	for _, c := range cases {
		st := State{Level: c.level, GrowthFen: c.growthFen, ReachedAt: t0, UpdatedAt: t0}
		svc.grow(&st, c.delta, later)
		if st.Level != c.wantLevel || st.GrowthFen != c.wantGrowth || !st.ReachedAt.Equal(c.wantReached) || !st.UpdatedAt.Equal(later) {
			t.Errorf("%s: %s growth %d reached %s updated %s; want %s growth %d reached %s",
				c.name, st.Level, st.GrowthFen, st.ReachedAt, st.UpdatedAt, c.wantLevel, c.wantGrowth, c.wantReached)
		}
	}
}

func TestStatus(t *testing.T) {
	cases := []struct {
		name         string
		level        string
		growthFen    int64
		wantGrowth   int64
		wantNext     string // "" at the top
		wantProgress int64
	}{
		{"nothing yet", "normal", 0, 0, "silver", 0},
		{"a quarter of the way", "normal", 25_000, 250, "silver", 250},
		{"fen below a yuan do not count", "normal", 99_999, 999, "silver", 999},
		{"half way from silver to gold", "silver", 300_000, 3000, "gold", 500},
		{"a bought level above growth", "gold", 100_000, 1000, "diamond", 0},
		{"growth past the next threshold", "silver", 900_000, 9000, "gold", 1000},
		{"the top", "diamond", 2_500_000, 25000, "", 1000},
		{"a level no longer configured", "platinum", 10_000, 100, "silver", 100},
	}
	for _, c := range cases {
		got := svc.status(State{Level: c.level, GrowthFen: c.growthFen, ReachedAt: t0})
		next := ""
		if got.Next != nil {
			next = got.Next.Code
			if got.NextThreshold != got.Next.Growth {
				t.Errorf("%s: next threshold %d, want %d", c.name, got.NextThreshold, got.Next.Growth)
			}
		} else if got.NextThreshold != 0 {
			t.Errorf("%s: next threshold %d at the top, want 0", c.name, got.NextThreshold)
		}
		if got.Growth != c.wantGrowth || next != c.wantNext || got.Progress != c.wantProgress || !got.ReachedAt.Equal(t0) {
			t.Errorf("%s: growth %d next %q progress %d‰; want %d %q %d‰", c.name, got.Growth, next, got.Progress, c.wantGrowth, c.wantNext, c.wantProgress)
		}
	}
}

func TestNextToBuy(t *testing.T) {
	cases := []struct {
		level     string
		want      string
		wantPrice int64
		code      domain.Code // "" when it can be bought
	}{
		{"normal", "silver", 500, ""},
		{"silver", "", 0, domain.RuleViolation}, // gold has no price
		{"gold", "diamond", 3000, ""},
		{"diamond", "", 0, domain.RuleViolation}, // the top
		{"platinum", "silver", 500, ""},          // counts as the first level
	}
	for _, c := range cases {
		got, err := svc.nextToBuy(c.level)
		if domain.ErrorCode(err) != c.code && !(err == nil && c.code == "") {
			t.Errorf("nextToBuy(%s): error %v, want code %q", c.level, err, c.code)
			continue
		}
		if err == nil && (got.Code != c.want || got.Price != c.wantPrice) {
			t.Errorf("nextToBuy(%s) = %s for %d, want %s for %d", c.level, got.Code, got.Price, c.want, c.wantPrice)
		}
	}
}

func TestReview(t *testing.T) {
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, domain.Shanghai)
	yearAgo := now.AddDate(-1, 0, 0)
	cases := []struct {
		name        string
		st          State
		wantMoved   bool
		wantLevel   string
		wantReview  time.Time
		wantReached time.Time
	}{
		{"not due yet", State{Level: "gold", GrowthFen: 0, ReachedAt: yearAgo, ReviewAt: now.Add(time.Second)},
			false, "gold", now.Add(time.Second), yearAgo},
		{"due, growth still earns the level", State{Level: "gold", GrowthFen: 500_000, ReachedAt: yearAgo, ReviewAt: now},
			false, "gold", now.AddDate(1, 0, 0), yearAgo},
		{"due, growth earns silver only", State{Level: "gold", GrowthFen: 100_000, ReachedAt: yearAgo, ReviewAt: now},
			true, "silver", now.AddDate(1, 0, 0), now},
		{"due, down two levels", State{Level: "diamond", GrowthFen: 0, ReachedAt: yearAgo, ReviewAt: now},
			true, "normal", now.AddDate(1, 0, 0), now},
		{"due, reached 11 months ago: protected", State{Level: "gold", GrowthFen: 0, ReachedAt: now.AddDate(0, -11, 0), ReviewAt: now},
			false, "gold", now.AddDate(1, 0, 0), now.AddDate(0, -11, 0)},
		{"due, reached a second short of a year: protected", State{Level: "gold", GrowthFen: 0, ReachedAt: yearAgo.Add(time.Second), ReviewAt: now},
			false, "gold", now.AddDate(1, 0, 0), yearAgo.Add(time.Second)},
		{"three reviews missed: the next is a year on from the last", State{Level: "silver", GrowthFen: 0, ReachedAt: now.AddDate(-4, 0, 0), ReviewAt: now.AddDate(-3, 0, 1)},
			true, "normal", now.AddDate(0, 0, 1), now},
	}
	for _, c := range cases {
		st := c.st
		moved := svc.review(&st, now)
		if moved != c.wantMoved || st.Level != c.wantLevel || !st.ReviewAt.Equal(c.wantReview) || !st.ReachedAt.Equal(c.wantReached) {
			t.Errorf("%s: moved %v to %s, review %s, reached %s; want %v %s %s %s",
				c.name, moved, st.Level, st.ReviewAt, st.ReachedAt, c.wantMoved, c.wantLevel, c.wantReview, c.wantReached)
		}
		if due := !c.st.ReviewAt.After(now); due != st.UpdatedAt.Equal(now) {
			t.Errorf("%s: updated at %s, want now only when due", c.name, st.UpdatedAt)
		}
	}
}

func TestValidate(t *testing.T) {
	edit := func(f func(ls []Level) []Level) []Level {
		return f(append([]Level(nil), levels...))
	}
	cases := []struct {
		name   string
		levels []Level
		field  string
	}{
		{"the configured levels", levels, ""},
		{"none", nil, "tier.levels"},
		{"a level without a name", edit(func(ls []Level) []Level { ls[1].Name = " "; return ls }), "tier.levels[1]"},
		{"a duplicate code", edit(func(ls []Level) []Level { ls[2].Code = "silver"; return ls }), "tier.levels[2].code"},
		{"a first level above zero", edit(func(ls []Level) []Level { ls[0].Growth = 1; return ls }), "tier.levels[0].growth"},
		{"a level at its lower neighbour's growth", edit(func(ls []Level) []Level { ls[2].Growth = 1000; return ls }), "tier.levels[2].growth"},
		{"growth beyond what fen can hold", edit(func(ls []Level) []Level { ls[3].Growth = int64(domain.MaxFen/100) + 1; return ls }), "tier.levels[3].growth"},
		{"a negative price", edit(func(ls []Level) []Level { ls[1].Price = -1; return ls }), "tier.levels[1].price"},
	}
	for _, c := range cases {
		err := Validate("tier.levels", c.levels)
		got := ""
		if de, ok := err.(*domain.Error); ok && de.Code == domain.Invalid {
			for f := range de.Fields {
				got = f
			}
		} else if err != nil {
			got = err.Error()
		}
		if got != c.field {
			t.Errorf("%s: error names %q, want %q (%v)", c.name, got, c.field, err)
		}
	}
}
