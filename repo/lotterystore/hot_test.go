package lotterystore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/lottery"
)

// hotAnswer is what one call of drawAll answered.
type hotAnswer struct {
	key string
	d   lottery.Draw
	err error
}

// drawAll draws under keys from 16 goroutines for member, and tells what
// each call answered (a key may be given several times).
func drawAll(t *testing.T, f *fixture, member, campaignID int64, keys []string) []hotAnswer {
	t.Helper()
	out := make([]hotAnswer, len(keys))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(keys) {
					return
				}
				d, err := f.svc.Draw(context.Background(), member, campaignID, keys[i])
				out[i] = hotAnswer{key: keys[i], d: d, err: err}
			}
		}()
	}
	wg.Wait()
	return out
}

// TestOneMembersDrawsAreGroupedExactly: 200 draws by ONE member from 16
// goroutines, through group commit. A member's draws share groups now
// (before, the second draw of a member in a group ran alone); the daily
// limit, the free draws, the cost, the per-member limit of a prize, the
// pity rule and the idempotency keys stay exact: 60 keys each given twice
// at once (one draw each, both answers the same), then 140 new keys of
// which exactly 50 pass the daily limit of 150, then every key again
// (the 150 drawn replayed as answered, the 50 refused again).
func TestOneMembersDrawsAreGroupedExactly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const (
		member     = int64(7)
		funds      = 10_000
		cost       = 2
		freePerDay = 3
		limit      = 150
		pityAfter  = 2
		cupStock   = 10
		cupLimit   = 2
	)
	c := f.campaign(t, lottery.Campaign{CostPoints: cost, FreePerDay: freePerDay, LimitDaily: limit, PityAfter: pityAfter,
		Prizes: []lottery.Prize{
			{Name: "5积分", Kind: lottery.KindPoints, Points: 5, Weight: 2, Stock: lottery.Unlimited},
			{Name: "杯子", Kind: lottery.KindGift, Weight: 3, Stock: cupStock, PerMemberLimit: cupLimit},
			{Name: "谢谢参与", Kind: lottery.KindNothing, Weight: 5, Stock: lottery.Unlimited},
		}})
	f.fund(t, member, funds)

	var keys []string
	for i := 0; i < 60; i++ {
		keys = append(keys, fmt.Sprint("twice-", i), fmt.Sprint("twice-", i))
	}
	first := drawAll(t, f, member, c.ID, keys)
	byKey := map[string]lottery.Draw{}
	for _, a := range first {
		if a.err != nil {
			t.Fatalf("key %s: %v", a.key, a.err)
		}
		if prev, ok := byKey[a.key]; ok {
			if prev.ID != a.d.ID || prev.Ref != a.d.Ref || prev.Replayed == a.d.Replayed {
				t.Fatalf("key %s answered %+v and %+v: one draw, one replay expected", a.key, prev, a.d)
			}
		}
		byKey[a.key] = a.d
	}
	keys = keys[:0]
	for i := 0; i < 140; i++ {
		keys = append(keys, fmt.Sprint("once-", i))
	}
	refusedKeys := map[string]bool{}
	for _, a := range drawAll(t, f, member, c.ID, keys) {
		switch {
		case a.err == nil && !a.d.Replayed:
			byKey[a.key] = a.d
		case domain.ErrorCode(a.err) == domain.RuleViolation:
			refusedKeys[a.key] = true
		default:
			t.Fatalf("key %s: %+v, %v", a.key, a.d, a.err)
		}
	}
	if len(byKey) != limit || len(refusedKeys) != 200-limit {
		t.Fatalf("%d keys drew, %d refused by the daily limit; want %d and %d", len(byKey), len(refusedKeys), limit, 200-limit)
	}
	groups, grouped := f.svc.GroupStats()
	t.Logf("%s: %d groups answered %d of ONE member's draws", f.env.Backend, groups, grouped)
	if grouped == 0 || groups >= grouped {
		t.Fatalf("one member's draws were not grouped: %d groups answered %d draws", groups, grouped)
	}

	// Every key again: the same draws, the same refusals.
	keys = keys[:0]
	for k := range byKey {
		keys = append(keys, k)
	}
	for k := range refusedKeys {
		keys = append(keys, k)
	}
	for _, a := range drawAll(t, f, member, c.ID, keys) {
		if refusedKeys[a.key] {
			if domain.ErrorCode(a.err) != domain.RuleViolation {
				t.Fatalf("refused key %s again: %+v, %v", a.key, a.d, a.err)
			}
			continue
		}
		if want := byKey[a.key]; a.err != nil || !a.d.Replayed || a.d.ID != want.ID || a.d.Ref != want.Ref || a.d.PrizeID != want.PrizeID {
			t.Fatalf("key %s again: %+v, %v; first %+v", a.key, a.d, a.err, want)
		}
	}

	// The rows: one draw per key, the first three free, the rest paid.
	type drawRow struct {
		ID         int64
		Ref        string
		IdemKey    string
		PrizeID    int64
		PrizeKind  string
		Points     int64
		CostPoints int64
		Free       bool
	}
	var draws []drawRow
	if err := f.env.DB.Conn(ctx).Table("lottery_draws").Where("campaign_id = ? AND member_id = ?", c.ID, member).Order("id").Find(&draws).Error; err != nil {
		t.Fatal(err)
	}
	if len(draws) != limit {
		t.Fatalf("%d draw rows, want %d", len(draws), limit)
	}
	var free, paid, cups, won int64
	streak, maxStreak := 0, 0
	for _, d := range draws {
		if a := byKey[d.IdemKey]; a.ID != d.ID || a.Ref != d.Ref {
			t.Fatalf("draw row %d (key %s) answered as %+v", d.ID, d.IdemKey, a)
		}
		switch {
		case d.Free && d.CostPoints == 0:
			free++
		case !d.Free && d.CostPoints == cost:
			paid++
		default:
			t.Fatalf("draw %+v: neither free nor paid %d", d, cost)
		}
		if d.PrizeID == c.Prizes[1].ID {
			cups++
		}
		won += d.Points
		if d.PrizeKind == string(lottery.KindNothing) {
			streak++
			maxStreak = max(maxStreak, streak)
		} else {
			streak = 0
		}
	}
	if free != freePerDay || paid != limit-freePerDay {
		t.Fatalf("%d free and %d paid draws, want %d and %d", free, paid, freePerDay, limit-freePerDay)
	}
	if maxStreak > pityAfter {
		t.Fatalf("%d misses in a row, pity after %d", maxStreak, pityAfter)
	}
	fresh, err := f.store.Campaign(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cups != cupLimit || fresh.Prizes[1].Won != cups {
		t.Fatalf("cups: %d draw rows, won %d; the per-member limit is %d (weights make it certain)", cups, fresh.Prizes[1].Won, cupLimit)
	}
	st, err := f.store.MemberState(ctx, c.ID, member)
	if err != nil {
		t.Fatal(err)
	}
	if st.Draws != limit || st.DayDraws != limit || st.FreeUsed != freePerDay || st.MissStreak != streak {
		t.Fatalf("member counters %+v, want %d draws, %d free, miss streak %d", st, limit, freePerDay, streak)
	}

	// The ledger: one cost entry per paid draw, one prize entry per points
	// prize, the balance what they add up to.
	var spent, earned int64
	if err := f.env.DB.Conn(ctx).Table("ledger_entries").Where("member_id = ? AND ref_type = ? AND kind = ?", member, "lottery_draw", "spend").
		Select("COALESCE(SUM(amount), 0)").Scan(&spent).Error; err != nil {
		t.Fatal(err)
	}
	if err := f.env.DB.Conn(ctx).Table("ledger_entries").Where("member_id = ? AND ref_type = ? AND kind = ?", member, "lottery_draw", "earn").
		Select("COALESCE(SUM(amount), 0)").Scan(&earned).Error; err != nil {
		t.Fatal(err)
	}
	if want := paid * cost; abs(spent) != want || earned != won {
		t.Fatalf("ledger: spent %d, earned %d; the draws cost %d and won %d", spent, earned, want, won)
	}
	b, err := f.ledger.Balance(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	if want := funds - paid*cost + won; b.Available != want {
		t.Fatalf("balance %d, want %d", b.Available, want)
	}
	f.checkLedger(t, member)
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// TestOneMembersDrawsPayWithTheirPrizes: a member without points draws 20
// times at once; the first draw is free and every draw wins more than a
// draw costs, so one by one every draw is paid for by the prizes before
// it. Grouped, every cost is applied before every prize: a cost refused
// behind a prize of the same member in the group must not be answered
// with the refusal.
func TestOneMembersDrawsPayWithTheirPrizes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const member, n = int64(9), 20
	c := f.campaign(t, lottery.Campaign{CostPoints: 5, FreePerDay: 1, Prizes: []lottery.Prize{
		{Name: "10积分", Kind: lottery.KindPoints, Points: 10, Weight: 1, Stock: lottery.Unlimited},
	}})
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	for _, a := range drawAll(t, f, member, c.ID, keys) {
		if a.err != nil {
			t.Fatalf("key %s: %v", a.key, a.err)
		}
	}
	b, err := f.ledger.Balance(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(n*10 - (n-1)*5); b.Available != want {
		t.Fatalf("balance %d, want %d", b.Available, want)
	}
	groups, grouped := f.svc.GroupStats()
	t.Logf("%s: %d groups answered %d draws", f.env.Backend, groups, grouped)
	f.checkLedger(t, member)
}
