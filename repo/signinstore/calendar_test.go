package signinstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/signinstore"
	"github.com/jifen/jifen/repo/testenv"
)

// A calendar mark lost for good (its instance could not reach Redis and
// then crashed, so it never sent the mark again) is healed when the
// month's bitmap expires, a TTL after it was built: marks made since on
// other instances do not extend its life. Two sign-in services (two
// instances) share one database and one Redis; the bitmaps live 2 s here.
func TestLostCalendarMarkHealsWhenTheMonthExpires(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	ctx := context.Background()
	clock := domain.NewFakeClock(monday)
	env := testenv.New(t, testenv.WithProxies())
	if err := env.DB.Conn(ctx).Exec("INSERT INTO ledger_accounts (member_id, available, pending, held, debt, lifetime_earned, version, updated_at) VALUES (1,0,0,0,0,0,0,'2026-11-01 00:00:00')").Error; err != nil {
		t.Fatal(err)
	}
	instance := func(e *testenv.Env) *signin.Service {
		ls := &ledgerstore.Store{DB: e.DB}
		return &signin.Service{Store: signinstore.New(e.DB, ls), Cache: &signinstore.Calendar{R: e.Redis, TTL: ttl}, Tx: e.DB,
			Ledger: &ledger.Service{Store: ls, Tx: e.DB, Clock: clock}, Clock: clock,
			Rewards: signin.Rewards{Base: 10, Cycle: 7, MakeupsPerMonth: 2, MakeupCost: 20}}
	}
	a, b := instance(env), instance(env.Instance(t))
	if v, err := b.Calendar(ctx, 1, "2026-11"); err != nil || len(v.SignedDays) != 0 {
		t.Fatalf("calendar before any sign-in: %+v %v", v, err)
	}
	built := time.Now()

	env.RedisProxy.Cut() // for good: a crashes with its mark unsent
	if _, err := a.SignIn(ctx, 1); err != nil {
		t.Fatalf("sign-in on a without Redis: %v", err)
	}
	// b signs the member in on the next days, each mark landing on the
	// month's bitmap, past the bitmap's TTL.
	for time.Since(built) < ttl+ttl/4 {
		time.Sleep(ttl / 3)
		if env.Mini != nil {
			env.Mini.FastForward(ttl / 3) // miniredis's keys expire only when told
		}
		clock.Advance(24 * time.Hour)
		if _, err := b.SignIn(ctx, 1); err != nil {
			t.Fatalf("sign-in on b on %s: %v", domain.DayOf(clock.Now()), err)
		}
	}
	v, err := b.Calendar(ctx, 1, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if want := 23; !slices.Contains(v.SignedDays, want) || !v.SignedToday {
		t.Fatalf("calendar on b %v after the month was built: %+v; want the 23rd (signed on a) and today", time.Since(built), v)
	}
}
