package ledgerstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

func TestSpendConsumesFirstToExpireAndExpiryTakesTheRest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 100, "a", 30*day)
	f.earn(1, 100, "b", 10*day)
	f.earn(1, 100, "c", 20*day)
	e := f.mustSpend(1, 150, "x")
	wantEntry(t, e, ledger.KindSpend, 150, -150, 150)
	if e.Title != "积分消费" {
		t.Fatalf("default title %q", e.Title)
	}
	b := f.want(1, 150, 0, 0, 0)
	if len(b.Expiring) != 2 || b.Expiring[0].Amount != 50 || b.Expiring[1].Amount != 100 ||
		!b.Expiring[0].ExpiresAt.Equal(t0.Add(20*day)) {
		t.Fatalf("expiring %+v", b.Expiring)
	}

	f.clock.Advance(21 * day)
	n, err := f.svc.Expire(f.ctx, f.clock.Now(), 10)
	if err != nil || n != 1 {
		t.Fatalf("expire = %d, %v; want 1 lot", n, err)
	}
	f.want(1, 100, 0, 0, 0)
	if n, _ := f.svc.Expire(f.ctx, f.clock.Now(), 10); n != 0 {
		t.Fatalf("second expire run expired %d lots", n)
	}
	es, _, err := f.svc.Entries(f.ctx, 1, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, es[0], ledger.KindExpire, 50, -50, 100)
	if es[0].Title != "积分过期" || es[0].Operator != "system" {
		t.Fatalf("expire entry %+v", es[0])
	}
}

func TestSpendSkipsLotsDueButNotYetExpired(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 100, "a", 1*day)
	f.earn(1, 100, "b", 10*day)
	f.clock.Advance(2 * day)
	_, err := f.spend(1, 150, "x")
	wantCode(t, err, domain.PointsInsufficient)
	f.mustSpend(1, 100, "y")
	f.want(1, 0, 0, 0, 0)
}

func TestReverseSpendPartlyThenAfterExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 100, "a", 10*day)
	f.earn(1, 100, "b", 40*day)
	f.mustSpend(1, 150, "x") // a 100, b 50

	// Partial refund: the longest-lived lot (b) is restored first.
	r, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "x"}, Points: 30, Key: f.key(),
		Ref: ledger.Ref{Type: "refund", ID: "x-1"}})
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, r, ledger.KindReverse, 30, 30, 80)
	if r.Title != "退款返还积分" || r.Ref.ID != "x-1" {
		t.Fatalf("reverse entry %+v", r)
	}
	f.want(1, 80, 0, 0, 0)

	// After lot a expired, the rest comes back: 20 alive into b, 100 into a
	// but expired.
	f.clock.Advance(11 * day)
	r, err = f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "x"}, Key: f.key()})
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, r, ledger.KindReverse, 120, 20, 100)
	b := f.want(1, 100, 0, 0, 0)
	if len(b.Expiring) != 1 || !b.Expiring[0].ExpiresAt.Equal(t0.Add(40*day)) {
		t.Fatalf("expiring %+v", b.Expiring)
	}
	_, err = f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "x"}, Key: f.key()})
	wantCode(t, err, domain.Conflict)
	_, err = f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "nope"}, Key: f.key()})
	wantCode(t, err, domain.NotFound)
}

func TestReverseEarnMakesDebtThatNextEarningsPay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 100, "x", 30*day)
	f.mustSpend(1, 80, "s")
	r, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "x"}, Key: f.key()})
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, r, ledger.KindReverse, 100, -100, 0)
	if r.Title != "退款扣回积分" {
		t.Fatalf("title %q", r.Title)
	}
	f.want(1, 0, 0, 0, 80)
	wantEntry(t, f.earn(1, 50, "y", 30*day), ledger.KindEarn, 50, 50, 0)
	f.want(1, 0, 0, 0, 30)
	f.earn(1, 50, "z", 30*day)
	b := f.want(1, 20, 0, 0, 0)
	if b.LifetimeEarned != 100 {
		t.Fatalf("lifetime %d, want 100", b.LifetimeEarned)
	}
	_, err = f.spend(1, 21, "t")
	wantCode(t, err, domain.PointsInsufficient)
}

