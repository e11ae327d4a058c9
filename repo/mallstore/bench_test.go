package mallstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/repo/testenv"
)

// BenchmarkA_RawCommit is the raw single-row commit baseline
// (testenv.BenchRawCommit), measured first in the same run.
func BenchmarkA_RawCommit(b *testing.B) { testenv.BenchRawCommit(b) }

// BenchmarkB_RedeemHotItem: redemptions of ONE hot physical item (stock
// never runs out, no per-member limit) by 1,000 members with
// JIFEN_BENCH_CLIENTS clients (16 by default), wired as the app does:
// group commit with 2 committers of up to 64 (the Redis gate per request,
// then one transaction per group: the members' lock rows, one INSERT of
// the redemptions, one ledger apply of the spends, one conditional stock
// update of the item).
func BenchmarkB_RedeemHotItem(b *testing.B) { benchRedeem(b, newFixtureWith(b, grouped)) }

// BenchmarkB2_RedeemHotItemAlone: the same redemptions one by one, each its
// own transaction (group commit off).
func BenchmarkB2_RedeemHotItemAlone(b *testing.B) { benchRedeem(b, newFixtureWith(b, oneByOne)) }

func benchRedeem(b *testing.B, f *fixture) {
	it := f.item(b, mall.Item{Kind: mall.KindPhysical, Stock: mall.MaxStock, Points: 10})
	for m := int64(1); m <= 1000; m++ {
		f.fund(b, m, 1_000_000)
	}
	run := fmt.Sprint(time.Now().UnixNano())
	var seq atomic.Int64
	testenv.Parallel16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			if _, err := f.svc.Redeem(context.Background(), 1+i%1000, it.ID, fmt.Sprint(run, i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	testenv.ReportOps(b)
	if groups, grouped := f.svc.GroupStats(); groups > 0 {
		b.ReportMetric(float64(grouped)/float64(groups), "redemptions/group")
		b.ReportMetric(float64(grouped)/float64(b.N), "grouped/op")
	}
}
