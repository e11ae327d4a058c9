package ledgerstore_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/testenv"
)

// The ledger benchmarks run with 16 goroutines and report ops/s; the raw
// baseline (BenchmarkRawCommit, run first) is measured in the same run so
// the ratios ("x_raw") are comparable on a noisy machine:
//
//	JIFEN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' go test -run='^$' -bench=. -benchtime=2000x ./repo/ledgerstore/
const benchClients = 16

var rawOpsPerSec atomic.Value // float64, set by BenchmarkRawCommit

func parallel16(b *testing.B) {
	b.SetParallelism((benchClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
}

func report(b *testing.B) {
	ops := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(ops, "ops/s")
	if raw, ok := rawOpsPerSec.Load().(float64); ok && raw > 0 {
		b.ReportMetric(ops/raw, "x_raw")
	}
}

// BenchmarkRawCommit is the baseline: one autocommit single-row INSERT.
func BenchmarkRawCommit(b *testing.B) {
	env := testenv.New(b)
	db := env.DB.Conn(context.Background())
	if err := db.Exec("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY " + autoInc(env) + ", member_id BIGINT NOT NULL, v BIGINT NOT NULL)").Error; err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	parallel16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			if err := db.Exec("INSERT INTO bench_raw (member_id, v) VALUES (?, ?)", i%1000, i).Error; err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	rawOpsPerSec.Store(float64(b.N) / b.Elapsed().Seconds())
	report(b)
}

func autoInc(env *testenv.Env) string {
	if env.DB.Dialect() == "mysql" {
		return "AUTO_INCREMENT"
	}
	return ""
}

func benchService(b *testing.B) *ledger.Service {
	env := testenv.New(b)
	return &ledger.Service{Store: &ledgerstore.Store{DB: env.DB}, Tx: env.DB, Clock: domain.NewFakeClock(t0)}
}

// BenchmarkEarnSpread earns on 1,000 members (accounts exist already).
func BenchmarkEarnSpread(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	for m := int64(1); m <= 1000; m++ {
		if _, err := svc.Earn(ctx, ledger.EarnInput{MemberID: m, Points: 1, Key: fmt.Sprint("seed-", m), Ref: ledger.Ref{Type: "seed", ID: "1"}}); err != nil {
			b.Fatal(err)
		}
	}
	run := fmt.Sprint(time.Now().UnixNano())
	var seq atomic.Int64
	parallel16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			_, err := svc.Earn(ctx, ledger.EarnInput{MemberID: 1 + i%1000, Points: 10, Key: fmt.Sprintf("e-%s-%d", run, i),
				Ref: ledger.Ref{Type: "order", ID: fmt.Sprint(i)}, Title: "购物奖励"})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	report(b)
}

// BenchmarkSpendHot spends 1 point at a time from ONE account.
func BenchmarkSpendHot(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	if _, err := svc.Earn(ctx, ledger.EarnInput{MemberID: 1, Points: 1e9, Key: "seed", Ref: ledger.Ref{Type: "seed", ID: "1"}}); err != nil {
		b.Fatal(err)
	}
	run := fmt.Sprint(time.Now().UnixNano())
	var seq atomic.Int64
	parallel16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			_, err := svc.Spend(ctx, ledger.SpendInput{MemberID: 1, Points: 1, Key: fmt.Sprintf("s-%s-%d", run, i), Ref: ledger.Ref{Type: "draw", ID: fmt.Sprint(i)}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	report(b)
}
