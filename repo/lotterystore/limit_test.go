package lotterystore_test

import (
	"context"
	"fmt"
	"github.com/jifen/jifen/domain/batch"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/lottery"
)

// limitCampaign: a free draw for a gift of 100 units, one per member,
// picked one draw in two (the 100 units last through about 200 members'
// first draws, while those who won already draw again).
func limitCampaign() lottery.Campaign {
	return lottery.Campaign{Prizes: []lottery.Prize{
		{Name: "限量礼盒", Kind: lottery.KindGift, Weight: 1, Stock: 100, PerMemberLimit: 1},
		{Name: "谢谢参与", Kind: lottery.KindNothing, Weight: 1, Stock: lottery.Unlimited},
	}}
}

// A member who reached a prize's per-member limit is stopped by their own
// limit only: the prize stays for everyone else, and the unit the Gate
// reserved for them goes back. 500 members draw 5,000 times at once (1,000
// on SQLite, whose draws are serialised: every member draws at least
// twice) for 100 units limited to one each, each member's draws two by two
// so that members who already won draw again while units are left:
// exactly 100 are won, by 100 members. Before the fix the first member
// stopped by the limit marked the gift sold out for everyone (a handful
// won).
func TestPerMemberLimitLeavesThePrizeToOthers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		gc   batch.Settings
	}{{"grouped", batch.Settings{Committers: 2, Max: 64}}, {"one by one", batch.Settings{}}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureWith(t, tc.gc, time.Second)
			c := f.campaign(t, limitCampaign())
			const members = 500
			draws := int64(envInt("LOTTERY_N", 5000))
			if f.env.DB.Dialect() != "mysql" {
				draws = int64(envInt("LOTTERY_N", 1000))
			}
			workers := 256
			if raceOn {
				workers = 64 // the race detector's goroutine limit and speed
			}
			gift := c.Prizes[0].ID
			var next, won atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > draws {
							return
						}
						d, err := f.svc.Draw(context.Background(), 1+((i-1)/2)%members, c.ID, fmt.Sprint("k", i))
						if err != nil {
							t.Errorf("draw %d: %v", i, err)
							return
						}
						if d.PrizeID == gift {
							won.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			t.Logf("%s, %s: %d draws from %d goroutines in %v", f.env.Backend, tc.name, draws, workers, time.Since(start))
			if t.Failed() {
				return
			}
			// A unit reserved for a member at their limit goes back to the
			// Gate after that draw commits; under load the last draws may
			// all have passed the Gate by then. New members then draw one
			// by one: the units left are theirs to win, none twice.
			for m := int64(members + 1); m <= 2*members; m++ {
				fresh, err := f.store.Campaign(context.Background(), c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if fresh.Prizes[0].Won >= 100 {
					break
				}
				d, err := f.svc.Draw(context.Background(), m, c.ID, fmt.Sprint("late", m))
				if err != nil {
					t.Fatalf("late draw by %d: %v", m, err)
				}
				if d.PrizeID == gift {
					won.Add(1)
				}
			}
			fresh, err := f.store.Campaign(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			rows := countDraws(t, f, "prize_id = ?", gift)
			var winners int64
			if err := f.env.DB.Conn(context.Background()).Table("lottery_draws").Where("prize_id = ?", gift).
				Distinct("member_id").Count(&winners).Error; err != nil {
				t.Fatal(err)
			}
			if won.Load() != 100 || rows != 100 || fresh.Prizes[0].Won != 100 || winners != 100 {
				t.Fatalf("gift won: answered %d, draw rows %d, prize.won %d, by %d members; want exactly 100 by 100",
					won.Load(), rows, fresh.Prizes[0].Won, winners)
			}
		})
	}
}
