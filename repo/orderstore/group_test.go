package orderstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/domain/rules"
)

// groupRules are rules whose per-member and global limits make grouping
// matter: a rate, a bonus on every 2nd order and on the first purchase
// (order counters), a bonus capped at 100 a day per member, and one drawing
// on a pool of 700 that the members together would exceed.
func groupRules(t *testing.T, w *world) (capped, pooled int64) {
	w.rule(t, rate("基础"))
	w.rule(t, rules.Rule{Name: "每2单", Trigger: rules.OrderPaid, Conditions: rules.Conditions{EveryNthOrder: 2},
		Effect: rules.Effect{Kind: rules.Bonus, Points: 30}})
	w.rule(t, rules.Rule{Name: "首单", Trigger: rules.OrderPaid, Conditions: rules.Conditions{FirstPurchase: true},
		Effect: rules.Effect{Kind: rules.Bonus, Points: 20}})
	capped = w.rule(t, rules.Rule{Name: "每日上限", Trigger: rules.OrderPaid, Caps: rules.Caps{PerDay: 100},
		Effect: rules.Effect{Kind: rules.Bonus, Points: 50}})
	pooled = w.rule(t, rules.Rule{Name: "限量", Trigger: rules.OrderPaid, Budget: 700,
		Effect: rules.Effect{Kind: rules.Bonus, Points: 40}})
	return capped, pooled
}

const groupMembers, groupPerMember = 12, 6

func groupEvent(w *world, ids []int64, i int) orders.Event {
	fen := int64(1000 + 100*i)
	return orders.Event{EventID: fmt.Sprint("ge", i), Type: orders.Paid, OrderID: fmt.Sprint("go", i),
		Member: orders.MemberRef{MemberID: ids[i%groupMembers]}, OccurredAt: w.clock.Now(), TotalFen: fen,
		Lines: []orders.Line{{SKU: "s", Category: "A", Qty: 1, AmountFen: fen}}}
}

type groupTotals struct {
	ids       []int64
	total     int64
	perMember map[int64]int64 // ledger pending + available
	capped    map[int64]int64 // points of the capped rule
	pooled    map[int64]int64 // points of the pool's rule
}

func runGroupScenario(t *testing.T, w *world, concurrent bool) (groupTotals, map[string]orders.Outcome) {
	capped, pooled := groupRules(t, w)
	ids := make([]int64, groupMembers)
	for i := range ids {
		ids[i] = w.member(t, fmt.Sprint("g", i))
	}
	n := groupMembers * groupPerMember
	outs := make([]orders.Outcome, n)
	errs := make([]error, n)
	if concurrent {
		var wg sync.WaitGroup
		startGate := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-startGate
				outs[i], errs[i] = w.orders.Handle(context.Background(), groupEvent(w, ids, i))
			}()
		}
		close(startGate)
		wg.Wait()
	} else {
		for i := range n {
			outs[i], errs[i] = w.orders.Handle(context.Background(), groupEvent(w, ids, i))
		}
	}
	got := groupTotals{ids: ids, perMember: map[int64]int64{}, capped: map[int64]int64{}, pooled: map[int64]int64{}}
	byEvent := map[string]orders.Outcome{}
	for i, out := range outs {
		if errs[i] != nil {
			t.Fatalf("event %d: %v", i, errs[i])
		}
		if out.Status != orders.Applied || out.Replayed {
			t.Fatalf("event %d: %+v", i, out)
		}
		got.total += out.PointsAwarded
		for _, l := range out.Breakdown {
			switch l.RuleID {
			case capped:
				got.capped[out.MemberID] += l.Points
			case pooled:
				got.pooled[out.MemberID] += l.Points
			}
		}
		byEvent[out.EventID] = out
	}
	for _, id := range ids {
		b, err := w.ledger.Balance(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		got.perMember[id] = b.Pending + b.Available
		w.check(t, id)
		st, _, err := w.tiers.Store.Get(context.Background(), id)
		if err != nil || st.PaidOrders != groupPerMember || st.WeekOrders != groupPerMember {
			t.Fatalf("tier row of member %d: %+v %v", id, st, err)
		}
		used, err := w.rules.Usage.Awarded(context.Background(), id, capped, domain.DayOf(w.clock.Now()), domain.DayOf(w.clock.Now()))
		if err != nil || used != got.capped[id] || used != 100 {
			t.Fatalf("member %d: capped rule usage %d (%v), breakdowns say %d, cap 100", id, used, err, got.capped[id])
		}
	}
	left, err := w.rules.Budget.Remaining(context.Background(), pooled)
	if err != nil || left != 0 {
		t.Fatalf("pool holds %d (%v), want 0", left, err)
	}
	var poolSum int64
	for _, n := range got.pooled {
		poolSum += n
	}
	if poolSum != 700 {
		t.Fatalf("pool's rule awarded %d, pool was 700", poolSum)
	}
	return got, byEvent
}

