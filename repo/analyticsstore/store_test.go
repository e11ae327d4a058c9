package analyticsstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo/analyticsstore"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/testenv"
)

func sh(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, domain.Shanghai)
}

type history struct {
	env   *testenv.Env
	clock *domain.FakeClock
	led   *ledger.Service
	svc   *analytics.Service
}

// seed writes a known history through the ledger itself:
//
//	12-01  A earns 100 (order, expires 12-10) and 50 (sign-in, 2027-03-15)
//	       B earns 70 (task, expires 12-05); the console gives B +200; a
//	       guide grants B +30; A spends 40 on a draw; the console takes 20
//	       from B (from the task lot, first to expire)
//	12-02  A's order is refunded (its 100 points clawed back); A redeems a
//	       mall item for 10 and it is refunded (10 returned)
//	12-06  the expiry job expires B's 50 left of the task lot
func seed(t *testing.T) *history {
	t.Helper()
	env := testenv.New(t)
	clock := domain.NewFakeClock(sh(2026, 12, 1, 10))
	led := &ledger.Service{Store: &ledgerstore.Store{DB: env.DB}, Tx: env.DB, Clock: clock}
	ctx := context.Background()
	const a, b = 1, 2
	must := func(_ ledger.Entry, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(led.Earn(ctx, ledger.EarnInput{MemberID: a, Points: 100, Key: "e1", Ref: ledger.Ref{Type: "order", ID: "O1"}, ExpiresAt: sh(2026, 12, 10, 23)}))
	must(led.Earn(ctx, ledger.EarnInput{MemberID: a, Points: 50, Key: "e2", Ref: ledger.Ref{Type: "signin", ID: "2026-12-01"}, ExpiresAt: sh(2027, 3, 15, 23)}))
	must(led.Earn(ctx, ledger.EarnInput{MemberID: b, Points: 70, Key: "e3", Ref: ledger.Ref{Type: "task", ID: "1:d"}, ExpiresAt: sh(2026, 12, 5, 23)}))
	must(led.Adjust(ctx, ledger.AdjustInput{MemberID: b, Points: 200, Key: "adj1", Ref: ledger.Ref{Type: "adjust", ID: "adj1"}, Reason: "补偿", Operator: "admin:root"}))
	must(led.Adjust(ctx, ledger.AdjustInput{MemberID: b, Points: 30, Key: "adj2", Ref: ledger.Ref{Type: "adjust", ID: "adj2"}, Reason: "到店", Operator: "guide:zhang"}))
	must(led.Spend(ctx, ledger.SpendInput{MemberID: a, Points: 40, Key: "s1", Ref: ledger.Ref{Type: "lottery_draw", ID: "d1"}}))
	must(led.Adjust(ctx, ledger.AdjustInput{MemberID: b, Points: -20, Key: "adj3", Ref: ledger.Ref{Type: "adjust", ID: "adj3"}, Reason: "纠错", Operator: "admin:root"}))
	clock.Set(sh(2026, 12, 2, 11))
	must(led.Reverse(ctx, ledger.ReverseInput{MemberID: a, Of: ledger.Ref{Type: "order", ID: "O1"}, OfKind: ledger.KindEarn, Points: 100, Key: "r1", Ref: ledger.Ref{Type: "refund", ID: "O1"}}))
	must(led.Spend(ctx, ledger.SpendInput{MemberID: a, Points: 10, Key: "s2", Ref: ledger.Ref{Type: "mall", ID: "7"}}))
	must(led.Reverse(ctx, ledger.ReverseInput{MemberID: a, Of: ledger.Ref{Type: "mall", ID: "7"}, OfKind: ledger.KindSpend, Points: 10, Key: "r2", Ref: ledger.Ref{Type: "mall", ID: "7"}}))
	clock.Set(sh(2026, 12, 6, 1))
	if _, err := led.Expire(ctx, clock.Now(), 100); err != nil {
		t.Fatal(err)
	}
	clock.Set(sh(2026, 12, 6, 10))
	svc := &analytics.Service{Store: &analyticsstore.Store{DB: env.DB}, Clock: clock, Batch: 3}
	return &history{env: env, clock: clock, led: led, svc: svc}
}

func day(y int, m time.Month, d int) domain.Day { return domain.DayOf(sh(y, m, d, 12)) }

// check asserts the exact figures of the seeded history.
func (h *history) check(t *testing.T) {
	t.Helper()
	days, err := h.svc.Points(context.Background(), day(2026, 12, 1), day(2026, 12, 6))
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 6 {
		t.Fatalf("%d days, want 6", len(days))
	}
	want := map[string]map[string]map[string]int64{ // day → kind → source → points
		"2026-12-01": {
			analytics.Issued: {"orders": 100, "signin": 50, "tasks": 70, "console": 200, "guide_grants": 30},
			analytics.Spent:  {"lottery": 40, "console": 20},
		},
		"2026-12-02": {
			analytics.ClawedBack: {"orders": 100},
			analytics.Spent:      {"mall": 10},
			analytics.Returned:   {"mall": 10},
		},
		"2026-12-06": {analytics.Expired: {}},
	}
	wantTotals := map[string]map[string]int64{
		"2026-12-01": {analytics.Issued: 450, analytics.Spent: 60},
		"2026-12-02": {analytics.ClawedBack: 100, analytics.Spent: 10, analytics.Returned: 10},
		"2026-12-06": {analytics.Expired: 50},
	}
	wantActive := map[string]int64{"2026-12-01": 2, "2026-12-02": 1}
	var net int64
	for _, d := range days {
		k := d.Day.String()
		for _, kind := range analytics.Kinds {
			if got := d.Totals[kind]; got != wantTotals[k][kind] {
				t.Errorf("%s %s total = %d, want %d", k, kind, got, wantTotals[k][kind])
			}
			for src, pts := range d.By[kind] {
				if pts != want[k][kind][src] {
					t.Errorf("%s %s from %q = %d, want %d", k, kind, src, pts, want[k][kind][src])
				}
			}
			if len(d.By[kind]) != len(want[k][kind]) {
				t.Errorf("%s %s by source = %v, want %v", k, kind, d.By[kind], want[k][kind])
			}
		}
		if d.Active != wantActive[k] {
			t.Errorf("%s active members = %d, want %d", k, d.Active, wantActive[k])
		}
		net += d.Totals[analytics.Issued] - d.Totals[analytics.Spent] - d.Totals[analytics.Expired] - d.Totals[analytics.ClawedBack] + d.Totals[analytics.Returned]
	}
	// The facts add up to the ledger's net balance of every member.
	var balance int64
	for _, id := range []int64{1, 2} {
		bal, err := h.led.Balance(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		balance += bal.Available + bal.Pending + bal.Held - bal.Debt
	}
	if net != balance || net != 240 {
		t.Errorf("facts net %d, ledger net balance %d, want both 240", net, balance)
	}
}

func TestDailyFactsOfAKnownHistory(t *testing.T) {
	h := seed(t)
	rep, err := h.svc.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries == 0 || rep.Steps < 2 {
		t.Fatalf("run read %d entries in %d steps; want several steps of 3", rep.Entries, rep.Steps)
	}
	h.check(t)

	// A second run adds nothing: the cursor remembers.
	if rep, err = h.svc.Run(context.Background()); err != nil || rep.Entries != 0 {
		t.Fatalf("second run read %d entries (%v), want 0", rep.Entries, err)
	}
	h.check(t)

	o, err := h.svc.Liability(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if o.Day != day(2026, 12, 6) || o.Total != 240 || o.ByTier[""] != 240 || len(o.ByTier) != 1 {
		t.Errorf("outstanding = %+v, want 240 on 2026-12-06, all without a tier", o)
	}
	if len(o.Expiring) != 12 || o.Expiring[0].Month != "2026-12" || o.Expiring[11].Month != "2027-11" {
		t.Fatalf("expiring months = %+v, want 2026-12 … 2027-11", o.Expiring)
	}
	for _, m := range o.Expiring {
		want := int64(0)
		if m.Month == "2027-03" {
			want = 10 // A's sign-in lot, what is left of it
		}
		if m.Points != want {
			t.Errorf("expiring in %s = %d, want %d", m.Month, m.Points, want)
		}
	}
}

// Three runs at once (three instances) count every entry once.
func TestConcurrentRunsCountOnce(t *testing.T) {
	h := seed(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = h.svc.Run(context.Background())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	h.check(t)
}

// Entries younger than the lag wait for a later run.
func TestYoungEntriesWaitForTheLag(t *testing.T) {
	h := seed(t)
	h.svc.Lag = time.Hour
	ctx := context.Background()
	h.clock.Set(sh(2026, 12, 6, 10))
	if _, err := h.led.Earn(ctx, ledger.EarnInput{MemberID: 1, Points: 5, Key: "late", Ref: ledger.Ref{Type: "signin", ID: "2026-12-06"}, ExpiresAt: sh(2027, 3, 15, 23)}); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(sh(2026, 12, 6, 10).Add(30 * time.Minute))
	signedIn := func() int64 {
		t.Helper()
		if _, err := h.svc.Run(ctx); err != nil {
			t.Fatal(err)
		}
		days, err := h.svc.Points(ctx, day(2026, 12, 6), day(2026, 12, 6))
		if err != nil {
			t.Fatal(err)
		}
		return days[0].By[analytics.Issued]["signin"]
	}
	if got := signedIn(); got != 0 {
		t.Fatalf("within the lag, 12-06 sign-in issued = %d, want 0 (not yet)", got)
	}
	h.clock.Set(sh(2026, 12, 6, 12))
	if got := signedIn(); got != 5 {
		t.Fatalf("after the lag, 12-06 sign-in issued = %d, want 5", got)
	}
}

func TestReportRangeIsChecked(t *testing.T) {
	h := seed(t)
	ctx := context.Background()
	if _, err := h.svc.Points(ctx, day(2026, 12, 6), day(2026, 12, 1)); domain.ErrorCode(err) != domain.Invalid {
		t.Errorf("to before from: %v, want INVALID", err)
	}
	if _, err := h.svc.Points(ctx, day(2025, 1, 1), day(2026, 12, 1)); domain.ErrorCode(err) != domain.Invalid {
		t.Errorf("two years: %v, want INVALID", err)
	}
	if _, err := h.svc.Liability(ctx); domain.ErrorCode(err) != domain.NotFound {
		t.Errorf("liability before any run: %v, want NOT_FOUND", err)
	}
}
