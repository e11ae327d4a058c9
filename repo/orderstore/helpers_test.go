package orderstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/birthday"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/domain/rules"
	"github.com/jifen/jifen/domain/tier"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/memberstore"
	"github.com/jifen/jifen/repo/orderstore"
	"github.com/jifen/jifen/repo/rulestore"
	"github.com/jifen/jifen/repo/testenv"
	"github.com/jifen/jifen/repo/tierstore"
)

// world is the order services wired on one test's real stores, as
// cmd/jifen/app wires them.
type world struct {
	env      *testenv.Env
	clock    *domain.FakeClock
	members  *memberstore.Store
	ledger   *ledger.Service
	rules    *rules.Service
	tiers    *tier.Service
	orders   *orders.Service
	birthday *birthday.Service
}

var levels = []tier.Level{
	{Code: "normal", Name: "普通"},
	{Code: "silver", Name: "银卡", Growth: 1000, Price: 500},
	{Code: "gold", Name: "金卡", Growth: 5000, Price: 1000},
	{Code: "diamond", Name: "钻石", Growth: 20000, Price: 5000},
}

// newWorld wires the services with group commit of paid events and the
// rule cache on, as the default configuration does.
func newWorld(t testing.TB, start time.Time) *world {
	t.Helper()
	return newWorldGrouped(t, start, true)
}

func newWorldGrouped(t testing.TB, start time.Time, grouped bool) *world {
	t.Helper()
	env := testenv.New(t)
	w := &world{env: env, clock: domain.NewFakeClock(start), members: &memberstore.Store{DB: env.DB}}
	ls := &ledgerstore.Store{DB: env.DB}
	w.ledger = &ledger.Service{Store: ls, Tx: env.DB, Clock: w.clock}
	rs := rulestore.New(env.DB)
	w.rules = &rules.Service{Store: rs, Usage: rs, Budget: rs, Tx: env.DB, Clock: w.clock}
	if grouped {
		w.rules.CacheTTL = 2 * time.Second
	}
	ts := &tierstore.Store{DB: env.DB, Members: w.members}
	w.tiers = &tier.Service{Levels: levels, Store: ts, Ledger: w.ledger, Tx: env.DB, Clock: w.clock}
	w.orders = &orders.Service{Store: orderstore.New(env.DB, ts, ls, w.members), Members: w.members, Rules: w.rules, Ledger: w.ledger,
		Tier: w.tiers, Tx: env.DB, Clock: w.clock, ReturnWindow: 7 * 24 * time.Hour}
	if grouped {
		w.orders.GroupCommit = batch.Settings{Committers: 2, Max: 64}
	}
	w.birthday = &birthday.Service{Members: w.members, Store: ts, Rules: w.rules, Ledger: w.ledger, Tier: w.tiers, Tx: env.DB, Clock: w.clock}
	return w
}

func (w *world) member(t testing.TB, name string) int64 {
	t.Helper()
	m := &member.Member{OpenID: "openid-" + name, CreatedAt: w.clock.Now(), LastActive: w.clock.Now()}
	if err := w.members.Create(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func (w *world) rule(t testing.TB, r rules.Rule) int64 {
	t.Helper()
	out, err := w.rules.Create(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return out.ID
}

var seq int

func (w *world) pay(t testing.TB, memberID int64, orderID string, fen int64) orders.Outcome {
	t.Helper()
	seq++
	out, err := w.orders.Handle(context.Background(), orders.Event{EventID: fmt.Sprintf("pay-%s", orderID), Type: orders.Paid,
		OrderID: orderID, Member: orders.MemberRef{MemberID: memberID}, OccurredAt: w.clock.Now(), TotalFen: fen,
		Lines: []orders.Line{{SKU: "SKU-" + orderID, Category: "A", Qty: 1, AmountFen: fen}}})
	if err != nil {
		t.Fatalf("pay %s: %v", orderID, err)
	}
	return out
}

func (w *world) refund(t testing.TB, eventID, orderID string, fen int64) orders.Outcome {
	t.Helper()
	out, err := w.orders.Handle(context.Background(), orders.Event{EventID: eventID, Type: orders.Refunded, OrderID: orderID,
		OccurredAt: w.clock.Now(), TotalFen: fen})
	if err != nil {
		t.Fatalf("refund %s: %v", orderID, err)
	}
	return out
}

// settle releases due pending points, as the daily job does.
func (w *world) settle(t testing.TB) {
	t.Helper()
	if _, err := w.ledger.ReleasePending(context.Background(), w.clock.Now(), 100); err != nil {
		t.Fatal(err)
	}
}

func (w *world) check(t testing.TB, memberID int64) {
	t.Helper()
	v, err := w.ledger.Check(context.Background(), memberID)
	if err != nil || len(v) > 0 {
		t.Fatalf("ledger invariants of member %d: %v %v", memberID, v, err)
	}
}

func rate(name string) rules.Rule {
	return rules.Rule{Name: name, Trigger: rules.OrderPaid, Effect: rules.Effect{Kind: rules.Rate, Brackets: []rules.Bracket{{FromFen: 0, PerMille: 1000}}}}
}