// Concurrent paid events, many of them grouped (two members' events in one
// group, one member's several events in one group), give the totals the
// same events give one after another: same points in all, the same
// per-member points from the rules that do not depend on arrival order,
// caps and the pool never exceeded, ledger invariants intact. A replay of
// every event answers the first outcome.
func TestGroupedPaidEventsMatchSequential(t *testing.T) {
	t.Parallel()
	seq := newWorldGrouped(t, start, false)
	want, _ := runGroupScenario(t, seq, false)
	if g, _ := seq.orders.GroupStats(); g != 0 {
		t.Fatalf("sequential world grouped %d groups", g)
	}

	w := newWorld(t, start)
	got, first := runGroupScenario(t, w, true)
	groups, grouped := w.orders.GroupStats()
	t.Logf("%d groups answered %d of %d events", groups, grouped, groupMembers*groupPerMember)
	// Every event was answered by a group (a group that failed would have
	// sent its events down the ordinary path), and groups held several.
	if grouped != groupMembers*groupPerMember || grouped <= groups {
		t.Fatalf("%d groups answered %d events, want all %d in groups of several", groups, grouped, groupMembers*groupPerMember)
	}
	if got.total != want.total {
		t.Fatalf("grouped total %d, sequential %d", got.total, want.total)
	}
	// Apart from the pool's share, which depends on arrival order, each
	// member's points are the same.
	for i, id := range got.ids {
		wid := want.ids[i]
		if got.perMember[id]-got.pooled[id] != want.perMember[wid]-want.pooled[wid] {
			t.Fatalf("member %d: grouped %d (pool %d), sequential %d (pool %d)", i, got.perMember[id], got.pooled[id], want.perMember[wid], want.pooled[wid])
		}
	}

	// Replays, concurrent again: the first outcome, nothing written twice.
	ids := got.ids
	var wg sync.WaitGroup
	for i := range groupMembers * groupPerMember {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := groupEvent(w, ids, i)
			out, err := w.orders.Handle(context.Background(), e)
			if err != nil {
				t.Errorf("replay %d: %v", i, err)
				return
			}
			f := first[e.EventID]
			if !out.Replayed || out.PointsAwarded != f.PointsAwarded || out.MemberID != f.MemberID {
				t.Errorf("replay %d: %+v, first %+v", i, out, f)
			}
		}()
	}
	wg.Wait()
	for id, p := range got.perMember {
		b, err := w.ledger.Balance(context.Background(), id)
		if err != nil || b.Pending+b.Available != p {
			t.Fatalf("member %d after replays: %+v %v, want %d", id, b, err, p)
		}
	}
}

// Events that cannot be grouped leave their group and get the answer they
// get alone, while the rest of the group commits: an unknown member id
// (422), an order id already paid under another event id (409), an event
// id twice at once (one applied, the other a replay or "being processed").
func TestGroupedEventsThatCannotJoinRunAlone(t *testing.T) {
	t.Parallel()
	w := newWorld(t, start)
	w.rule(t, rate("基础"))
	ids := []int64{w.member(t, "a"), w.member(t, "b"), w.member(t, "c")}
	w.pay(t, ids[0], "paid-before", 1000)
	ev := func(event, order string, member int64) orders.Event {
		return orders.Event{EventID: event, Type: orders.Paid, OrderID: order, Member: orders.MemberRef{MemberID: member},
			OccurredAt: w.clock.Now(), TotalFen: 500, Lines: []orders.Line{{SKU: "s", Qty: 1, AmountFen: 500}}}
	}
	events := []orders.Event{ev("x1", "ox1", ids[0]), ev("x2", "ox2", ids[1]), ev("x3", "ox3", ids[2]),
		ev("x4", "ox4", 999999), ev("x5", "paid-before", ids[1]), ev("x6", "ox6", ids[2]), ev("x6", "ox6", ids[2])}
	outs := make([]orders.Outcome, len(events))
	errs := make([]error, len(events))
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			outs[i], errs[i] = w.orders.Handle(context.Background(), events[i])
		}()
	}
	close(gate)
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil || outs[i].PointsAwarded != 5 {
			t.Fatalf("event %d: %+v %v", i, outs[i], errs[i])
		}
	}
	if domain.ErrorCode(errs[3]) != domain.RuleViolation {
		t.Fatalf("unknown member: %v", errs[3])
	}
	if domain.ErrorCode(errs[4]) != domain.Conflict {
		t.Fatalf("order paid before: %v", errs[4])
	}
	applied := 0
	for _, i := range []int{5, 6} {
		switch {
		case errs[i] == nil && !outs[i].Replayed && outs[i].PointsAwarded == 5:
			applied++
		case errs[i] == nil && outs[i].Replayed, domain.ErrorCode(errs[i]) == domain.Conflict:
		default:
			t.Fatalf("event x6 (%d): %+v %v", i, outs[i], errs[i])
		}
	}
	if applied != 1 {
		t.Fatalf("event x6 applied %d times", applied)
	}
	for _, id := range ids {
		w.check(t, id)
	}
	if b, _ := w.ledger.Balance(context.Background(), ids[2]); b.Pending != 10 {
		t.Fatalf("member c holds %+v, want 10 pending", b)
	}
}
