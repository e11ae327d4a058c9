package ledgerstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/testenv"
)

// t0 is 10:00 on 1 November 2026 in Shanghai.
var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, domain.Shanghai)

const day = 24 * time.Hour

type fixture struct {
	t     testing.TB
	ctx   context.Context
	env   *testenv.Env
	svc   *ledger.Service
	clock *domain.FakeClock
	seq   atomic.Int64
}

// newFixture's service commits concurrent earns and spends in groups, as
// the app does; newFixtureAlone's runs every write alone.
func newFixture(t testing.TB) *fixture {
	f := newFixtureAlone(t)
	f.svc.GroupCommit = batch.Settings{Committers: 2}
	return f
}

func newFixtureAlone(t testing.TB) *fixture {
	env := testenv.New(t)
	clock := domain.NewFakeClock(t0)
	svc := &ledger.Service{Store: &ledgerstore.Store{DB: env.DB}, Tx: env.DB, Clock: clock}
	return &fixture{t: t, ctx: context.Background(), env: env, svc: svc, clock: clock}
}

func (f *fixture) key() string { return fmt.Sprintf("k%d", f.seq.Add(1)) }

// earn credits n points expiring after exp (available now).
func (f *fixture) earn(member, n int64, ref string, exp time.Duration) ledger.Entry {
	f.t.Helper()
	e, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: member, Points: n, Key: f.key(),
		Ref: ledger.Ref{Type: "order", ID: ref}, ExpiresAt: f.clock.Now().Add(exp)})
	if err != nil {
		f.t.Fatalf("earn %d: %v", n, err)
	}
	return e
}

func (f *fixture) spend(member, n int64, ref string) (ledger.Entry, error) {
	return f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: member, Points: n, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: ref}})
}

func (f *fixture) mustSpend(member, n int64, ref string) ledger.Entry {
	f.t.Helper()
	e, err := f.spend(member, n, ref)
	if err != nil {
		f.t.Fatalf("spend %d: %v", n, err)
	}
	return e
}

// want asserts the balance fields and that Check is clean.
func (f *fixture) want(member, available, pending, held, debt int64) ledger.Balance {
	f.t.Helper()
	b, err := f.svc.Balance(f.ctx, member)
	if err != nil {
		f.t.Fatal(err)
	}
	if b.Available != available || b.Pending != pending || b.Held != held || b.Debt != debt {
		f.t.Fatalf("balance = avail %d pending %d held %d debt %d, want %d %d %d %d",
			b.Available, b.Pending, b.Held, b.Debt, available, pending, held, debt)
	}
	f.clean(member)
	return b
}

func (f *fixture) clean(member int64) {
	f.t.Helper()
	v, err := f.svc.Check(f.ctx, member)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(v) > 0 {
		f.t.Fatalf("check member %d: %+v", member, v)
	}
}

func wantCode(t testing.TB, err error, code domain.Code) {
	t.Helper()
	if got := domain.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func wantEntry(t testing.TB, e ledger.Entry, kind ledger.Kind, amount, delta, balanceAfter int64) {
	t.Helper()
	if e.Kind != kind || e.Amount != amount || e.Delta != delta || e.BalanceAfter != balanceAfter {
		t.Fatalf("entry %s amount %d delta %d after %d, want %s %d %d %d", e.Kind, e.Amount, e.Delta, e.BalanceAfter, kind, amount, delta, balanceAfter)
	}
}
