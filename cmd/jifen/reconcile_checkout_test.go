package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/checkout"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/repo/auditstore"
	"github.com/jifen/jifen/repo/checkoutstore"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/testenv"
)

type anyMember struct{}

func (anyMember) ByID(_ context.Context, id int64) (*member.Member, error) {
	return &member.Member{ID: id}, nil
}

func TestReconcileChecksCheckoutsAgainstTheLedger(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	led := &ledger.Service{Store: &ledgerstore.Store{DB: env.DB}, Tx: env.DB, Clock: domain.SystemClock{}}
	st := &checkoutstore.Store{DB: env.DB}
	svc := &checkout.Service{Store: st, Points: led, Members: anyMember{}, Audit: &auditstore.Store{DB: env.DB}, Tx: env.DB, Clock: domain.SystemClock{}}
	if _, err := led.Earn(ctx, ledger.EarnInput{MemberID: 1, Points: 1000, Key: "e", Ref: ledger.Ref{Type: "t", ID: "1"}}); err != nil {
		t.Fatal(err)
	}
	order := checkout.Order{MemberID: 1, Currency: "CNY", TotalFen: 10000, Lines: []orders.Line{{SKU: "A", Qty: 1, AmountFen: 10000}}}
	c, err := svc.Hold(ctx, checkout.HoldRequest{Order: order, OrderID: "X", Points: 500, ValueFen: 500, Key: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Capture(ctx, c.ID, checkout.CaptureRequest{OrderID: "X", TotalFen: 10000, Currency: "CNY", Key: "c"}); err != nil {
		t.Fatal(err)
	}
	// Half refunded: ⌊5 units × 1/2⌋ = 2 units come back.
	err = env.DB.InTx(ctx, func(ctx context.Context) error {
		n, err := svc.Refunded(ctx, 1, "X", 5000, 10000, "r1")
		if err == nil && n != 200 {
			t.Errorf("returned %d, want 200", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runCheckoutReconcile(ctx, st, &out, &errb); code != 0 || !strings.Contains(out.String(), "1 checkouts checked, 0 with drift") {
		t.Fatalf("clean checkouts: %d %q %q", code, out.String(), errb.String())
	}
	db := env.DB.Conn(ctx)
	if err := db.Exec("UPDATE checkouts SET returned_points = returned_points + 100").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("UPDATE ledger_holds SET amount = amount + 1").Error; err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code := runCheckoutReconcile(ctx, st, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "DRIFT checkout 1: "+checkout.RuleReturned) || !strings.Contains(out.String(), checkout.RuleHold) {
		t.Fatalf("drift not reported: %d %q", code, out.String())
	}
}
