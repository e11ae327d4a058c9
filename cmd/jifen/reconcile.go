package main

import (
	"context"
	"fmt"
	"io"

	"github.com/jifen/jifen/cmd/jifen/app"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/checkout"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/repo/checkoutstore"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/mallstore"
)

// reconcile checks every ledger invariant of one member or of all accounts
// (in batches), then the mall's stock and coupon codes and the checkouts'
// holds and refunds, and exits 1 naming each member, item or checkout and
// broken rule.
func reconcile(ctx context.Context, cfg *configs.Config, memberID int64, stdout, stderr io.Writer) int {
	st, err := app.OpenExistingStores(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "jifen reconcile:", err)
		return 1
	}
	defer st.Close()
	svc := &ledger.Service{Store: &ledgerstore.Store{DB: st.DB}, Tx: st.DB, Clock: domain.NewOffsetClock(domain.SystemClock{}, cfg.Clock.Offset)}
	code := runReconcile(ctx, svc, memberID, stdout, stderr)
	if mcode := runMallReconcile(ctx, &mallstore.Store{DB: st.DB}, stdout, stderr); mcode != 0 {
		code = mcode
	}
	if ccode := runCheckoutReconcile(ctx, &checkoutstore.Store{DB: st.DB}, stdout, stderr); ccode != 0 {
		code = ccode
	}
	return code
}

// runCheckoutReconcile checks every checkout (points as cash) against its
// ledger hold and the reversals of its capture.
func runCheckoutReconcile(ctx context.Context, a checkout.Auditor, stdout, stderr io.Writer) int {
	vs, n, err := checkout.Check(ctx, a, 500)
	return reportDrift(stdout, stderr, "checkout", "checkouts", n, vs, err,
		func(v checkout.Violation) (int64, string, string) { return v.CheckoutID, v.Rule, v.Detail })
}

// runMallReconcile checks every mall item: sold within stock, sold equal
// to the live redemptions, each code given once to the redemption showing it.
func runMallReconcile(ctx context.Context, a mall.Auditor, stdout, stderr io.Writer) int {
	vs, n, err := mall.Check(ctx, a, 500)
	return reportDrift(stdout, stderr, "mall item", "mall items", n, vs, err,
		func(v mall.Violation) (int64, string, string) { return v.ItemID, v.Rule, v.Detail })
}

// reportDrift prints one audit's violations and its summary line and
// returns the exit status (1 on drift or error).
func reportDrift[V any](stdout, stderr io.Writer, noun, nouns string, n int, vs []V, err error, show func(V) (id int64, rule, detail string)) int {
	if err != nil {
		fmt.Fprintln(stderr, "jifen reconcile:", err)
		return 1
	}
	drift := map[int64]bool{}
	for _, v := range vs {
		id, rule, detail := show(v)
		drift[id] = true
		fmt.Fprintf(stdout, "DRIFT %s %d: %s (%s)\n", noun, id, rule, detail)
	}
	fmt.Fprintf(stdout, "reconcile: %d %s checked, %d with drift\n", n, nouns, len(drift))
	if len(vs) > 0 {
		return 1
	}
	return 0
}

func runReconcile(ctx context.Context, svc *ledger.Service, memberID int64, stdout, stderr io.Writer) int {
	var checked, broken int
	bar := newProgress(stderr, "reconcile: accounts checked", -1)
	defer bar.done()
	report := func(id int64, vs []ledger.Violation) {
		checked++
		bar.step(checked)
		if len(vs) > 0 {
			broken++
		}
		for _, v := range vs {
			fmt.Fprintf(stdout, "DRIFT member %d: %s (%s)\n", v.MemberID, v.Rule, v.Detail)
		}
	}
	if memberID > 0 {
		vs, err := svc.Check(ctx, memberID)
		if err != nil {
			fmt.Fprintln(stderr, "jifen reconcile:", err)
			return 1
		}
		report(memberID, vs)
	} else if _, err := svc.CheckAll(ctx, 500, report); err != nil {
		fmt.Fprintln(stderr, "jifen reconcile:", err)
		return 1
	}
	fmt.Fprintf(stdout, "reconcile: %d accounts checked, %d with drift\n", checked, broken)
	if broken > 0 {
		return 1
	}
	return 0
}