func TestReverseEarnTakesFromOtherLotsBeforeDebt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 100, "x", 10*day)
	f.earn(1, 100, "y", 20*day)
	f.mustSpend(1, 150, "s") // x 100, y 50
	// Partial: 40 of x's 100, all spent: taken from y.
	if _, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "x"}, Points: 40, Key: f.key()}); err != nil {
		t.Fatal(err)
	}
	f.want(1, 10, 0, 0, 0)
	_, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "x"}, Points: 61, Key: f.key()})
	wantCode(t, err, domain.Invalid)
	if _, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "x"}, Key: f.key()}); err != nil {
		t.Fatal(err)
	}
	f.want(1, 0, 0, 0, 50)
	// Refunding the spend gives points back, which pay the debt first.
	if _, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "s"}, Key: f.key()}); err != nil {
		t.Fatal(err)
	}
	f.want(1, 100, 0, 0, 0)
}

func TestReverseEarnAfterExpiryTakesNothingTwice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 100, "x", 10*day)
	f.earn(1, 100, "y", 40*day)
	f.mustSpend(1, 60, "s") // from x
	f.clock.Advance(11 * day)
	if n, err := f.svc.Expire(f.ctx, f.clock.Now(), 100); err != nil || n != 1 {
		t.Fatalf("expire %d %v", n, err)
	}
	f.want(1, 100, 0, 0, 0)
	// x's 40 expired already; its 60 spent are taken from y.
	r, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "x"}, Key: f.key()})
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, r, ledger.KindReverse, 100, -60, 40)
	f.want(1, 40, 0, 0, 0)
}

func TestPendingPointsReleaseAndCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := ledger.EarnInput{MemberID: 1, Points: 100, Key: "p1", Ref: ledger.Ref{Type: "order", ID: "p"}, AvailableAt: t0.Add(7 * day)}
	e, err := f.svc.Earn(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, e, ledger.KindEarn, 100, 100, 0)
	f.want(1, 0, 100, 0, 0)
	_, err = f.spend(1, 1, "s")
	wantCode(t, err, domain.PointsInsufficient)
	if n, err := f.svc.ReleasePending(f.ctx, f.clock.Now(), 10); err != nil || n != 0 {
		t.Fatalf("early release %d %v", n, err)
	}
	f.clock.Advance(7 * day)
	if n, err := f.svc.ReleasePending(f.ctx, f.clock.Now(), 10); err != nil || n != 1 {
		t.Fatalf("release %d %v", n, err)
	}
	f.want(1, 100, 0, 0, 0)

	// Reversing pending points cancels them, no debt.
	in2 := ledger.EarnInput{MemberID: 1, Points: 50, Key: "p2", Ref: ledger.Ref{Type: "order", ID: "q"}, AvailableAt: f.clock.Now().Add(7 * day)}
	if _, err := f.svc.Earn(f.ctx, in2); err != nil {
		t.Fatal(err)
	}
	f.want(1, 100, 50, 0, 0)
	if _, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "q"}, Key: f.key()}); err != nil {
		t.Fatal(err)
	}
	f.want(1, 100, 0, 0, 0)
}

func TestPendingPointsPayDebtWhenTheyArrive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 100, "x", 30*day)
	f.mustSpend(1, 100, "s")
	if _, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ledger.Ref{Type: "order", ID: "x"}, Key: f.key()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 1, Points: 150, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: "y"}, AvailableAt: t0.Add(day)}); err != nil {
		t.Fatal(err)
	}
	f.want(1, 0, 150, 0, 100)
	f.clock.Advance(day)
	// Any write on the account settles it, not only the job.
	_, err := f.spend(1, 51, "t")
	wantCode(t, err, domain.PointsInsufficient)
	f.mustSpend(1, 50, "t")
	f.want(1, 0, 0, 0, 0)
}

func TestHoldCaptureReleaseAndTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 100, "e", 30*day)
	order := ledger.Ref{Type: "order", ID: "o1"}
	h, err := f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: 1, Points: 60, Key: f.key(), Ref: order})
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, h, ledger.KindHold, 60, 0, 40)
	f.want(1, 40, 0, 60, 0)
	_, err = f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: 1, Points: 41, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: "o2"}})
	wantCode(t, err, domain.PointsInsufficient)
	c, err := f.svc.Capture(f.ctx, ledger.CloseHoldInput{MemberID: 1, Hold: order, Key: f.key()})
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, c, ledger.KindCapture, 60, -60, 40)
	f.want(1, 40, 0, 0, 0)
	_, err = f.svc.Release(f.ctx, ledger.CloseHoldInput{MemberID: 1, Hold: order, Key: f.key()})
	wantCode(t, err, domain.Conflict)
	_, err = f.svc.Capture(f.ctx, ledger.CloseHoldInput{MemberID: 1, Hold: ledger.Ref{Type: "order", ID: "none"}, Key: f.key()})
	wantCode(t, err, domain.NotFound)

	// Refund of a captured order restores the lots.
	if _, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: order, OfKind: ledger.KindCapture, Key: f.key()}); err != nil {
		t.Fatal(err)
	}
	f.want(1, 100, 0, 0, 0)

	o2 := ledger.Ref{Type: "order", ID: "o2"}
	if _, err := f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: 1, Points: 30, Key: f.key(), Ref: o2}); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Release(f.ctx, ledger.CloseHoldInput{MemberID: 1, Hold: o2, Key: f.key()})
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, r, ledger.KindRelease, 30, 0, 100)
	f.want(1, 100, 0, 0, 0)

	o3 := ledger.Ref{Type: "order", ID: "o3"}
	if _, err := f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: 1, Points: 20, Key: f.key(), Ref: o3, Deadline: f.clock.Now().Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(11 * time.Minute)
	_, err = f.svc.Capture(f.ctx, ledger.CloseHoldInput{MemberID: 1, Hold: o3, Key: f.key()})
	wantCode(t, err, domain.Conflict)
	if n, err := f.svc.ReleaseExpiredHolds(f.ctx, f.clock.Now(), 10); err != nil || n != 1 {
		t.Fatalf("release expired holds = %d, %v", n, err)
	}
	if n, _ := f.svc.ReleaseExpiredHolds(f.ctx, f.clock.Now(), 10); n != 0 {
		t.Fatalf("second run released %d", n)
	}
	f.want(1, 100, 0, 0, 0)
}

func TestReleasedHoldOfExpiredLotComesBackExpired(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 100, "e", day)
	f.earn(1, 100, "f", 10*day)
	o := ledger.Ref{Type: "order", ID: "o"}
	if _, err := f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: 1, Points: 150, Key: f.key(), Ref: o, Deadline: t0.Add(3 * day)}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * day)
	r, err := f.svc.Release(f.ctx, ledger.CloseHoldInput{MemberID: 1, Hold: o, Key: f.key()})
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, r, ledger.KindRelease, 150, -100, 100)
	f.want(1, 100, 0, 0, 0)
}

