package lotterystore_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/lottery"
	"github.com/jifen/jifen/repo/auditstore"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/lotterystore"
	"github.com/jifen/jifen/repo/testenv"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai)

// ops is the console user of the tests' campaign and prize edits.
var ops = lottery.Actor{Name: "ops", Role: "admin"}

type fixture struct {
	env    *testenv.Env
	ledger *ledger.Service
	svc    *lottery.Service
	store  *lotterystore.Store
	clock  *domain.FakeClock
}

// newFixture wires the lottery as the app does: draws group-committed
// (two committers), campaigns cached for a second.
func newFixture(t testing.TB) *fixture {
	return newFixtureWith(t, batch.Settings{Committers: envInt("LOTTERY_COMMITTERS", 2), Max: 64}, time.Second)
}

// newFixtureWith chooses group commit and the campaign cache; the zero
// values give the one-by-one path with a campaign read per draw.
func newFixtureWith(t testing.TB, gc batch.Settings, ttl time.Duration) *fixture {
	env := testenv.New(t)
	clock := domain.NewFakeClock(t0)
	ls := &ledgerstore.Store{DB: env.DB}
	led := &ledger.Service{Store: ls, Tx: env.DB, Clock: clock}
	st := lotterystore.New(env.DB, ls)
	svc := &lottery.Service{Store: st, Gate: &lotterystore.Gate{R: env.Redis}, Points: led, Audit: &auditstore.Store{DB: env.DB}, Tx: env.DB, Clock: clock,
		GroupCommit: gc, CampaignTTL: ttl}
	return &fixture{env: env, ledger: led, svc: svc, store: st, clock: clock}
}

func (f *fixture) campaign(t testing.TB, c lottery.Campaign) *lottery.Campaign {
	t.Helper()
	if c.Name == "" {
		c.Name = "双十二抽奖"
	}
	if c.StartsAt.IsZero() {
		c.StartsAt, c.EndsAt = t0.Add(-time.Hour), t0.Add(30*24*time.Hour)
	}
	if err := f.svc.CreateCampaign(context.Background(), ops, &c); err != nil {
		t.Fatalf("create campaign: %v", err)
	}
	return &c
}

