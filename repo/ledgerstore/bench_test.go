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

// BenchmarkRawCommit is the raw single-row commit baseline (testenv.BenchRawCommit).
func BenchmarkRawCommit(b *testing.B) { testenv.BenchRawCommit(b) }

func benchService(b *testing.B) *ledger.Service {
	env := testenv.New(b)
	return &ledger.Service{Store: &ledgerstore.Store{DB: env.DB}, Tx: env.DB, Clock: domain.NewFakeClock(t0), GroupCommit: batch.Settings{Committers: 2}}
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
	testenv.Parallel16(b)
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
	testenv.ReportOps(b)
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
	testenv.Parallel16(b)
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
	testenv.ReportOps(b)
}

// BenchmarkSpendLots debits 1 point at a time, one by one (an adjustment
// with group commit off: the path of a guide's grant and of a group's
// fallback), from ONE member holding 1 lot or 1,000 live
// lots of the same total (10,000 points; run it with -benchtime below
// that, e.g. 3000x): issue 20 asks the two rates to be within 10%, since
// a spend needs only the lots that expire first.
func BenchmarkSpendLots(b *testing.B) {
	for _, lots := range []int64{1, 1000} {
		b.Run(fmt.Sprint("lots=", lots), func(b *testing.B) {
			svc := benchService(b)
			svc.GroupCommit = batch.Settings{}
			ctx := context.Background()
			per := 10_000 / lots // 10 points a lot: the spends walk through hundreds of lots
			ops := make([]ledger.Op, 0, lots)
			for i := int64(0); i < lots; i++ {
				ops = append(ops, ledger.Op{Earn: &ledger.EarnInput{MemberID: 1, Points: per, Key: fmt.Sprint("seed-", i),
					Ref: ledger.Ref{Type: "seed", ID: fmt.Sprint(i)}, ExpiresAt: t0.Add(time.Duration(30+i) * day)}})
			}
			if _, errs, err := svc.Apply(ctx, ops); err != nil || errs[0] != nil {
				b.Fatal(err, errs[0])
			}
			run := fmt.Sprint(time.Now().UnixNano())
			var seq atomic.Int64
			testenv.Parallel16(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					_, err := svc.Adjust(ctx, ledger.AdjustInput{MemberID: 1, Points: -1, Key: fmt.Sprintf("a-%s-%d", run, i),
						Operator: "bench", Reason: "bench"})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			testenv.ReportOps(b)
		})
	}
}
