package orders

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/rules"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai)

func paidEvent() Event {
	return Event{EventID: "e1", Type: Paid, OrderID: "o1", Member: MemberRef{MemberID: 7}, OccurredAt: now.Add(-time.Hour),
		TotalFen: 1000, Lines: []Line{{SKU: "A", Qty: 1, AmountFen: 600}, {SKU: "B", Qty: 2, AmountFen: 400}}}
}

// fieldOf is the one field an Invalid error names, "" for nil, or the
// code of any other error.
func fieldOf(err error) string {
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

func TestEventValidate(t *testing.T) {
	refund := func(lines []Line, total int64) func(e *Event) {
		return func(e *Event) {
			e.Type, e.Lines, e.Member, e.RefundLines, e.TotalFen = Refunded, nil, MemberRef{}, lines, total
		}
	}
	cases := []struct {
		name  string
		edit  func(e *Event)
		field string // "" when valid
	}{
		{"a paid event", func(e *Event) {}, ""},
		{"named by openid", func(e *Event) { e.Member = MemberRef{OpenID: "oX"} }, ""},
		{"named by phone", func(e *Event) { e.Member = MemberRef{Phone: "13800000000"} }, ""},
		{"no event id", func(e *Event) { e.EventID = " " }, "event_id"},
		{"order id of 65 characters", func(e *Event) { e.OrderID = strings.Repeat("订", 65) }, "order_id"},
		{"order id of 64 characters", func(e *Event) { e.OrderID = strings.Repeat("订", 64) }, ""},
		{"no time", func(e *Event) { e.OccurredAt = time.Time{} }, "occurred_at"},
		{"9 minutes ahead (clock skew)", func(e *Event) { e.OccurredAt = now.Add(9 * time.Minute) }, ""},
		{"11 minutes ahead", func(e *Event) { e.OccurredAt = now.Add(11 * time.Minute) }, "occurred_at"},
		{"negative total", func(e *Event) { e.TotalFen = -1 }, "total_fen"},
		{"unknown type", func(e *Event) { e.Type = "cancelled" }, "type"},
		{"no member", func(e *Event) { e.Member = MemberRef{OpenID: " "} }, "member"},
		{"negative member id", func(e *Event) { e.Member.MemberID = -1 }, "member.member_id"},
		{"openid of 65 bytes", func(e *Event) { e.Member = MemberRef{OpenID: strings.Repeat("o", 65)} }, "member"},
		{"no lines", func(e *Event) { e.Lines = nil }, "lines"},
		{"refund lines on a paid event", func(e *Event) { e.RefundLines = e.Lines }, "refund_lines"},
		{"lines not adding up", func(e *Event) { e.TotalFen = 999 }, "lines"},
		{"nothing paid", func(e *Event) { e.Lines, e.TotalFen = []Line{{SKU: "A", AmountFen: 0}}, 0 }, "total_fen"},
		{"line without SKU", func(e *Event) { e.Lines[0].SKU = "" }, "lines[0].sku"},
		{"quantity out of range", func(e *Event) { e.Lines[1].Qty = 1_000_001 }, "lines[1].qty"},
		{"negative line", func(e *Event) { e.Lines[1].AmountFen = -400 }, "lines[1].amount_fen"},
		{"points hold on a paid event", func(e *Event) { e.PointsHoldID = 3 }, ""},
		{"negative points hold", func(e *Event) { e.PointsHoldID = -3 }, "points_hold_id"},
		{"a full refund", refund(nil, 0), ""},
		{"a refund of an amount", refund(nil, 300), ""},
		{"a refund by lines", refund([]Line{{SKU: "A", AmountFen: 600}}, 600), ""},
		{"refund lines without a total", refund([]Line{{SKU: "A", AmountFen: 600}}, 0), ""},
		{"refund lines not adding up", refund([]Line{{SKU: "A", AmountFen: 600}}, 500), "refund_lines"},
		{"a refund line of nothing", refund([]Line{{SKU: "A", AmountFen: 0}}, 0), "refund_lines[0].amount_fen"},
		{"points hold on a refund", func(e *Event) { refund(nil, 0)(e); e.PointsHoldID = 3 }, "points_hold_id"},
	}
	for _, c := range cases {
		e := paidEvent()
		e.Lines = append([]Line(nil), e.Lines...)
		c.edit(&e)
		if got := fieldOf(e.Validate(now)); got != c.field {
			t.Errorf("%s: error on %q, want %q", c.name, got, c.field)
		}
	}
}

func TestCheckLinesSumsAndBounds(t *testing.T) {
	many := make([]Line, maxLines+1)
	for i := range many {
		many[i] = Line{SKU: fmt.Sprint(i), AmountFen: 1}
	}
	cases := []struct {
		name  string
		lines []Line
		sum   int64
		field string
	}{
		{"none", nil, 0, ""},
		{"two", []Line{{SKU: "A", AmountFen: 250}, {SKU: "B", AmountFen: 750}}, 1000, ""},
		{"500 lines", many[:maxLines], maxLines, ""},
		{"501 lines", many, 0, "l"},
		{"category of 65 characters", []Line{{SKU: "A", Category: strings.Repeat("类", 65)}}, 0, "l[0].category"},
		{"the most one line may be", []Line{{SKU: "A", AmountFen: int64(domain.MaxFen)}}, int64(domain.MaxFen), ""},
		{"one line too much", []Line{{SKU: "A", AmountFen: int64(domain.MaxFen) + 1}}, 0, "l[0].amount_fen"},
		{"a sum too large", []Line{{SKU: "A", AmountFen: int64(domain.MaxFen)}, {SKU: "B", AmountFen: 1}}, 0, "l"},
	}
	for _, c := range cases {
		sum, err := CheckLines("l", c.lines, 0)
		if got := fieldOf(err); got != c.field || sum != c.sum {
			t.Errorf("%s: sum %d, error on %q; want %d, %q", c.name, sum, got, c.sum, c.field)
		}
	}
}

func TestRefundDecidesTheAmount(t *testing.T) {
	order := func(refunded map[string]int64) Order {
		o := Order{ID: "o1", TotalFen: 1000, Lines: []Line{{SKU: "A", AmountFen: 600}, {SKU: "B", AmountFen: 300}, {SKU: "B", AmountFen: 100}},
			Refunded: map[string]int64{}}
		for sku, n := range refunded {
			o.Refunded[sku] = n
			o.RefundedFen += n
		}
		return o
	}
	ev := func(total int64, lines ...Line) Event {
		return Event{EventID: "r", Type: Refunded, OrderID: "o1", TotalFen: total, RefundLines: lines}
	}
	cases := []struct {
		name     string
		before   map[string]int64
		e        Event
		amount   int64
		code     domain.Code
		refunded map[string]int64 // by SKU after
	}{
		{"everything", nil, ev(0), 1000, "", map[string]int64{}},
		{"the rest", map[string]int64{"A": 600}, ev(0), 400, "", map[string]int64{"A": 600}},
		{"an amount", nil, ev(300), 300, "", map[string]int64{}},
		{"one line", nil, ev(600, Line{SKU: "A", AmountFen: 600}), 600, "", map[string]int64{"A": 600}},
		{"a SKU on two lines", nil, ev(0, Line{SKU: "B", AmountFen: 400}), 400, "", map[string]int64{"B": 400}},
		{"a SKU twice in one refund", nil, ev(0, Line{SKU: "A", AmountFen: 200}, Line{SKU: "A", AmountFen: 300}), 500, "", map[string]int64{"A": 500}},
		{"a SKU beyond what was paid", nil, ev(0, Line{SKU: "A", AmountFen: 601}), 0, domain.RuleViolation, map[string]int64{}},
		{"a SKU beyond what is left of it", map[string]int64{"A": 100}, ev(0, Line{SKU: "A", AmountFen: 300}, Line{SKU: "A", AmountFen: 201}), 0, domain.RuleViolation, map[string]int64{"A": 100}},
		{"a SKU not in the order", nil, ev(0, Line{SKU: "C", AmountFen: 1}), 0, domain.Invalid, map[string]int64{}},
		{"more than is still paid", map[string]int64{"A": 600}, ev(401), 0, domain.RuleViolation, map[string]int64{"A": 600}},
		{"all that is still paid", map[string]int64{"A": 600}, ev(400), 400, "", map[string]int64{"A": 600}},
		{"an order already refunded", map[string]int64{"A": 600, "B": 400}, ev(0), 0, domain.RuleViolation, map[string]int64{"A": 600, "B": 400}},
	}
	for _, c := range cases {
		o := order(c.before)
		was := o.RefundedFen
		amount, err := o.refund(c.e)
		if domain.ErrorCode(err) != c.code || amount != c.amount {
			t.Errorf("%s: %d, %v; want %d, %q", c.name, amount, err, c.amount, c.code)
		}
		if want := was + c.amount; o.RefundedFen != want {
			t.Errorf("%s: refunded %d fen in all, want %d", c.name, o.RefundedFen, want)
		}
		if !reflect.DeepEqual(o.Refunded, c.refunded) {
			t.Errorf("%s: refunded by SKU %v, want %v", c.name, o.Refunded, c.refunded)
		}
	}
}

func TestReversalDueTakesTheRefundedShareOnce(t *testing.T) {
	// 100 points on 300 fen, refunded in three thirds: 33, 33, then the
	// rest (34), so the order gives back exactly what it earned.
	o := Order{Points: 100, TotalFen: 300}
	var got []int64
	for _, refunded := range []int64{100, 100, 0, 100} {
		o.RefundedFen += refunded
		n := o.reversalDue()
		o.Reversed += n
		got = append(got, n)
	}
	if want := []int64{33, 33, 0, 34}; !reflect.DeepEqual(got, want) {
		t.Errorf("reversals %v, want %v", got, want)
	}
	cases := []struct {
		o    Order
		want int64
	}{
		{Order{Points: 0, TotalFen: 300, RefundedFen: 300}, 0},
		{Order{Points: 7, TotalFen: 1000, RefundedFen: 1}, 0},    // 0.007 → 0
		{Order{Points: 7, TotalFen: 1000, RefundedFen: 1000}, 7}, // everything once fully refunded
		{Order{Points: 7, TotalFen: 1000, RefundedFen: 500, Reversed: 5}, 0},
		{Order{Points: 1_000_000_000_000, TotalFen: 1_000_000_000_000, RefundedFen: 999_999_999_999}, 999_999_999_999},
	}
	for _, c := range cases {
		if got := c.o.reversalDue(); got != c.want {
			t.Errorf("%+v: %d due, want %d", c.o, got, c.want)
		}
	}
}

func TestRuleInputAndBreakdown(t *testing.T) {
	e := paidEvent()
	e.StoreID, e.Channel = "s1", "mini"
	e.Lines[0].Category = "shoes"
	o := newOrder(e, now)
	o.MemberID = 7
	mem := &member.Member{ID: 7, Birthday: "1990-11-23"}
	cases := []struct {
		st        stats
		firstTime bool
	}{
		{stats{tier: "gold", all: 1, week: 1}, true},
		{stats{tier: "normal", all: 2, week: 2}, false},
		{stats{tier: "normal", all: 5, week: 1}, false},
	}
	for _, c := range cases {
		in := ruleInput(o, mem, c.st)
		m := in.Member
		if in.Trigger != rules.OrderPaid || m.ID != 7 || m.Tier != c.st.tier || m.Birthday != mem.Birthday ||
			m.PaidOrders != c.st.all || m.PaidOrdersThisWeek != c.st.week || m.FirstPurchase != c.firstTime {
			t.Errorf("%+v: member %+v", c.st, m)
		}
		want := &rules.Order{ID: "o1", AmountFen: 1000, Store: "s1", Channel: "mini", OccurredAt: e.OccurredAt,
			Lines: []rules.OrderLine{{SKU: "A", Category: "shoes", Qty: 1, AmountFen: 600}, {SKU: "B", Qty: 2, AmountFen: 400}}}
		if !reflect.DeepEqual(in.Order, want) {
			t.Errorf("order %+v, want %+v", in.Order, want)
		}
	}

	setBreakdown(o, rules.Result{Total: 15, Lines: []rules.Line{
		{RuleID: 1, Version: 2, Name: "base", Points: 10}, {RuleID: 2, Version: 1, Name: "capped", Points: 0}, {RuleID: 3, Version: 4, Name: "bonus", Points: 5}}})
	want := []BreakdownLine{{RuleID: 1, Version: 2, Name: "base", Points: 10}, {RuleID: 3, Version: 4, Name: "bonus", Points: 5}}
	if o.Points != 15 || !reflect.DeepEqual(o.Breakdown, want) {
		t.Errorf("points %d, breakdown %+v; want 15, %+v", o.Points, o.Breakdown, want)
	}
	setBreakdown(o, rules.Result{})
	if o.Points != 0 || o.Breakdown == nil || len(o.Breakdown) != 0 {
		t.Errorf("no points: %d, %#v; want 0 and an empty breakdown", o.Points, o.Breakdown)
	}
}

func TestEarnInputIsPendingForTheReturnWindow(t *testing.T) {
	o := &Order{ID: "o1", MemberID: 7, Points: 15, OccurredAt: now}
	for _, c := range []struct {
		window time.Duration
		at     time.Time
	}{{7 * 24 * time.Hour, now.AddDate(0, 0, 7)}, {0, now}, {-time.Hour, now}} {
		in := (&Service{ReturnWindow: c.window}).earnInput(o)
		if in.AvailableAt != c.at || in.MemberID != 7 || in.Points != 15 || in.Key != "order:o1" || in.Ref.Type != "order" || in.Ref.ID != "o1" {
			t.Errorf("window %v: %+v, want available at %v", c.window, in, c.at)
		}
	}
}

func TestWhichEventsAGroupHandles(t *testing.T) {
	ev := func(event, order string, memberID int64) *Event {
		return &Event{EventID: event, Type: Paid, OrderID: order, Member: MemberRef{MemberID: memberID}}
	}
	known := func(id int64) bool { return id != 404 }
	cases := []struct {
		name   string
		events []*Event
		taken  map[string]bool
		want   []int
	}{
		{"all", []*Event{ev("e1", "o1", 1), ev("e2", "o2", 1), ev("e3", "o3", 2)}, nil, []int{0, 1, 2}},
		{"a replay", []*Event{ev("e1", "o1", 1), ev("e2", "o2", 2)}, map[string]bool{"e1": true}, []int{1}},
		{"an event id twice", []*Event{ev("e1", "o1", 1), ev("e1", "o1", 1), ev("e2", "o2", 1)}, nil, []int{0, 2}},
		{"an order id twice", []*Event{ev("e1", "o1", 1), ev("e2", "o1", 1)}, nil, []int{0}},
		{"an unknown member", []*Event{ev("e1", "o1", 404), ev("e2", "o2", 1)}, nil, []int{1}},
		{"nothing left", []*Event{ev("e1", "o1", 404)}, nil, nil},
	}
	for _, c := range cases {
		if got := inGroup(c.events, c.taken, known); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}

	for _, c := range []struct {
		name string
		e    Event
		ok   bool
	}{
		{"paid by member id", Event{Type: Paid, Member: MemberRef{MemberID: 1}}, true},
		{"paid by openid", Event{Type: Paid, Member: MemberRef{OpenID: "o"}}, false},
		{"paid with a points hold", Event{Type: Paid, Member: MemberRef{MemberID: 1}, PointsHoldID: 9}, false},
		{"refunded", Event{Type: Refunded, Member: MemberRef{MemberID: 1}}, false},
	} {
		if got := c.e.groupable(); got != c.ok {
			t.Errorf("%s: groupable %v, want %v", c.name, got, c.ok)
		}
	}
}
