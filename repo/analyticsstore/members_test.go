package analyticsstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/tier"
	"github.com/jifen/jifen/repo/analyticsstore"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/memberstore"
	"github.com/jifen/jifen/repo/testenv"
	"github.com/jifen/jifen/repo/tierstore"
)

// memberHistory seeds three members and their orders and redemptions:
//
//	M3 joins 10-20; M1 joins 12-01 10:00; M2 joins 12-02 00:30 Shanghai
//	(12-01 16:30 UTC: a Shanghai day, not a UTC one). M1 holds gold.
//	08-01  M2 order (outside both windows ending 12-10)
//	11-01  M3 signs in (+50) and draws for 20: redeemed within 90 days, not 30
//	12-01  M1 order
//	12-02  M2 order and sign-in
//	12-03  M3 order;  12-04 M3 order
//	12-05  M1 redeems a mall item for 30
//	12-10  M1 order
//
// Windows ending 12-10: 30 days (11-11…12-10) redeemed {M1: 2 orders},
// not {M2: 1, M3: 2}; 90 days (09-12…12-10) redeemed {M1, M3}, not {M2}.
func memberHistory(t *testing.T) (*analytics.Service, *domain.FakeClock, *memberstore.Store) {
	t.Helper()
	env := testenv.New(t)
	ctx := context.Background()
	clock := domain.NewFakeClock(sh(2026, 8, 1, 10))
	led := &ledger.Service{Store: &ledgerstore.Store{DB: env.DB}, Tx: env.DB, Clock: clock}
	members := &memberstore.Store{DB: env.DB}
	ids := map[string]int64{}
	for _, m := range []struct {
		name string
		at   time.Time
	}{{"M3", sh(2026, 10, 20, 9)}, {"M1", sh(2026, 12, 1, 10)}, {"M2", sh(2026, 12, 2, 0).Add(30 * time.Minute)}} {
		mm := &member.Member{OpenID: "o-" + m.name, CreatedAt: m.at, LastActive: m.at}
		if err := members.Create(ctx, mm); err != nil {
			t.Fatal(err)
		}
		ids[m.name] = mm.ID
	}
	tiers := &tierstore.Store{DB: env.DB}
	if err := tiers.Update(ctx, tier.State{MemberID: ids["M1"], Level: "gold", ReachedAt: clock.Now(), ReviewAt: clock.Now(), UpdatedAt: clock.Now()},
		func(*tier.State) error { return nil }); err != nil {
		t.Fatal(err)
	}
	expires := sh(2027, 12, 31, 23)
	n := 0
	op := func(at time.Time, who, what string, points int64) {
		t.Helper()
		clock.Set(at)
		n++
		key := fmt.Sprint("k", n)
		var err error
		switch what {
		case "order", "signin":
			_, err = led.Earn(ctx, ledger.EarnInput{MemberID: ids[who], Points: points, Key: key, Ref: ledger.Ref{Type: what, ID: key}, ExpiresAt: expires})
		default: // mall, lottery_draw
			_, err = led.Spend(ctx, ledger.SpendInput{MemberID: ids[who], Points: points, Key: key, Ref: ledger.Ref{Type: what, ID: key}})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	op(sh(2026, 8, 1, 10), "M2", "order", 100)
	op(sh(2026, 11, 1, 10), "M3", "signin", 50)
	op(sh(2026, 11, 1, 11), "M3", "lottery_draw", 20)
	op(sh(2026, 12, 1, 11), "M1", "order", 100)
	op(sh(2026, 12, 2, 10), "M2", "order", 100)
	op(sh(2026, 12, 2, 11), "M2", "signin", 5)
	op(sh(2026, 12, 3, 10), "M3", "order", 100)
	op(sh(2026, 12, 4, 10), "M3", "order", 100)
	op(sh(2026, 12, 5, 10), "M1", "mall", 30)
	op(sh(2026, 12, 10, 10), "M1", "order", 100)
	clock.Set(sh(2026, 12, 10, 12))
	store := &analyticsstore.Store{DB: env.DB}
	return &analytics.Service{Store: store, MemberFacts: store, Clock: clock, Batch: 2}, clock, members
}

func TestMemberFactsOfAKnownHistory(t *testing.T) {
	svc, clock, members := memberHistory(t)
	ctx := context.Background()
	check := func() {
		t.Helper()
		days, err := svc.Members(ctx, day(2026, 10, 20), day(2026, 12, 10))
		if err != nil {
			t.Fatal(err)
		}
		if len(days) != 52 {
			t.Fatalf("%d days, want 52", len(days))
		}
		wantNew := map[string]int64{"2026-10-20": 1, "2026-12-01": 1, "2026-12-02": 1}
		wantActive := map[string]map[string]int64{
			"2026-11-01": {"": 1}, "2026-12-01": {"gold": 1}, "2026-12-02": {"": 1},
			"2026-12-03": {"": 1}, "2026-12-04": {"": 1}, "2026-12-05": {"gold": 1}, "2026-12-10": {"gold": 1},
		}
		for _, d := range days {
			k := d.Day.String()
			if d.New != wantNew[k] {
				t.Errorf("%s new members = %d, want %d", k, d.New, wantNew[k])
			}
			if fmt.Sprint(d.ActiveByTier) != fmt.Sprint(wantActive[k]) && !(len(d.ActiveByTier) == 0 && wantActive[k] == nil) {
				t.Errorf("%s active by tier = %v, want %v", k, d.ActiveByTier, wantActive[k])
			}
			if d.Active != int64(len(wantActive[k])) {
				t.Errorf("%s active = %d, want %d", k, d.Active, len(wantActive[k]))
			}
		}
		reps, err := svc.Repurchases(ctx, day(2026, 12, 10))
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%+v", reps)
		want := fmt.Sprintf("%+v", []analytics.Repurchase{
			{Window: 30, From: day(2026, 11, 11), To: day(2026, 12, 10),
				Redeemed: analytics.Cohort{Buyers: 1, Repeat: 1, RateBP: 10000}, NotRedeemed: analytics.Cohort{Buyers: 2, Repeat: 1, RateBP: 5000}},
			{Window: 90, From: day(2026, 9, 12), To: day(2026, 12, 10),
				Redeemed: analytics.Cohort{Buyers: 2, Repeat: 2, RateBP: 10000}, NotRedeemed: analytics.Cohort{Buyers: 1, Repeat: 0, RateBP: 0}},
		})
		if got != want {
			t.Errorf("repurchase\n got %s\nwant %s", got, want)
		}
	}
	rep, err := svc.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Members != 3 {
		t.Errorf("run read %d members, want 3", rep.Members)
	}
	check()
	// A second run adds nothing; a member who joined within the lag waits.
	m := &member.Member{OpenID: "o-M4", CreatedAt: clock.Now().Add(-time.Minute), LastActive: clock.Now()}
	if err := members.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	if rep, err = svc.Run(ctx); err != nil || rep.Members != 1 {
		t.Fatalf("second run read %d members (%v), want 1 (M4, left for later)", rep.Members, err)
	}
	check()
	clock.Set(clock.Now().Add(10 * time.Minute))
	if _, err := svc.Run(ctx); err != nil {
		t.Fatal(err)
	}
	days, err := svc.Members(ctx, day(2026, 12, 10), day(2026, 12, 10))
	if err != nil || days[0].New != 1 {
		t.Fatalf("12-10 after the lag: %+v %v, want 1 new member", days, err)
	}
}
