package orderstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/orderstore"
	"github.com/jifen/jifen/repo/testenv"
)

func paidOrder(id string, member int64) *orders.Order {
	return &orders.Order{ID: id, MemberID: member, Status: orders.StatusMatched, TotalFen: 100,
		Lines: []orders.Line{{SKU: "s", Qty: 1, AmountFen: 100}}, Refunded: map[string]int64{}, Breakdown: []orders.BreakdownLine{},
		OccurredAt: start, CreatedAt: start, UpdatedAt: start}
}

func paidEvent(id, order string) orders.EventRecord {
	return orders.EventRecord{EventID: id, OrderID: order, Type: orders.Paid, RequestHash: "h-" + id,
		Outcome: orders.Outcome{EventID: id, Type: orders.Paid, Status: orders.Applied, OrderID: order, PointsAwarded: 1}, CreatedAt: start}
}

// withPaidE1 is a fresh store holding event e1 of order o1 (member 7),
// written by a pipelined transaction.
func withPaidE1(t *testing.T) (*testenv.Env, *orderstore.Store, context.Context) {
	t.Helper()
	env := testenv.New(t)
	st := &orderstore.Store{DB: env.DB}
	ctx := context.Background()
	if err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		return st.InsertPaid(ctx, []orders.EventRecord{paidEvent("e1", "o1")}, []*orders.Order{paidOrder("o1", 7)})
	}); err != nil {
		t.Fatal(err)
	}
	return env, st, ctx
}

// TakenEvents answers with the transaction's next statement in a pipelined
// transaction (at once elsewhere); InsertPaid's rows are read back as
// stored.
func TestTakenEventsAndInsertPaid(t *testing.T) {
	t.Parallel()
	env, st, ctx := withPaidE1(t)
	err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		taken := map[string]bool{}
		if err := st.TakenEvents(ctx, []string{"e1", "e2"}, taken); err != nil {
			return err
		}
		if pipelined := env.DB.Dialect() == repo.MySQL; pipelined != (len(taken) == 0) {
			t.Errorf("before the next statement: %v", taken)
		}
		if _, _, err := st.EventByID(ctx, "e2"); err != nil {
			return err
		}
		if !taken["e1"] || taken["e2"] || len(taken) != 1 {
			t.Errorf("taken %v, want e1 only", taken)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ev, found, err := st.EventByID(ctx, "e1")
	if err != nil || !found || ev.RequestHash != "h-e1" || ev.Outcome.PointsAwarded != 1 || ev.OrderID != "o1" {
		t.Fatalf("event e1: %+v %v %v", ev, found, err)
	}
	o, found, err := st.MemberOrder(ctx, 7, "o1")
	if err != nil || !found || o.TotalFen != 100 || len(o.Lines) != 1 || !o.OccurredAt.Equal(start) {
		t.Fatalf("order o1: %+v %v %v", o, found, err)
	}
}

// A taken order or event id fails InsertPaid's transaction (at its COMMIT
// in a pipelined one) with ErrDuplicateEvent, and nothing of it is written.
func TestInsertPaidOfATakenIDFailsTheTransaction(t *testing.T) {
	t.Parallel()
	env, st, ctx := withPaidE1(t)
	for name, c := range map[string]struct {
		events []orders.EventRecord
		orders []*orders.Order
	}{
		"taken order": {[]orders.EventRecord{paidEvent("e2", "o2"), paidEvent("e3", "o1")}, []*orders.Order{paidOrder("o2", 7), paidOrder("o1", 8)}},
		"taken event": {[]orders.EventRecord{paidEvent("e2", "o2"), paidEvent("e1", "o3")}, []*orders.Order{paidOrder("o2", 7), paidOrder("o3", 8)}},
	} {
		err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
			return st.InsertPaid(ctx, c.events, c.orders)
		})
		if !errors.Is(err, orders.ErrDuplicateEvent) {
			t.Fatalf("%s: %v", name, err)
		}
		if _, found, err := st.EventByID(ctx, "e2"); found || err != nil {
			t.Fatalf("%s: event e2 stored (%v)", name, err)
		}
		if _, found, err := st.MemberOrder(ctx, 7, "o2"); found || err != nil {
			t.Fatalf("%s: order o2 stored (%v)", name, err)
		}
	}
}

// LoadPaidGroup answers which event ids are taken and which members exist;
// it runs the first-paid loads (for every member named, repeats included)
// with its own loads only when the rules draw on no limit, and says so.
func TestLoadPaidGroup(t *testing.T) {
	t.Parallel()
	w := newWorld(t, start)
	ann := w.member(t, "ann")
	ctx := context.Background()
	if err := w.env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		return w.orders.Store.InsertPaid(ctx, []orders.EventRecord{paidEvent("e1", "o1")}, []*orders.Order{paidOrder("o1", ann)})
	}); err != nil {
		t.Fatal(err)
	}
	for _, limited := range []bool{false, true} {
		var loadedFor []int64
		var got orders.PaidGroupState
		err := w.env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
			var err error
			got, err = w.orders.Store.LoadPaidGroup(ctx, orders.PaidGroupQuery{
				EventIDs: []string{"e1", "e2"}, Members: []int64{ann, ann + 1000, ann}, Limited: limited,
				LoadFirstPaid: func(ctx context.Context, members []int64) error {
					loadedFor = append(loadedFor, members...)
					return nil
				}})
			return err
		})
		if err != nil {
			t.Fatalf("limited %v: %v", limited, err)
		}
		if !got.Taken["e1"] || got.Taken["e2"] || len(got.Taken) != 1 {
			t.Errorf("limited %v: taken %v, want e1 only", limited, got.Taken)
		}
		if got.Members[ann] == nil || got.Members[ann].ID != ann || len(got.Members) != 1 {
			t.Errorf("limited %v: members %v, want ann (%d) only", limited, got.Members, ann)
		}
		if got.FirstPaidLoaded == limited || (len(loadedFor) == 3) == limited {
			t.Errorf("limited %v: first-paid loads ran %v for %v", limited, got.FirstPaidLoaded, loadedFor)
		}
	}
}
