package signinstore_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/signinstore"
	"github.com/jifen/jifen/repo/testenv"
)

// BenchmarkRawCommit is the raw single-row commit baseline (testenv.BenchRawCommit).
func BenchmarkRawCommit(b *testing.B) { testenv.BenchRawCommit(b) }

func service(b *testing.B, clock domain.Clock) (*signin.Service, *testenv.Env) {
	env := testenv.New(b)
	st := &signinstore.Store{DB: env.DB}
	l := &ledger.Service{Store: &ledgerstore.Store{DB: env.DB}, Tx: env.DB, Clock: clock}
	// Members have accounts already (the ledger's first-account insert is
	// not what this measures, and deadlocks under 16 new members at once
	// on MariaDB; see the README).
	if err := env.DB.Conn(context.Background()).Exec(seedAccounts(env.DB.Dialect() == "mysql")).Error; err != nil {
		b.Fatal(err)
	}
	return &signin.Service{Store: st, Cache: &signinstore.Calendar{R: env.Redis}, Tx: env.DB, Ledger: l, Clock: clock,
		Rewards: signin.Rewards{Base: 10, Cycle: 7, Ladder: []signin.Step{{Day: 3, Bonus: 5}}, MakeupsPerMonth: 2, MakeupCost: 20}}, env
}

// BenchmarkSignIn signs members 1..10,000 in (one sign-in each per day;
// the clock moves a day every 10,000 operations).
func BenchmarkSignIn(b *testing.B) {
	clock := domain.NewFakeClock(time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	svc, _ := service(b, clock)
	ctx := context.Background()
	var seq atomic.Int64
	testenv.Parallel16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1) - 1
			if i > 0 && i%10000 == 0 {
				clock.Advance(24 * time.Hour) // good enough for a benchmark: -benchtime=10000x keeps one day
			}
			if _, err := svc.SignIn(ctx, i%10000+1); err != nil && domain.ErrorCode(err) != domain.AlreadySignedIn {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	testenv.ReportOps(b)
}

// BenchmarkCalendar reads calendars of 1,000 members who signed in (bitmap
// in Redis, streak and make-ups from SQL).
func BenchmarkCalendar(b *testing.B) {
	clock := domain.NewFakeClock(time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	svc, _ := service(b, clock)
	ctx := context.Background()
	for m := int64(1); m <= 1000; m++ {
		if _, err := svc.SignIn(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Int64
	testenv.Parallel16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := seq.Add(1)%1000 + 1
			if v, err := svc.Calendar(ctx, m, ""); err != nil || !v.SignedToday {
				b.Errorf("calendar %d: %+v %v", m, v, err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func seedAccounts(bool) string {
	q := "INSERT INTO ledger_accounts (member_id, available, pending, held, debt, lifetime_earned, version, updated_at) VALUES "
	for m := 1; m <= 10000; m++ {
		if m > 1 {
			q += ","
		}
		q += "(" + strconv.Itoa(m) + ",0,0,0,0,0,0,'2026-11-01 00:00:00')"
	}
	return q
}
