package lotterystore_test

import (
	"context"
	"fmt"
	"github.com/jifen/jifen/domain/batch"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/lottery"
	"github.com/jifen/jifen/repo/lotterystore"
	"github.com/jifen/jifen/repo/testenv"
)

// BenchmarkA_RawCommit is the raw single-row commit baseline (testenv.BenchRawCommit).
func BenchmarkA_RawCommit(b *testing.B) { testenv.BenchRawCommit(b) }

// BenchmarkB_DrawWithCost: full draws (Gate + SQL with a 10-point cost
// and a points prize), 1,000 members, 16 clients, wired as the app does:
// group commit with 2 committers, campaigns cached for a second.
func BenchmarkB_DrawWithCost(b *testing.B) { benchDraws(b, newFixture(b)) }

// BenchmarkB2_DrawWithCostAlone: the same draws, each its own transaction
// with a campaign read per draw (group commit off, no cache) — the path
// every draw took before group commit.
func BenchmarkB2_DrawWithCostAlone(b *testing.B) {
	benchDraws(b, newFixtureWith(b, batch.Settings{}, 0))
}

func benchDraws(b *testing.B, f *fixture) {
	c := f.campaign(b, lottery.Campaign{CostPoints: 10, Prizes: []lottery.Prize{
		{Name: "5积分", Kind: lottery.KindPoints, Points: 5, Weight: 1, Stock: lottery.Unlimited},
		{Name: "谢谢参与", Kind: lottery.KindNothing, Weight: 3, Stock: lottery.Unlimited},
	}})
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
			if _, err := f.svc.Draw(context.Background(), 1+i%1000, c.ID, fmt.Sprint(run, i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	testenv.ReportOps(b)
	if groups, grouped := f.svc.GroupStats(); groups > 0 {
		b.ReportMetric(float64(grouped)/float64(groups), "draws/group")
		b.ReportMetric(float64(grouped)/float64(b.N), "grouped/op")
	}
}

// BenchmarkC_GateOnly: the Redis Lua reserve alone (stocked prize).
func BenchmarkC_GateOnly(b *testing.B) {
	f := newFixture(b)
	gate := &lotterystore.Gate{R: f.env.Redis}
	c := &lottery.Campaign{ID: 1, Prizes: []lottery.Prize{{ID: 1, Kind: lottery.KindGift, Weight: 1, Stock: 1 << 40}}}
	ctx := context.Background()
	for m := int64(1); m <= 1000; m++ {
		if err := gate.Rebuild(ctx, c, m, 20261123, lottery.MemberState{}); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Int64
	testenv.Parallel16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			out, err := gate.Reserve(ctx, lottery.Reservation{CampaignID: 1, MemberID: 1 + i%1000, Day: 20261123, PrizeID: 1})
			if err != nil || out != lottery.GateReserved {
				b.Errorf("reserve: %v %v", out, err)
				return
			}
		}
	})
	b.StopTimer()
	testenv.ReportOps(b)
}
