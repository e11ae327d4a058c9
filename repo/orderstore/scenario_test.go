package orderstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/domain/rules"
)

var start = time.Date(2026, 12, 1, 10, 0, 0, 0, domain.Shanghai) // a Tuesday

func at(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, domain.Shanghai) }

// December 2026 for one member: orders on weekdays and a weekend, three
// orders in a week, a partial refund, a birthday, a tier upgrade by
// growth, a spend, a full refund of pending points, and a gold order.
func TestScenarioOneMemberOneMonth(t *testing.T) {
	t.Parallel()
	w := newWorld(t, start)
	w.rule(t, rate("基础"))
	w.rule(t, rules.Rule{Name: "周末双倍", Trigger: rules.OrderPaid, Priority: 10, Conditions: rules.Conditions{Weekdays: []int{6, 7}},
		Effect: rules.Effect{Kind: rules.Multiplier, PerMille: 2000}})
	w.rule(t, rules.Rule{Name: "金卡 ×1.5", Trigger: rules.OrderPaid, Priority: 20, Conditions: rules.Conditions{Tiers: []string{"gold"}},
		Effect: rules.Effect{Kind: rules.Multiplier, PerMille: 1500}})
	w.rule(t, rules.Rule{Name: "一周三单", Trigger: rules.OrderPaid, Conditions: rules.Conditions{OrdersInWeek: 3},
		Effect: rules.Effect{Kind: rules.Bonus, Points: 50}})
	w.rule(t, rules.Rule{Name: "生日礼", Trigger: rules.Birthday, Effect: rules.Effect{Kind: rules.Fixed, Points: 200}})
	id := w.member(t, "dec")
	ctx := context.Background()
	if err := w.members.SetBirthday(ctx, id, "1990-12-15"); err != nil {
		t.Fatal(err)
	}
	firstPaid := 0
	w.orders.OnFirstPaid = append(w.orders.OnFirstPaid, func(context.Context, orders.FirstPaid) error { firstPaid++; return nil })

	step := func(name string, wantAvail, wantPending, wantDebt int64, wantTier string) {
		t.Helper()
		w.settle(t)
		b, err := w.ledger.Balance(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if b.Available != wantAvail || b.Pending != wantPending || b.Debt != wantDebt {
			t.Fatalf("%s: available %d pending %d debt %d, want %d %d %d", name, b.Available, b.Pending, b.Debt, wantAvail, wantPending, wantDebt)
		}
		if code, _ := w.tiers.Code(ctx, id); code != wantTier {
			t.Fatalf("%s: tier %s, want %s", name, code, wantTier)
		}
		w.check(t, id)
	}
	points := func(name string, got, want int64) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: %d points, want %d", name, got, want)
		}
	}

	w.clock.Set(at(1, 10)) // Tue
	points("A 300 元", w.pay(t, id, "A", 30000).PointsAwarded, 300)
	step("Dec 1", 0, 300, 0, "normal")

	w.clock.Set(at(5, 15)) // Sat: weekend double
	points("B 200 元 on Saturday", w.pay(t, id, "B", 20000).PointsAwarded, 400)
	w.clock.Set(at(6, 11)) // Sun: third order of the week
	points("C 600 元, 3rd of the week", w.pay(t, id, "C", 60000).PointsAwarded, 600+600+50)
	step("Dec 6", 0, 1950, 0, "silver") // growth 1,100 元

	w.clock.Set(at(8, 12)) // A's return window is over
	step("Dec 8", 300, 1650, 0, "silver")

	w.clock.Set(at(10, 9)) // refund half of B: 200 of its 400 pending points
	points("refund half of B", w.refund(t, "rB", "B", 10000).PointsReversed, 200)
	step("Dec 10", 300, 1450, 0, "silver") // growth 1,000: still silver

	w.clock.Set(at(14, 9))
	step("Dec 14", 1750, 0, 0, "silver")

	w.clock.Set(at(15, 0).Add(time.Minute)) // birthday job
	if n, err := w.birthday.PayDay(ctx, domain.DayOf(w.clock.Now())); err != nil || n != 1 {
		t.Fatalf("birthday paid %d: %v", n, err)
	}
	if n, _ := w.birthday.PayDay(ctx, domain.DayOf(w.clock.Now())); n != 0 {
		t.Fatalf("birthday paid twice")
	}
	step("Dec 15", 1950, 0, 0, "silver")

	w.clock.Set(at(20, 16)) // Sun, silver: no tier multiplier yet
	points("D 4,000 元 on Sunday", w.pay(t, id, "D", 400000).PointsAwarded, 8000)
	step("Dec 20", 1950, 8000, 0, "gold") // growth 5,000 元: gold at once

	w.clock.Set(at(21, 10))
	if _, err := w.ledger.Spend(ctx, ledger.SpendInput{MemberID: id, Points: 1900, Key: "mall-1", Ref: ledger.Ref{Type: "mall", ID: "1"}}); err != nil {
		t.Fatal(err)
	}
	step("Dec 21 spend", 50, 8000, 0, "gold")

	w.clock.Set(at(22, 10)) // D returned in full: its pending points are cancelled
	points("refund D", w.refund(t, "rD", "D", 0).PointsReversed, 8000)
	step("Dec 22", 50, 0, 0, "gold") // growth 1,000 but no downgrade before the review

	w.clock.Set(at(31, 20)) // Thu, gold ×1.5
	points("E 100 元 as gold", w.pay(t, id, "E", 10000).PointsAwarded, 150)
	step("Dec 31", 50, 150, 0, "gold")

	if firstPaid != 1 {
		t.Fatalf("first-paid hook ran %d times", firstPaid)
	}
	o, err := w.orders.OrderPoints(ctx, id, "C")
	if err != nil || len(o.Breakdown) != 3 || o.Breakdown[1].Name != "周末双倍" || o.Breakdown[2].Points != 50 {
		t.Fatalf("breakdown of C: %+v %v", o.Breakdown, err)
	}
}
