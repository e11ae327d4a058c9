package signinstore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/signinstore"
	"github.com/jifen/jifen/repo/testenv"
)

// fixture is a sign-in service over fresh stores, configured as
// cmd/jifen/app configures it by default (group commit on, 1 committer,
// groups of 64 at most), with the reward ladder of configs/default.yaml's
// first three days (10, 10, 15) and members 1..10,000 holding an account.
type fixture struct {
	svc    *signin.Service
	ledger *ledger.Service
	store  *signinstore.Store
	env    *testenv.Env
	ctx    context.Context
}

func newFixture(tb testing.TB, clock domain.Clock) *fixture {
	env := testenv.New(tb)
	ls := &ledgerstore.Store{DB: env.DB}
	st := signinstore.New(env.DB, ls)
	l := &ledger.Service{Store: ls, Tx: env.DB, Clock: clock}
	// Members have accounts already (the ledger's first-account insert is
	// not what this measures, and deadlocks under 16 new members at once
	// on MariaDB; see docs/features/signin.md).
	if err := env.DB.Conn(context.Background()).Exec(seedAccounts()).Error; err != nil {
		tb.Fatal(err)
	}
	svc := &signin.Service{Store: st, Cache: &signinstore.Calendar{R: env.Redis}, Tx: env.DB, Ledger: l, Clock: clock,
		Rewards:     signin.Rewards{Base: 10, Cycle: 7, Ladder: []signin.Step{{Day: 3, Bonus: 5}}, MakeupsPerMonth: 2, MakeupCost: 20},
		GroupCommit: batch.Settings{Committers: 1, Max: 64}}
	return &fixture{svc: svc, ledger: l, store: st, env: env, ctx: context.Background()}
}

func seedAccounts() string {
	var q strings.Builder
	q.WriteString("INSERT INTO ledger_accounts (member_id, available, pending, held, debt, lifetime_earned, version, updated_at) VALUES ")
	for m := 1; m <= 10000; m++ {
		if m > 1 {
			q.WriteString(",")
		}
		q.WriteString("(" + strconv.Itoa(m) + ",0,0,0,0,0,0,'2026-11-01 00:00:00')")
	}
	return q.String()
}