func TestAdjust(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	adj := func(points int64, reason, operator string) (ledger.Entry, error) {
		return f.svc.Adjust(f.ctx, ledger.AdjustInput{MemberID: 1, Points: points, Key: f.key(), Reason: reason, Operator: operator})
	}
	for _, c := range []struct {
		name           string
		points         int64
		reason, op     string
		code           domain.Code
		field          string
		avail, delta   int64
		wantTitle      string
		wantAfterCheck bool
	}{
		{name: "below zero refused", points: -1, reason: "误发", op: "admin", code: domain.PointsInsufficient},
		{name: "no reason", points: 10, op: "admin", code: domain.Invalid, field: "reason"},
		{name: "no operator", points: 10, reason: "补偿", code: domain.Invalid, field: "operator"},
		{name: "reason too long", points: 10, reason: strings.Repeat("长", 201), op: "admin", code: domain.Invalid, field: "reason"},
		{name: "zero", points: 0, reason: "x", op: "admin", code: domain.Invalid, field: "points"},
		{name: "credit", points: 100, reason: strings.Repeat("长", 200), op: "admin", avail: 100, delta: 100},
		{name: "debit", points: -30, reason: "误发", op: "admin", avail: 70, delta: -30},
		{name: "debit beyond", points: -71, reason: "误发", op: "admin", code: domain.PointsInsufficient},
	} {
		e, err := adj(c.points, c.reason, c.op)
		if c.code != "" {
			wantCode(t, err, c.code)
			var de *domain.Error
			if c.field != "" && (!errors.As(err, &de) || de.Fields[c.field] == "") {
				t.Fatalf("%s: error %v does not name %s", c.name, err, c.field)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if e.Delta != c.delta || e.BalanceAfter != c.avail || e.Title != "积分调整" || e.Operator != "admin" || e.Reason != c.reason {
			t.Fatalf("%s: entry %+v", c.name, e)
		}
	}
	f.want(1, 70, 0, 0, 0)
}

func TestBadInputs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := ledger.Ref{Type: "order", ID: "1"}
	for _, c := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"earn zero", func() error {
			_, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 1, Points: 0, Key: "a", Ref: ref})
			return err
		}, "points"},
		{"earn negative", func() error {
			_, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 1, Points: -5, Key: "a", Ref: ref})
			return err
		}, "points"},
		{"earn too big", func() error {
			_, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 1, Points: ledger.MaxPoints + 1, Key: "a", Ref: ref})
			return err
		}, "points"},
		{"earn no key", func() error {
			_, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 1, Points: 1, Ref: ref})
			return err
		}, "key"},
		{"earn no ref", func() error {
			_, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 1, Points: 1, Key: "a"})
			return err
		}, "ref"},
		{"earn expired already", func() error {
			_, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 1, Points: 1, Key: "a", Ref: ref, ExpiresAt: t0.Add(-time.Hour)})
			return err
		}, "expires_at"},
		{"spend zero", func() error {
			_, err := f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: 1, Points: 0, Key: "a", Ref: ref})
			return err
		}, "points"},
		{"spend no member", func() error {
			_, err := f.svc.Spend(f.ctx, ledger.SpendInput{Points: 1, Key: "a", Ref: ref})
			return err
		}, "member_id"},
		{"spend system key", func() error {
			_, err := f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: 1, Points: 1, Key: "sys:expire:1", Ref: ref})
			return err
		}, "key"},
		{"hold too big", func() error {
			_, err := f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: 1, Points: 2e12, Key: "a", Ref: ref})
			return err
		}, "points"},
		{"reverse negative", func() error {
			_, err := f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: 1, Of: ref, Points: -1, Key: "a"})
			return err
		}, "points"},
		{"title too long", func() error {
			_, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 1, Points: 1, Key: "a", Ref: ref, Title: strings.Repeat("签", 65)})
			return err
		}, "title"},
	} {
		err := c.call()
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.Invalid || de.Fields[c.field] == "" {
			t.Errorf("%s: got %v, want Invalid naming %s", c.name, err, c.field)
		}
	}
	f.want(1, 0, 0, 0, 0)
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := ledger.EarnInput{MemberID: 1, Points: 100, Key: "order-1-earn", Ref: ledger.Ref{Type: "order", ID: "1"}, Title: "订单 1 奖励"}
	first, err := f.svc.Earn(f.ctx, in)
	if err != nil || first.Replayed {
		t.Fatalf("first: %+v %v", first, err)
	}
	f.clock.Advance(time.Hour)
	again, err := f.svc.Earn(f.ctx, in)
	if err != nil || !again.Replayed {
		t.Fatalf("replay: %+v %v", again, err)
	}
	again.Replayed = false
	if again != first {
		t.Fatalf("replay %+v\nfirst  %+v", again, first)
	}
	in.Points = 101
	_, err = f.svc.Earn(f.ctx, in)
	wantCode(t, err, domain.IdempotencyConflict)
	_, err = f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: 1, Points: 100, Key: "order-1-earn", Ref: in.Ref})
	wantCode(t, err, domain.IdempotencyConflict)
	_, err = f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 2, Points: 100, Key: "order-1-earn", Ref: in.Ref, Title: in.Title})
	wantCode(t, err, domain.IdempotencyConflict)

	// A replayed spend answers the same even when the balance is gone.
	s := ledger.SpendInput{MemberID: 1, Points: 100, Key: "s1", Ref: ledger.Ref{Type: "draw", ID: "9"}}
	if _, err := f.svc.Spend(f.ctx, s); err != nil {
		t.Fatal(err)
	}
	if r, err := f.svc.Spend(f.ctx, s); err != nil || !r.Replayed {
		t.Fatalf("replayed spend: %+v %v", r, err)
	}
	f.want(1, 0, 0, 0, 0)
}

func TestJoinsTheCallersTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.earn(1, 100, "e", 30*day)
	boom := errors.New("draw failed")
	err := f.env.DB.InTx(f.ctx, func(ctx context.Context) error {
		if _, err := f.svc.Spend(ctx, ledger.SpendInput{MemberID: 1, Points: 10, Key: "draw-1", Ref: ledger.Ref{Type: "draw", ID: "1"}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	f.want(1, 100, 0, 0, 0)
	err = f.env.DB.InTx(f.ctx, func(ctx context.Context) error {
		_, err := f.svc.Spend(ctx, ledger.SpendInput{MemberID: 1, Points: 10, Key: "draw-1", Ref: ledger.Ref{Type: "draw", ID: "1"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.want(1, 90, 0, 0, 0)
}

func TestBalanceEntriesAndDefaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if b, err := f.svc.Balance(f.ctx, 42); err != nil || b.Available != 0 || b.Expiring != nil {
		t.Fatalf("unknown member: %+v %v", b, err)
	}
	if es, next, err := f.svc.Entries(f.ctx, 42, 10, 0); err != nil || len(es) != 0 || next != 0 {
		t.Fatalf("unknown member entries: %v %d %v", es, next, err)
	}
	// Default expiry: 12 months later, end of that Shanghai day.
	if _, err := f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: 1, Points: 5, Key: "d", Ref: ledger.Ref{Type: "signin", ID: "2026-11-01"}, Title: "签到奖励"}); err != nil {
		t.Fatal(err)
	}
	b := f.want(1, 5, 0, 0, 0)
	wantExp := time.Date(2027, 11, 1, 23, 59, 59, 0, domain.Shanghai)
	if len(b.Expiring) != 1 || !b.Expiring[0].ExpiresAt.Equal(wantExp) {
		t.Fatalf("default expiry %+v, want %v", b.Expiring, wantExp)
	}
	// Expiring groups by Shanghai day and keeps three days.
	for i, h := range []time.Duration{2 * time.Hour, 3 * time.Hour, 26 * time.Hour, 50 * time.Hour, 74 * time.Hour} {
		f.clock.Set(t0)
		e := f.earn(2, int64(i+1), "x", h)
		_ = e
	}
	b, _ = f.svc.Balance(f.ctx, 2)
	if len(b.Expiring) != 3 || b.Expiring[0].Amount != 3 || b.Expiring[1].Amount != 3 || b.Expiring[2].Amount != 4 {
		t.Fatalf("expiring %+v", b.Expiring)
	}
	exp, err := f.svc.ExpiringBetween(f.ctx, t0, t0.Add(30*time.Hour), 0, 10)
	if err != nil || len(exp) != 1 || exp[0].MemberID != 2 || exp[0].Amount != 6 {
		t.Fatalf("expiring between %+v %v", exp, err)
	}

	// Keyset pages are stable while new entries arrive.
	for i := 0; i < 25; i++ {
		f.earn(3, 1, "p", 30*day)
	}
	var seen []int64
	cursor := int64(0)
	for page := 0; ; page++ {
		es, next, err := f.svc.Entries(f.ctx, 3, 10, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			seen = append(seen, e.ID)
		}
		f.earn(3, 1, "p", 30*day) // newer than anything paged
		if next == 0 {
			break
		}
		cursor = next
	}
	if len(seen) != 25 {
		t.Fatalf("paged %d entries, want 25", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("not newest first: %v", seen)
		}
	}
	byRef, err := f.svc.EntriesByRef(f.ctx, 1, ledger.Ref{Type: "signin", ID: "2026-11-01"})
	if err != nil || len(byRef) != 1 || byRef[0].Title != "签到奖励" {
		t.Fatalf("by ref %+v %v", byRef, err)
	}
	n, err := f.svc.CheckAll(f.ctx, 2, func(id int64, v []ledger.Violation) {
		if len(v) > 0 {
			t.Errorf("member %d: %+v", id, v)
		}
	})
	if err != nil || n != 3 {
		t.Fatalf("check all: %d %v", n, err)
	}
}
