package analyticsstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/repo/analyticsstore"
	"github.com/jifen/jifen/repo/testenv"
)

// The referral funnel and the lottery's cost of a seeded history, written
// as the referral and lottery stores write their rows:
//
//	codes   m1 12-01 10:00, m2 12-02 00:30 Shanghai (12-01 16:30 UTC), m3 11-30 (before)
//	binds   m4←m1 12-01, m5←m1 12-02 flagged, m6←m2 12-03 (after the range)
//	rewards m4's order: m1 paid 50 (level 1), m9 paid 10 (level 2); m5's phone:
//	        m1 capped 20; m7's order on 11-30 (before)
//	draws   12-01: paid 30 → points 100, paid 30 → nothing, free → coupon;
//	        12-02: paid 20 → consolation points 5
func TestReferralFunnelAndLotteryCost(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	db := env.DB.Conn(ctx)
	exec := func(q string, args ...any) {
		t.Helper()
		if err := db.Exec(q, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		member int64
		at     any
	}{{1, sh(2026, 12, 1, 10)}, {2, sh(2026, 12, 2, 0).Add(30 * 60e9)}, {3, sh(2026, 11, 30, 10)}} {
		exec("INSERT INTO invite_codes (member_id, code, created_at) VALUES (?, ?, ?)", c.member, fmt.Sprint("C", c.member), c.at)
	}
	for _, b := range []struct {
		invitee, inviter int64
		flagged          bool
		at               any
	}{{4, 1, false, sh(2026, 12, 1, 11)}, {5, 1, true, sh(2026, 12, 2, 11)}, {6, 2, false, sh(2026, 12, 3, 11)}} {
		exec("INSERT INTO referrals (invitee_id, inviter_id, parent2_id, flagged, flag_note, created_at) VALUES (?, ?, 0, ?, '', ?)",
			b.invitee, b.inviter, b.flagged, b.at)
	}
	for _, r := range []struct {
		invitee     int64
		event       string
		beneficiary int64
		level       int
		points      int64
		day         int
		status      string
	}{{4, "order", 1, 1, 50, 20261202, "paid"}, {4, "order", 9, 2, 10, 20261202, "paid"}, {5, "phone", 1, 1, 20, 20261202, "capped"}, {7, "order", 1, 1, 50, 20261130, "paid"}} {
		exec("INSERT INTO referral_rewards (invitee_id, event, beneficiary_id, level, points, day, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			r.invitee, r.event, r.beneficiary, r.level, r.points, r.day, r.status, sh(2026, 12, 2, 12))
	}
	for i, d := range []struct {
		day    int
		kind   string
		points int64
		cost   int64
	}{{20261201, "points", 100, 30}, {20261201, "nothing", 0, 30}, {20261201, "coupon", 0, 0}, {20261202, "points", 5, 20}} {
		exec(`INSERT INTO lottery_draws (campaign_id, member_id, idem_key, ref, day, prize_id, prize_kind, prize_name, points, coupon_code, cost_points, free, pity, created_at)
			VALUES (1, 1, ?, ?, ?, 0, ?, 'p', ?, '', ?, ?, false, ?)`, fmt.Sprint("k", i), fmt.Sprint("d", i), d.day, d.kind, d.points, d.cost, d.cost == 0, sh(2026, 12, 1, 12))
	}
	svc := &analytics.Service{Growth: &analyticsstore.Store{DB: env.DB}, Clock: domain.NewFakeClock(sh(2026, 12, 6, 10))}
	f, err := svc.Referrals(ctx, day(2026, 12, 1), day(2026, 12, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := analytics.Funnel{CodesShared: 2, Binds: 2, FirstOrders: 1, RewardsPaid: 2, RewardPoints: 60, Flagged: 1}
	if f != want {
		t.Errorf("funnel = %+v, want %+v", f, want)
	}
	days, err := svc.Lottery(ctx, day(2026, 12, 1), day(2026, 12, 3))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%+v", days)
	wantDays := fmt.Sprintf("%+v", []analytics.LotteryDay{
		{Day: day(2026, 12, 1), Draws: 3, CostPoints: 60, PrizePoints: 100, Wins: map[string]int64{"points": 1, "nothing": 1, "coupon": 1}},
		{Day: day(2026, 12, 2), Draws: 1, CostPoints: 20, PrizePoints: 5, Wins: map[string]int64{"points": 1}},
		{Day: day(2026, 12, 3), Wins: map[string]int64{}},
	})
	if got != wantDays {
		t.Errorf("lottery\n got %s\nwant %s", got, wantDays)
	}
	if _, err := svc.Referrals(ctx, day(2026, 12, 2), day(2026, 12, 1)); domain.ErrorCode(err) != domain.Invalid {
		t.Errorf("to before from: %v, want INVALID", err)
	}
}