func (f *fixture) fund(t testing.TB, member, points int64) {
	t.Helper()
	if _, err := f.ledger.Earn(context.Background(), ledger.EarnInput{MemberID: member, Points: points, Key: fmt.Sprint("seed-", member), Ref: ledger.Ref{Type: "seed", ID: "1"}}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) checkLedger(t testing.TB, members int64) {
	t.Helper()
	for m := int64(1); m <= members; m++ {
		v, err := f.ledger.Check(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) > 0 {
			t.Fatalf("ledger of member %d: %+v", m, v)
		}
	}
}

// hotCampaign has one stocked prize nearly everybody picks, so thousands
// of draws race for its 100 units; the rest get the consolation.
func hotCampaign() lottery.Campaign {
	return lottery.Campaign{CostPoints: 10, ConsolationName: "安慰奖", ConsolationPoints: 1, Prizes: []lottery.Prize{
		{Name: "Switch", Kind: lottery.KindPoints, Points: 500, Weight: 1000, Stock: 100},
		{Name: "谢谢参与", Kind: lottery.KindNothing, Weight: 1, Stock: lottery.Unlimited},
	}}
}

// race runs n draws from `workers` goroutines, spread over `members`
// members, calling mid once after half of them were submitted.
func race(t *testing.T, f *fixture, c *lottery.Campaign, n, workers int, members int64, mid func()) (winners int64) {
	var wg sync.WaitGroup
	var next, won, done atomic.Int64
	var once sync.Once
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if mid != nil && done.Load() >= int64(n/2) {
					once.Do(mid)
				}
				d, err := f.svc.Draw(context.Background(), 1+i%members, c.ID, fmt.Sprint("k", i))
				if err != nil {
					t.Errorf("draw %d: %v", i, err)
					return
				}
				done.Add(1)
				if d.PrizeID == c.Prizes[0].ID {
					won.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return won.Load()
}

func countDraws(t *testing.T, f *fixture, where string, args ...any) int64 {
	var n int64
	if err := f.env.DB.Conn(context.Background()).Table("lottery_draws").Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func assertStock(t *testing.T, f *fixture, c *lottery.Campaign, n int, winners int64) {
	t.Helper()
	if got := countDraws(t, f, "campaign_id = ?", c.ID); got != int64(n) {
		t.Fatalf("%d draw rows, want %d", got, n)
	}
	inSQL := countDraws(t, f, "prize_id = ?", c.Prizes[0].ID)
	fresh, err := f.store.Campaign(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if winners != 100 || inSQL != 100 || fresh.Prizes[0].Won != 100 {
		t.Fatalf("winners: answered %d, draw rows %d, prize.won %d; want exactly 100", winners, inSQL, fresh.Prizes[0].Won)
	}
}

// drawsFor is mysqlN on MariaDB + Redis. On SQLite (pure-Go, ~150 draws/s
// of CPU per core here, several times slower under -race) it is 400: still
// four times the stock, raced by 64 goroutines. LOTTERY_N overrides.
func drawsFor(env *testenv.Env, mysqlN int) int {
	if env.DB.Dialect() == "mysql" {
		return envInt("LOTTERY_N", mysqlN)
	}
	return envInt("LOTTERY_N", 400)
}

// fundAll seeds every member with points, one after the other: creating
// many ledger accounts at once deadlocks on MySQL's insert locks.
func (f *fixture) fundAll(t *testing.T, members, points int64) {
	for m := int64(1); m <= members; m++ {
		f.fund(t, m, points)
	}
}

const (
	stockWorkers = 64
	stockMembers = 200
)

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err != nil || n <= 0 {
		return def
	}
	return n
}

func TestStockNeverOversells(t *testing.T) {
	f := newFixture(t)
	c := f.campaign(t, hotCampaign())
	f.fundAll(t, stockMembers, 1000)
	stockDraws := drawsFor(f.env, 5000)
	start := time.Now()
	winners := race(t, f, c, stockDraws, stockWorkers, stockMembers, nil)
	t.Logf("%s: %d draws in %v", f.env.Backend, stockDraws, time.Since(start))
	assertStock(t, f, c, stockDraws, winners)
	f.checkLedger(t, stockMembers)
	// Everyone paid 10 per draw and got what the draw rows say.
	var won int64
	if err := f.env.DB.Conn(context.Background()).Table("lottery_draws").Select("COALESCE(SUM(points), 0)").Scan(&won).Error; err != nil {
		t.Fatal(err)
	}
	var sum int64
	for m := int64(1); m <= stockMembers; m++ {
		b, err := f.ledger.Balance(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		sum += b.Available
	}
	want := int64(stockMembers*1000-stockDraws*10) + won
	if sum != want {
		t.Fatalf("Σ balances %d, want %d", sum, want)
	}
}

// TestStockSurvivesRedisFlush deletes every Redis key half way: counters
// are rebuilt from SQL and the prize still never passes its stock.
func TestStockSurvivesRedisFlush(t *testing.T) {
	f := newFixture(t)
	c := f.campaign(t, hotCampaign())
	f.fundAll(t, stockMembers, 1000)
	stockDraws := drawsFor(f.env, 1500)
	flushed := false
	winners := race(t, f, c, stockDraws, stockWorkers, stockMembers, func() {
		if err := f.env.Redis.DeleteAll(context.Background()); err != nil {
			t.Error(err)
		}
		flushed = true
	})
	if !flushed {
		t.Fatal("the flush did not run")
	}
	assertStock(t, f, c, stockDraws, winners)
	f.checkLedger(t, stockMembers)
}

// TestFailedDrawGivesReservationBack: a draw refused by SQL (too few
// points) must not keep the unit the Gate reserved.
func TestFailedDrawGivesReservationBack(t *testing.T) {
	f := newFixture(t)
	c := hotCampaign()
	c.Prizes[0].Stock = 1
	c.Prizes[0].Weight = 1_000_000_000
	cc := f.campaign(t, c)
	_, err := f.svc.Draw(context.Background(), 1, cc.ID, "poor")
	if domain.ErrorCode(err) != domain.PointsInsufficient {
		t.Fatalf("draw without points: %v, want POINTS_INSUFFICIENT", err)
	}
	if n := countDraws(t, f, "1 = 1"); n != 0 {
		t.Fatalf("%d draw rows written by a refused draw", n)
	}
	f.fund(t, 2, 100)
	d, err := f.svc.Draw(context.Background(), 2, cc.ID, "rich")
	if err != nil {
		t.Fatal(err)
	}
	if d.PrizeID != cc.Prizes[0].ID {
		t.Fatalf("the only unit was not given back: got %+v", d)
	}
	// Replay returns the same prize and charges nothing more.
	again, err := f.svc.Draw(context.Background(), 2, cc.ID, "rich")
	if err != nil || !again.Replayed || again.ID != d.ID || again.PrizeID != d.PrizeID {
		t.Fatalf("replay: %+v %v", again, err)
	}
	b, _ := f.ledger.Balance(context.Background(), 2)
	if b.Available != 100-10+500 {
		t.Fatalf("balance %d after one draw", b.Available)
	}
	// Sold out now: the next draw falls back to the consolation.
	d3, err := f.svc.Draw(context.Background(), 2, cc.ID, "third")
	if err != nil || d3.PrizeID != 0 || d3.PrizeName != "安慰奖" || d3.Points != 1 {
		t.Fatalf("after sell-out: %+v %v", d3, err)
	}
	f.checkLedger(t, 2)
}

func TestPityNeverMoreThanNMisses(t *testing.T) {
	f := newFixture(t)
	const n = 3
	c := f.campaign(t, lottery.Campaign{PityAfter: n, Prizes: []lottery.Prize{
		{Name: "谢谢参与", Kind: lottery.KindNothing, Weight: 1_000_000, Stock: lottery.Unlimited},
		{Name: "小礼品", Kind: lottery.KindGift, Weight: 1, Stock: lottery.Unlimited},
	}})
	misses, maxRun, pity := 0, 0, 0
	for i := 0; i < 120; i++ {
		d, err := f.svc.Draw(context.Background(), 7, c.ID, fmt.Sprint("p", i))
		if err != nil {
			t.Fatal(err)
		}
		if d.PrizeKind == lottery.KindNothing {
			misses++
			maxRun = max(maxRun, misses)
		} else {
			misses = 0
		}
		if d.Pity {
			pity++
		}
		if i == 60 {
			// Redis forgets everything: the streak lives in SQL.
			_ = f.env.Redis.DeleteAll(context.Background())
		}
	}
	if maxRun > n {
		t.Fatalf("%d misses in a row, pity after %d", maxRun, n)
	}
	if maxRun != n || pity < 25 {
		t.Fatalf("pity did not drive the draws: longest run %d, pity wins %d", maxRun, pity)
	}
}

func TestLimitsWindowAndReplay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.campaign(t, lottery.Campaign{FreePerDay: 1, CostPoints: 5, LimitDaily: 2, LimitTotal: 3, Prizes: []lottery.Prize{
		{Name: "谢谢参与", Kind: lottery.KindNothing, Weight: 1, Stock: lottery.Unlimited},
	}})
	f.fund(t, 1, 100)
	d1, err := f.svc.Draw(ctx, 1, c.ID, "a")
	if err != nil || !d1.Free {
		t.Fatalf("first draw should be free: %+v %v", d1, err)
	}
	d2, err := f.svc.Draw(ctx, 1, c.ID, "b")
	if err != nil || d2.Free || d2.CostPoints != 5 {
		t.Fatalf("second draw should cost 5: %+v %v", d2, err)
	}
	if _, err := f.svc.Draw(ctx, 1, c.ID, "c"); domain.ErrorCode(err) != domain.RuleViolation {
		t.Fatalf("third draw today: %v, want RULE_VIOLATION", err)
	}
	_, ch, _ := f.svc.Chances(ctx, 1, c.ID)
	if ch.DrawsLeft != 0 || ch.FreeLeft != 0 {
		t.Fatalf("chances after the daily limit: %+v", ch)
	}
	f.clock.Advance(24 * time.Hour)
	if d, err := f.svc.Draw(ctx, 1, c.ID, "c"); err != nil || !d.Free {
		t.Fatalf("next day draw: %+v %v", d, err)
	}
	if _, err := f.svc.Draw(ctx, 1, c.ID, "d"); domain.ErrorCode(err) != domain.RuleViolation {
		t.Fatalf("fourth draw in the campaign: %v, want RULE_VIOLATION", err)
	}
	// A replay is answered even when the limit is reached.
	if d, err := f.svc.Draw(ctx, 1, c.ID, "b"); err != nil || d.ID != d2.ID || !d.Replayed {
		t.Fatalf("replay: %+v %v", d, err)
	}
	other := f.campaign(t, lottery.Campaign{Prizes: []lottery.Prize{{Name: "x", Kind: lottery.KindNothing, Weight: 1, Stock: lottery.Unlimited}}})
	if _, err := f.svc.Draw(ctx, 1, other.ID, "b"); domain.ErrorCode(err) != domain.IdempotencyConflict {
		t.Fatalf("key reused on another campaign: %v", err)
	}
	f.clock.Advance(60 * 24 * time.Hour)
	if _, err := f.svc.Draw(ctx, 1, other.ID, "late"); domain.ErrorCode(err) != domain.RuleViolation {
		t.Fatalf("draw after the window: %v", err)
	}
	if _, err := f.svc.Draw(ctx, 1, 9999, "x"); domain.ErrorCode(err) != domain.NotFound {
		t.Fatalf("unknown campaign: %v", err)
	}
	f.checkLedger(t, 1)
}

func TestConcurrentSameKeyDrawsOnce(t *testing.T) {
	f := newFixture(t)
	c := f.campaign(t, hotCampaign())
	f.fund(t, 1, 1000)
	var wg sync.WaitGroup
	ids := make([]int64, 16)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := f.svc.Draw(context.Background(), 1, c.ID, "same")
			if err != nil && domain.ErrorCode(err) != domain.Conflict {
				t.Error(err)
			}
			ids[i] = d.ID
		}()
	}
	wg.Wait()
	if n := countDraws(t, f, "member_id = 1"); n != 1 {
		t.Fatalf("%d draws for one key", n)
	}
	b, _ := f.ledger.Balance(context.Background(), 1)
	if b.Available != 1000-10+500 {
		t.Fatalf("balance %d: charged more than once", b.Available)
	}
	f.checkLedger(t, 1)
}

// TestReserveWithEndedContextTakesNothing: a reserve whose request has
// ended is not sent, so it holds no unit and no count.
func TestReserveWithEndedContextTakesNothing(t *testing.T) {
	f := newFixture(t)
	gate := &lotterystore.Gate{R: f.env.Redis}
	c := &lottery.Campaign{ID: 7, Prizes: []lottery.Prize{{ID: 1, Kind: lottery.KindGift, Weight: 1, Stock: 1}}}
	ctx := context.Background()
	if err := gate.Rebuild(ctx, c, 1, 20261123, lottery.MemberState{}); err != nil {
		t.Fatal(err)
	}
	r := lottery.Reservation{CampaignID: 7, MemberID: 1, Day: 20261123, PrizeID: 1, LimitTotal: 1}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := gate.Reserve(ended, r); err == nil {
		t.Fatal("a reserve with an ended context succeeded")
	}
	if out, err := gate.Reserve(ctx, r); err != nil || out != lottery.GateReserved {
		t.Fatalf("reserve after the ended one: %v %v, want the unit and the one draw allowed", out, err)
	}
}

// TestGateTellsACopyOfAReservationFromARefusal: a limit that a copy of
// the draw (member and Idempotency-Key) holds is told apart from one that
// another draw holds, until the copy gives its reservation back; a
// reservation that commits keeps the marker, so a late copy looks for its
// draw (domain.CopyWindow).
func TestGateTellsACopyOfAReservationFromARefusal(t *testing.T) {
	f := newFixture(t)
	gate := &lotterystore.Gate{R: f.env.Redis}
	c := &lottery.Campaign{ID: 7, Prizes: []lottery.Prize{{ID: 1, Kind: lottery.KindGift, Weight: 1, Stock: 5}}}
	ctx := context.Background()
	if err := gate.Rebuild(ctx, c, 1, 20261123, lottery.MemberState{}); err != nil {
		t.Fatal(err)
	}
	r := lottery.Reservation{CampaignID: 7, MemberID: 1, Day: 20261123, PrizeID: 1, LimitTotal: 1, Key: "k"}
	other, unkeyed := r, r
	other.Key, unkeyed.Key = "k2", ""
	ask := func(what string, r lottery.Reservation, want lottery.Outcome) {
		t.Helper()
		if out, err := gate.Reserve(ctx, r); err != nil || out != want {
			t.Fatalf("%s: %v %v, want %v", what, out, err, want)
		}
	}
	ask("the first", r, lottery.GateReserved)
	ask("a copy while the first holds the last draw", r, lottery.GateCopyInFlight)
	ask("another key", other, lottery.GateLimitTotal)
	ask("no key", unkeyed, lottery.GateLimitTotal)
	if err := gate.Release(ctx, r, true); err != nil {
		t.Fatal(err)
	}
	ask("a copy after the first gave its draw back", r, lottery.GateReserved)
	ask("another key, the copy holding the draw", other, lottery.GateLimitTotal)
	// The copy's draw commits (no release): a copy of it is still told.
	ask("a copy after the first committed", r, lottery.GateCopyInFlight)
	// Given back with the other key's limit reached meanwhile: a refusal.
	if err := gate.Release(ctx, r, true); err != nil {
		t.Fatal(err)
	}
	ask("another key", other, lottery.GateReserved)
	ask("a copy of a reservation given back", r, lottery.GateLimitTotal)
}

// TestDrawsWhileRedisKeepsLosingItsKeys wipes every Redis key again and
// again while draws race: as long as SQL answers, no draw fails (it used
// to give up with 503 after three rebuilds), and stock still holds.
func TestDrawsWhileRedisKeepsLosingItsKeys(t *testing.T) {
	f := newFixture(t)
	c := f.campaign(t, hotCampaign())
	f.fundAll(t, stockMembers, 1000)
	stockDraws := drawsFor(f.env, 1500)
	stop := make(chan struct{})
	var wipes atomic.Int64
	var wiper sync.WaitGroup
	wiper.Add(1)
	go func() {
		defer wiper.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := f.env.Redis.DeleteAll(context.Background()); err != nil {
				t.Error(err)
				return
			}
			wipes.Add(1)
		}
	}()
	winners := race(t, f, c, stockDraws, stockWorkers, stockMembers, nil)
	close(stop)
	wiper.Wait()
	// A wipe scans the server's whole keyspace: on a Redis shared with
	// many other keys (a developer's load tests) a few take the draws' time.
	if wipes.Load() < 3 {
		t.Fatalf("only %d wipes ran during the draws", wipes.Load())
	}
	t.Logf("%s: %d draws, %d wipes", f.env.Backend, stockDraws, wipes.Load())
	assertStock(t, f, c, stockDraws, winners)
	f.checkLedger(t, stockMembers)
}
