package rulestore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/rules"
	"github.com/jifen/jifen/repo/rulestore"
	"github.com/jifen/jifen/repo/testenv"
)

// Wednesday 12 March 2025, 10:00 in Shanghai.
var wednesday = sh(2025, 3, 12, 10, 0)

func sh(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, domain.Shanghai)
}

func newService(t *testing.T) (*rules.Service, *testenv.Env, *domain.FakeClock) {
	t.Helper()
	env := testenv.New(t)
	st := rulestore.New(env.DB)
	clk := domain.NewFakeClock(wednesday)
	return &rules.Service{Store: st, Usage: st, Budget: st, Tx: env.DB, Clock: clk}, env, clk
}

// Rule builders.

func brackets() rules.Rule {
	return rules.Rule{Name: "基础积分", Trigger: rules.OrderPaid, Effect: rules.Effect{Kind: rules.Rate, Brackets: []rules.Bracket{
		{FromFen: 0, ToFen: 100000, PerMille: 1000},
		{FromFen: 100000, ToFen: 500000, PerMille: 1500},
	}}}
}

func flat(name string, perMille int64) rules.Rule {
	return rules.Rule{Name: name, Trigger: rules.OrderPaid, Effect: rules.Effect{Kind: rules.Rate, Brackets: []rules.Bracket{{PerMille: perMille}}}}
}

func mult(name string, perMille int64, priority int, c rules.Conditions) rules.Rule {
	return rules.Rule{Name: name, Trigger: rules.OrderPaid, Priority: priority, Conditions: c, Effect: rules.Effect{Kind: rules.Multiplier, PerMille: perMille}}
}

func bonus(name string, points int64, c rules.Conditions) rules.Rule {
	return rules.Rule{Name: name, Trigger: rules.OrderPaid, Conditions: c, Effect: rules.Effect{Kind: rules.Bonus, Points: points}}
}

func with(r rules.Rule, edit func(r *rules.Rule)) rules.Rule { edit(&r); return r }

// Input builders.

type ev struct {
	at        time.Time
	fen       int64
	lines     []rules.OrderLine
	member    int64
	tier      string
	birthday  string
	orders    int64
	weekCount int64
	first     bool
	store     string
}

func (e ev) input() rules.Input {
	m := rules.Member{ID: e.member, Tier: e.tier, Birthday: e.birthday, PaidOrders: e.orders, PaidOrdersThisWeek: e.weekCount, FirstPurchase: e.first}
	if m.ID == 0 {
		m.ID = 1
	}
	if m.PaidOrders == 0 {
		m.PaidOrders = 5
	}
	if m.PaidOrdersThisWeek == 0 {
		m.PaidOrdersThisWeek = 1
	}
	at := e.at
	if at.IsZero() {
		at = wednesday
	}
	return rules.Input{Trigger: rules.OrderPaid, Member: m, Order: &rules.Order{ID: "o", AmountFen: e.fen, Lines: e.lines, Store: e.store, OccurredAt: at}}
}

func yuan(y int64) int64 { return y * 100 }

func render(res rules.Result) []string {
	out := []string{}
	for _, l := range res.Lines {
		s := fmt.Sprintf("%s=%d", l.Name, l.Points)
		if l.Limited != "" {
			s += "(" + l.Limited + ")"
		}
		out = append(out, s)
	}
	return out
}

type step struct {
	name  string
	ev    ev
	dry   bool
	total int64
	lines []string
}

