package lotterystore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/lottery"
)

// TestGroupedDrawsMatchTheLedger races paid draws over many members, some
// of them nearly broke, through group commit, and checks every draw row
// against the ledger: one cost entry per paid draw, one prize entry per
// points prize, nothing else; balances add up, every account checks
// clean, the stocked prize and its per-member limit hold, no member
// missed more than pity_after times in a row, and groups really formed.
func TestGroupedDrawsMatchTheLedger(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const (
		rich, poor = 60, 20
		pityAfter  = 2
		giftStock  = 30
	)
	c := f.campaign(t, lottery.Campaign{CostPoints: 10, PityAfter: pityAfter, Prizes: []lottery.Prize{
		{Name: "7积分", Kind: lottery.KindPoints, Points: 7, Weight: 2, Stock: lottery.Unlimited},
		{Name: "杯子", Kind: lottery.KindGift, Weight: 2, Stock: giftStock, PerMemberLimit: 1},
		{Name: "谢谢参与", Kind: lottery.KindNothing, Weight: 5, Stock: lottery.Unlimited},
	}})
	for m := int64(1); m <= rich; m++ {
		f.fund(t, m, 10_000)
	}
	for m := int64(rich + 1); m <= rich+poor; m++ {
		f.fund(t, m, 25) // two paid draws, a third only with a points prize
	}
	const members = rich + poor
	n := drawsFor(f.env, 1500)
	var next, ok, refused atomic.Int64
	var answered sync.Map // ref → draw id as answered
	var wg sync.WaitGroup
	for w := 0; w < 48; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				d, err := f.svc.Draw(ctx, 1+i%members, c.ID, fmt.Sprint("g", i))
				switch {
				case err == nil:
					ok.Add(1)
					answered.Store(d.Ref, d.ID)
				case domain.ErrorCode(err) == domain.PointsInsufficient:
					refused.Add(1)
				default:
					t.Errorf("draw %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if refused.Load() == 0 {
		t.Fatal("no draw was refused for too few points: the poor members did not run dry")
	}
	groups, grouped := f.svc.GroupStats()
	t.Logf("%s: %d draws, %d refused, %d groups answered %d draws", f.env.Backend, ok.Load(), refused.Load(), groups, grouped)
	if grouped == 0 || groups >= grouped {
		t.Fatalf("no grouping: %d groups answered %d draws", groups, grouped)
	}

	type drawRow struct {
		ID         int64
		MemberID   int64
		Ref        string
		PrizeID    int64
		PrizeKind  string
		Points     int64
		CostPoints int64
		Free       bool
	}
	var draws []drawRow
	if err := f.env.DB.Conn(ctx).Table("lottery_draws").Where("campaign_id = ?", c.ID).Order("id").Find(&draws).Error; err != nil {
		t.Fatal(err)
	}
	if int64(len(draws)) != ok.Load() {
		t.Fatalf("%d draw rows, %d draws answered", len(draws), ok.Load())
	}
	// Every answer names its own row (grouped draws learn their ids only
	// when the group commits).
	for _, d := range draws {
		if id, found := answered.Load(d.Ref); !found || id.(int64) != d.ID {
			t.Fatalf("draw row %d (ref %s) was answered with id %v", d.ID, d.Ref, id)
		}
	}
	type entryRow struct {
		MemberID int64
		Kind     string
		Amount   int64
		RefID    string
	}
	var entries []entryRow
	if err := f.env.DB.Conn(ctx).Table("ledger_entries").Where("ref_type = ?", "lottery_draw").Find(&entries).Error; err != nil {
		t.Fatal(err)
	}
	byRef := map[string][]entryRow{}
	for _, e := range entries {
		byRef[e.RefID] = append(byRef[e.RefID], e)
	}
	var cost, won, gifts int64
	giftsOf := map[int64]int{}
	streak := map[int64]int{}
	for _, d := range draws {
		var spends, earns int
		for _, e := range byRef[d.Ref] {
			switch {
			case e.MemberID != d.MemberID:
				t.Fatalf("draw %d of member %d has an entry of member %d", d.ID, d.MemberID, e.MemberID)
			case e.Kind == "spend" && e.Amount == d.CostPoints && d.CostPoints == 10 && !d.Free:
				spends++
			case e.Kind == "earn" && e.Amount == d.Points && d.PrizeKind == string(lottery.KindPoints):
				earns++
			default:
				t.Fatalf("draw %+v has a stray entry %+v", d, e)
			}
		}
		if spends != 1 || (d.PrizeKind == string(lottery.KindPoints)) != (earns == 1) || earns > 1 {
			t.Fatalf("draw %+v: %d cost entries, %d prize entries", d, spends, earns)
		}
		delete(byRef, d.Ref)
		cost += d.CostPoints
		won += d.Points
		if d.PrizeID == c.Prizes[1].ID {
			gifts++
			giftsOf[d.MemberID]++
		}
		if d.PrizeKind == string(lottery.KindNothing) {
			streak[d.MemberID]++
			if streak[d.MemberID] > pityAfter {
				t.Fatalf("member %d missed %d times in a row, pity after %d", d.MemberID, streak[d.MemberID], pityAfter)
			}
		} else {
			streak[d.MemberID] = 0
		}
	}
	if len(byRef) > 0 {
		t.Fatalf("%d ledger references without a draw row (a refused draw was charged or paid?)", len(byRef))
	}
	for m, k := range giftsOf {
		if k > 1 {
			t.Fatalf("member %d won the gift %d times, limit 1", m, k)
		}
	}
	fresh, err := f.store.Campaign(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gifts > giftStock || fresh.Prizes[1].Won != gifts {
		t.Fatalf("gift: %d draw rows, won %d, stock %d", gifts, fresh.Prizes[1].Won, giftStock)
	}
	var sum int64
	for m := int64(1); m <= members; m++ {
		b, err := f.ledger.Balance(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if b.Available < 0 {
			t.Fatalf("member %d: balance %d", m, b.Available)
		}
		sum += b.Available
	}
	if want := int64(rich*10_000+poor*25) - cost + won; sum != want {
		t.Fatalf("Σ balances %d, want %d", sum, want)
	}
	f.checkLedger(t, members)
}

// TestDrawsAloneStillHold runs the stock race through the one-by-one path
// (group commit off, no campaign cache): the fallback keeps its guarantees.
func TestDrawsAloneStillHold(t *testing.T) {
	f := newFixtureWith(t, batch.Settings{}, 0)
	c := f.campaign(t, hotCampaign())
	f.fundAll(t, stockMembers, 1000)
	n := drawsFor(f.env, 1000)
	winners := race(t, f, c, n, stockWorkers, stockMembers, nil)
	assertStock(t, f, c, n, winners)
	f.checkLedger(t, stockMembers)
	if groups, _ := f.svc.GroupStats(); groups != 0 {
		t.Fatalf("%d groups with group commit off", groups)
	}
}

// TestCampaignCacheSeesEdits: with the cache on, an edit made through the
// service applies to the very next draw, and a draw inside a caller's
// transaction runs alone in that transaction.
func TestCampaignCacheSeesEdits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.campaign(t, lottery.Campaign{CostPoints: 10, Prizes: []lottery.Prize{
		{Name: "谢谢参与", Kind: lottery.KindNothing, Weight: 1, Stock: lottery.Unlimited},
	}})
	f.fund(t, 1, 1000)
	if d, err := f.svc.Draw(ctx, 1, c.ID, "a"); err != nil || d.CostPoints != 10 {
		t.Fatalf("first draw: %+v %v", d, err)
	}
	edit := *c
	edit.CostPoints = 25
	if _, err := f.svc.UpdateCampaign(ctx, ops, &edit); err != nil {
		t.Fatal(err)
	}
	if d, err := f.svc.Draw(ctx, 1, c.ID, "b"); err != nil || d.CostPoints != 25 {
		t.Fatalf("draw after the edit: %+v %v, want cost 25", d, err)
	}
	// A stocked prize added through the service is drawable at once.
	if err := f.svc.AddPrize(ctx, ops, &lottery.Prize{CampaignID: c.ID, Name: "券", Kind: lottery.KindCoupon, CouponCode: "C1",
		Weight: 1_000_000_000, Stock: 1}); err != nil {
		t.Fatal(err)
	}
	groups, _ := f.svc.GroupStats()
	var inTx lottery.Draw
	err := f.env.DB.InTx(ctx, func(ctx context.Context) error {
		var err error
		inTx, err = f.svc.Draw(ctx, 1, c.ID, "c")
		return err
	})
	if err != nil || inTx.PrizeName != "券" || inTx.CostPoints != 25 {
		t.Fatalf("draw in a caller's transaction: %+v %v", inTx, err)
	}
	if g, _ := f.svc.GroupStats(); g != groups {
		t.Fatalf("a draw inside a caller's transaction was group-committed (%d → %d groups)", groups, g)
	}
	if d, err := f.svc.Draw(ctx, 1, c.ID, "d"); err != nil || d.PrizeName == "券" {
		t.Fatalf("the one coupon was given twice: %+v %v", d, err)
	}
	b, _ := f.ledger.Balance(ctx, 1)
	if b.Available != 1000-10-25-25-25 {
		t.Fatalf("balance %d", b.Available)
	}
	f.checkLedger(t, 1)
}

// TestGroupedDrawAfterRefusedFirstDraw: a member's first draw refused for
// too few points leaves the Gate's counters without the member's campaign
// row (the refusal rolled it back); the next draw, grouped and sent as for
// a known member (rows only locked, not created), finds the row missing,
// creates it and counts the draw once.
func TestGroupedDrawAfterRefusedFirstDraw(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.campaign(t, lottery.Campaign{CostPoints: 10, LimitTotal: 5, Prizes: []lottery.Prize{
		{Name: "谢谢参与", Kind: lottery.KindNothing, Weight: 1, Stock: lottery.Unlimited},
	}})
	if _, err := f.svc.Draw(ctx, 7, c.ID, "first"); domain.ErrorCode(err) != domain.PointsInsufficient {
		t.Fatalf("first draw without points: %v, want PointsInsufficient", err)
	}
	if rows := countRows(t, f, "SELECT COUNT(*) FROM lottery_members WHERE member_id = 7"); rows != 0 {
		t.Fatalf("%d campaign rows after a refused first draw, want 0", rows)
	}
	f.fund(t, 7, 100)
	groups, _ := f.svc.GroupStats()
	for i := range 2 {
		if d, err := f.svc.Draw(ctx, 7, c.ID, fmt.Sprint("paid", i)); err != nil || d.CostPoints != 10 {
			t.Fatalf("draw %d after funding: %+v %v", i, d, err)
		}
	}
	if g, _ := f.svc.GroupStats(); g != groups+2 {
		t.Fatalf("the draws were not group-committed (%d → %d groups)", groups, g)
	}
	st, err := f.store.MemberState(ctx, c.ID, 7)
	if err != nil || st.Draws != 2 {
		t.Fatalf("member counters %+v %v, want 2 draws", st, err)
	}
	if n := countDraws(t, f, "member_id = ?", 7); n != 2 {
		t.Fatalf("%d draw rows, want 2", n)
	}
	f.checkLedger(t, 7)
}

func countRows(t *testing.T, f *fixture, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.env.DB.Conn(context.Background()).Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFirstDrawsRacingInTwoGroups: members whose first two draws arrive at
// once (a double tap) land in different groups, one creating the member's
// campaign row and one finding it missing; every draw counts once.
func TestFirstDrawsRacingInTwoGroups(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.campaign(t, lottery.Campaign{CostPoints: 1, Prizes: []lottery.Prize{
		{Name: "谢谢参与", Kind: lottery.KindNothing, Weight: 1, Stock: lottery.Unlimited},
	}})
	const members = 60
	f.fundAll(t, members, 100)
	var wg sync.WaitGroup
	for m := int64(1); m <= members; m++ {
		for k := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.svc.Draw(ctx, m, c.ID, fmt.Sprint("tap", k)); err != nil {
					t.Errorf("member %d draw %d: %v", m, k, err)
				}
			}()
		}
	}
	wg.Wait()
	for m := int64(1); m <= members; m++ {
		st, err := f.store.MemberState(ctx, c.ID, m)
		if err != nil || st.Draws != 2 {
			t.Fatalf("member %d counters %+v %v, want 2 draws", m, st, err)
		}
		if n := countDraws(t, f, "member_id = ?", m); n != 2 {
			t.Fatalf("member %d: %d draw rows, want 2", m, n)
		}
	}
	f.checkLedger(t, members)
}
