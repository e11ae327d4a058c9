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
// JIFEN_BENCH_CLIENTS clients (16 by default): the Redis gate, then one
// transaction with the member's lock row, the redemption, the ledger spend
// and the item's conditional stock update.
func BenchmarkB_RedeemHotItem(b *testing.B) {
	f := newFixture(b)
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
}