func TestScenarios(t *testing.T) {
	lineA := func(fen int64) rules.OrderLine {
		return rules.OrderLine{SKU: "a1", Category: "A", Qty: 1, AmountFen: fen}
	}
	lineB := func(fen int64) rules.OrderLine {
		return rules.OrderLine{SKU: "b1", Category: "B", Qty: 1, AmountFen: fen}
	}

	scenarios := []struct {
		name  string
		rules []rules.Rule
		steps []step
	}{
		{
			name:  "brackets 0-1000 yuan at 1, 1000-5000 at 1.5 on the amount in each bracket",
			rules: []rules.Rule{brackets()},
			steps: []step{
				{name: "500", ev: ev{fen: yuan(500)}, total: 500, lines: []string{"基础积分=500"}},
				{name: "1000", ev: ev{fen: yuan(1000)}, total: 1000, lines: []string{"基础积分=1000"}},
				{name: "3000", ev: ev{fen: yuan(3000)}, total: 4000, lines: []string{"基础积分=4000"}},
				{name: "5000", ev: ev{fen: yuan(5000)}, total: 7000, lines: []string{"基础积分=7000"}},
				{name: "6000 earns nothing above the last bracket", ev: ev{fen: yuan(6000)}, total: 7000, lines: []string{"基础积分=7000"}},
				{name: "1234.56 floors once", ev: ev{fen: 123456}, total: 1351, lines: []string{"基础积分=1351"}},
				{name: "0.99 earns nothing", ev: ev{fen: 99}, total: 0, lines: []string{}},
				{name: "amount from lines", ev: ev{lines: []rules.OrderLine{lineA(yuan(1000)), lineB(yuan(2000))}}, total: 4000, lines: []string{"基础积分=4000"}},
			},
		},
		{
			name: "category A x1, B x2",
			rules: []rules.Rule{brackets(),
				mult("A类商品", 1000, 0, rules.Conditions{Categories: []string{"A"}}),
				mult("B类双倍", 2000, 0, rules.Conditions{Categories: []string{"B"}})},
			steps: []step{
				{name: "A only", ev: ev{lines: []rules.OrderLine{lineA(yuan(300))}}, total: 300, lines: []string{"基础积分=300"}},
				{name: "B only", ev: ev{lines: []rules.OrderLine{lineB(yuan(300))}}, total: 600, lines: []string{"基础积分=300", "B类双倍=300"}},
				{name: "A 100 + B 200", ev: ev{lines: []rules.OrderLine{lineA(yuan(100)), lineB(yuan(200))}}, total: 500, lines: []string{"基础积分=300", "B类双倍=200"}},
				// base 4000 from brackets, 2/3 of it from B: +2666.67, floored
				{name: "A 1000 + B 2000 across brackets", ev: ev{lines: []rules.OrderLine{lineA(yuan(1000)), lineB(yuan(2000))}}, total: 6666, lines: []string{"基础积分=4000", "B类双倍=2666"}},
			},
		},
		{
			name: "silver x1, gold x1.5",
			rules: []rules.Rule{flat("基础积分", 1000),
				mult("银卡", 1000, 0, rules.Conditions{Tiers: []string{"silver"}}),
				mult("金卡 ×1.5", 1500, 0, rules.Conditions{Tiers: []string{"gold"}})},
			steps: []step{
				{name: "no tier", ev: ev{fen: yuan(200)}, total: 200, lines: []string{"基础积分=200"}},
				{name: "silver", ev: ev{fen: yuan(200), tier: "silver"}, total: 200, lines: []string{"基础积分=200"}},
				{name: "gold", ev: ev{fen: yuan(200), tier: "gold"}, total: 300, lines: []string{"基础积分=200", "金卡 ×1.5=100"}},
				{name: "gold floors the extra", ev: ev{fen: yuan(333), tier: "gold"}, total: 499, lines: []string{"基础积分=333", "金卡 ×1.5=166"}},
			},
		},
		{
			name: "double-points days and weekends in Asia/Shanghai",
			rules: []rules.Rule{flat("基础积分", 1000),
				mult("双倍积分日", 2000, 0, rules.Conditions{Dates: []string{"2025-03-12", "2025-11-11"}}),
				mult("周末双倍", 2000, 0, rules.Conditions{Weekdays: []int{6, 7}})},
			steps: []step{
				{name: "configured date", ev: ev{fen: yuan(200), at: sh(2025, 3, 12, 23, 59)}, total: 400, lines: []string{"基础积分=200", "双倍积分日=200"}},
				{name: "ordinary Thursday", ev: ev{fen: yuan(200), at: sh(2025, 3, 13, 12, 0)}, total: 200, lines: []string{"基础积分=200"}},
				{name: "Saturday 00:30 Shanghai is Friday in UTC", ev: ev{fen: yuan(200), at: sh(2025, 3, 15, 0, 30).UTC()}, total: 400, lines: []string{"基础积分=200", "周末双倍=200"}},
				{name: "Friday 23:30 Shanghai", ev: ev{fen: yuan(200), at: sh(2025, 3, 14, 23, 30).UTC()}, total: 200, lines: []string{"基础积分=200"}},
				{name: "Monday 00:30 Shanghai is Sunday in UTC", ev: ev{fen: yuan(200), at: sh(2025, 3, 17, 0, 30).UTC()}, total: 200, lines: []string{"基础积分=200"}},
				{name: "11.11 on a Tuesday", ev: ev{fen: yuan(200), at: sh(2025, 11, 11, 9, 0)}, total: 400, lines: []string{"基础积分=200", "双倍积分日=200"}},
			},
		},
		{
			name: "multipliers compound by priority: base 120, gold x1.5, weekend x2",
			rules: []rules.Rule{flat("基础积分", 1000),
				mult("金卡 ×1.5", 1500, 20, rules.Conditions{Tiers: []string{"gold"}}),
				mult("周末双倍", 2000, 10, rules.Conditions{Weekdays: []int{6, 7}})},
			steps: []step{
				{name: "gold on Saturday", ev: ev{fen: yuan(120), tier: "gold", at: sh(2025, 3, 15, 10, 0)}, total: 360, lines: []string{"基础积分=120", "金卡 ×1.5=60", "周末双倍=180"}},
			},
		},
		{
			name: "first purchase bonus is not multiplied",
			rules: []rules.Rule{flat("基础积分", 1000),
				mult("周末双倍", 2000, 0, rules.Conditions{Weekdays: []int{6, 7}}),
				bonus("首单奖励", 500, rules.Conditions{FirstPurchase: true})},
			steps: []step{
				{name: "first order", ev: ev{fen: yuan(100), first: true, orders: 1}, total: 600, lines: []string{"基础积分=100", "首单奖励=500"}},
				{name: "first order on a weekend", ev: ev{fen: yuan(100), first: true, orders: 1, at: sh(2025, 3, 16, 10, 0)}, total: 700, lines: []string{"基础积分=100", "周末双倍=100", "首单奖励=500"}},
				{name: "second order", ev: ev{fen: yuan(100), orders: 2}, total: 100, lines: []string{"基础积分=100"}},
			},
		},
		{
			name:  "every 10th paid order bonus",
			rules: []rules.Rule{flat("基础积分", 1000), bonus("第10单奖励", 1000, rules.Conditions{EveryNthOrder: 10})},
			steps: []step{
				{name: "9th", ev: ev{fen: yuan(100), orders: 9}, total: 100, lines: []string{"基础积分=100"}},
				{name: "10th", ev: ev{fen: yuan(100), orders: 10}, total: 1100, lines: []string{"基础积分=100", "第10单奖励=1000"}},
				{name: "11th", ev: ev{fen: yuan(100), orders: 11}, total: 100, lines: []string{"基础积分=100"}},
				{name: "20th", ev: ev{fen: yuan(100), orders: 20}, total: 1100, lines: []string{"基础积分=100", "第10单奖励=1000"}},
			},
		},
		{
			name:  "3 paid orders in one calendar week bonus, once",
			rules: []rules.Rule{flat("基础积分", 1000), bonus("一周三单", 300, rules.Conditions{OrdersInWeek: 3})},
			steps: []step{
				{name: "1st", ev: ev{fen: yuan(100), weekCount: 1}, total: 100, lines: []string{"基础积分=100"}},
				{name: "2nd", ev: ev{fen: yuan(100), weekCount: 2}, total: 100, lines: []string{"基础积分=100"}},
				{name: "3rd", ev: ev{fen: yuan(100), weekCount: 3}, total: 400, lines: []string{"基础积分=100", "一周三单=300"}},
				{name: "4th", ev: ev{fen: yuan(100), weekCount: 4}, total: 100, lines: []string{"基础积分=100"}},
			},
		},
		{
			name:  "birthday-month multiplier",
			rules: []rules.Rule{flat("基础积分", 1000), mult("生日月双倍", 2000, 0, rules.Conditions{BirthdayMonth: true})},
			steps: []step{
				{name: "born in March", ev: ev{fen: yuan(150), birthday: "1990-03-25"}, total: 300, lines: []string{"基础积分=150", "生日月双倍=150"}},
				{name: "born in April", ev: ev{fen: yuan(150), birthday: "1990-04-01"}, total: 150, lines: []string{"基础积分=150"}},
				{name: "no birthday", ev: ev{fen: yuan(150)}, total: 150, lines: []string{"基础积分=150"}},
				{name: "1 April 04:00 Shanghai is still March in UTC", ev: ev{fen: yuan(150), birthday: "1990-04-01", at: sh(2025, 4, 1, 4, 0).UTC()}, total: 300, lines: []string{"基础积分=150", "生日月双倍=150"}},
			},
		},
		{
			name:  "per-member daily cap",
			rules: []rules.Rule{with(flat("基础积分", 1000), func(r *rules.Rule) { r.Caps.PerDay = 500 })},
			steps: []step{
				{name: "first order", ev: ev{fen: yuan(300)}, total: 300, lines: []string{"基础积分=300"}},
				{name: "dry run sees the cap and records nothing", ev: ev{fen: yuan(300)}, dry: true, total: 200, lines: []string{"基础积分=200(cap_day)"}},
				{name: "second order is cut", ev: ev{fen: yuan(300)}, total: 200, lines: []string{"基础积分=200(cap_day)"}},
				{name: "third order gets nothing", ev: ev{fen: yuan(300)}, total: 0, lines: []string{"基础积分=0(cap_day)"}},
				{name: "another member", ev: ev{fen: yuan(300), member: 2}, total: 300, lines: []string{"基础积分=300"}},
				{name: "next Shanghai day (still 12 March in UTC)", ev: ev{fen: yuan(300), at: sh(2025, 3, 13, 0, 10)}, total: 300, lines: []string{"基础积分=300"}},
			},
		},
		{
			name: "campaign budget pool stops awarding when spent",
			rules: []rules.Rule{flat("基础积分", 1000),
				with(bonus("春季活动奖励", 400, rules.Conditions{}), func(r *rules.Rule) { r.Budget = 1000 })},
			steps: []step{
				{name: "1st", ev: ev{fen: yuan(100)}, total: 500, lines: []string{"基础积分=100", "春季活动奖励=400"}},
				{name: "2nd", ev: ev{fen: yuan(100), member: 2}, total: 500, lines: []string{"基础积分=100", "春季活动奖励=400"}},
				{name: "dry run reads the pool", ev: ev{fen: yuan(100), member: 3}, dry: true, total: 300, lines: []string{"基础积分=100", "春季活动奖励=200(budget)"}},
				{name: "3rd takes what is left", ev: ev{fen: yuan(100), member: 3}, total: 300, lines: []string{"基础积分=100", "春季活动奖励=200(budget)"}},
				{name: "4th gets no bonus", ev: ev{fen: yuan(100), member: 4}, total: 100, lines: []string{"基础积分=100", "春季活动奖励=0(budget)"}},
			},
		},
		{
			name: "an exclusive rule skips lower-priority rules of its stage only",
			rules: []rules.Rule{flat("基础积分", 1000),
				with(flat("旗舰店 2倍基础", 2000), func(r *rules.Rule) {
					r.Priority, r.Stacking, r.Conditions.Stores = 100, rules.Exclusive, []string{"SH001"}
				}),
				mult("金卡 ×1.5", 1500, 0, rules.Conditions{Tiers: []string{"gold"}})},
			steps: []step{
				{name: "flagship store", ev: ev{fen: yuan(100), store: "SH001", tier: "gold"}, total: 300, lines: []string{"旗舰店 2倍基础=200", "金卡 ×1.5=100"}},
				{name: "other store", ev: ev{fen: yuan(100), store: "BJ001", tier: "gold"}, total: 150, lines: []string{"基础积分=100", "金卡 ×1.5=50"}},
			},
		},
		{
			name: "validity window, inactive rules and amount range",
			rules: []rules.Rule{flat("基础积分", 1000),
				with(bonus("三月活动", 50, rules.Conditions{MinAmountFen: yuan(100), MaxAmountFen: yuan(1000)}), func(r *rules.Rule) {
					from, to := sh(2025, 3, 1, 0, 0), sh(2025, 4, 1, 0, 0)
					r.ValidFrom, r.ValidTo = &from, &to
				}),
				with(bonus("已停用", 999, rules.Conditions{}), func(r *rules.Rule) { r.Status = rules.Inactive })},
			steps: []step{
				{name: "in window and range", ev: ev{fen: yuan(100)}, total: 150, lines: []string{"基础积分=100", "三月活动=50"}},
				{name: "below range", ev: ev{fen: yuan(99)}, total: 99, lines: []string{"基础积分=99"}},
				{name: "above range", ev: ev{fen: yuan(1001)}, total: 1001, lines: []string{"基础积分=1001"}},
				{name: "window end is exclusive", ev: ev{fen: yuan(100), at: sh(2025, 4, 1, 0, 0)}, total: 100, lines: []string{"基础积分=100"}},
				{name: "before window", ev: ev{fen: yuan(100), at: sh(2025, 2, 28, 23, 59)}, total: 100, lines: []string{"基础积分=100"}},
			},
		},
	}

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			svc, _, _ := newService(t)
			ctx := context.Background()
			versions := map[int64]int{}
			for _, r := range sc.rules {
				got, err := svc.Create(ctx, r)
				if err != nil {
					t.Fatalf("create %s: %v", r.Name, err)
				}
				versions[got.ID] = got.Version
			}
			for _, st := range sc.steps {
				in := st.ev.input()
				var res rules.Result
				var err error
				if st.dry {
					res, err = svc.Simulate(ctx, in)
				} else {
					res, err = svc.Apply(ctx, in)
				}
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if got := render(res); res.Total != st.total || !slices.Equal(got, st.lines) {
					t.Errorf("%s: total %d %v, want %d %v", st.name, res.Total, got, st.total, st.lines)
				}
				var sum int64
				for _, l := range res.Lines {
					sum += l.Points
					if versions[l.RuleID] != l.Version {
						t.Errorf("%s: line %s has version %d, want %d", st.name, l.Name, l.Version, versions[l.RuleID])
					}
				}
				if sum != res.Total {
					t.Errorf("%s: lines sum to %d, total %d", st.name, sum, res.Total)
				}
			}
		})
	}
}

func TestSignInStreakDoubles(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	for _, r := range []rules.Rule{
		{Name: "每日签到", Trigger: rules.SignIn, Effect: rules.Effect{Kind: rules.Fixed, Points: 10}},
		{Name: "连续7天翻倍", Trigger: rules.SignIn, Conditions: rules.Conditions{MinStreak: 7}, Effect: rules.Effect{Kind: rules.Multiplier, PerMille: 2000}},
		{Name: "下单奖励", Trigger: rules.OrderPaid, Effect: rules.Effect{Kind: rules.Bonus, Points: 77}},
	} {
		if _, err := svc.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for streak, want := range map[int]int64{1: 10, 6: 10, 7: 20, 30: 20} {
		res, err := svc.Apply(ctx, rules.Input{Trigger: rules.SignIn, Member: rules.Member{ID: 9}, Streak: streak})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != want {
			t.Errorf("streak %d: %d points %v, want %d", streak, res.Total, render(res), want)
		}
	}
}
