package orderstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/domain/rules"
)

// 200 concurrent paid orders draw on a campaign pool of 1,000 points (10
// points an order): the pool is spent exactly, never more, and every
// account keeps its invariants.
func TestConcurrentOrdersNeverOverspendTheBudgetPool(t *testing.T) {
	t.Parallel()
	w := newWorld(t, start)
	w.rule(t, rules.Rule{Name: "开业活动", Trigger: rules.OrderPaid, Budget: 1000, Effect: rules.Effect{Kind: rules.Fixed, Points: 10}})
	const members, orderCount = 20, 200
	ids := make([]int64, members)
	for i := range ids {
		ids[i] = w.member(t, fmt.Sprintf("c%d", i))
	}
	var firsts sync.Map
	w.orders.OnFirstPaid = append(w.orders.OnFirstPaid, func(_ context.Context, p orders.FirstPaid) error {
		if _, dup := firsts.LoadOrStore(p.MemberID, p.OrderID); dup {
			return fmt.Errorf("first paid twice for member %d", p.MemberID)
		}
		return nil
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var awarded int64
	errs := make(chan error, orderCount)
	for i := range orderCount {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := w.orders.Handle(context.Background(), orders.Event{EventID: fmt.Sprint("e", i), Type: orders.Paid,
				OrderID: fmt.Sprint("o", i), Member: orders.MemberRef{MemberID: ids[i%members]}, OccurredAt: w.clock.Now(),
				TotalFen: 100, Lines: []orders.Line{{SKU: "s", Qty: 1, AmountFen: 100}}})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			awarded += out.PointsAwarded
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if awarded != 1000 {
		t.Fatalf("awarded %d points from a pool of 1,000", awarded)
	}
	var inLedger int64
	for _, id := range ids {
		b, err := w.ledger.Balance(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		inLedger += b.Pending + b.Available
		w.check(t, id)
	}
	if inLedger != 1000 {
		t.Fatalf("ledger holds %d points", inLedger)
	}
	n := 0
	firsts.Range(func(any, any) bool { n++; return true })
	if n != members {
		t.Fatalf("first-paid hook ran for %d members, want %d", n, members)
	}
}
