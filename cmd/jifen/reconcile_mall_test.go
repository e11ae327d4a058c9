package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/repo/auditstore"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/mallstore"
	"github.com/jifen/jifen/repo/testenv"
)

type normalTier struct{}

func (normalTier) Code(context.Context, int64) (string, error) { return "normal", nil }

func TestReconcileChecksMallStockAndCodes(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	led := &ledger.Service{Store: &ledgerstore.Store{DB: env.DB}, Tx: env.DB, Clock: domain.SystemClock{}}
	st := &mallstore.Store{DB: env.DB}
	svc := &mall.Service{Store: st, Gate: &mallstore.Gate{R: env.Redis}, Points: led, Tiers: normalTier{}, Audit: &auditstore.Store{DB: env.DB}, Tx: env.DB, Clock: domain.SystemClock{}}
	it := &mall.Item{Kind: mall.KindCoupon, Name: "券", Category: "c", Points: 10, Stock: 5, Enabled: true}
	if err := svc.CreateItem(ctx, mall.Actor{Name: "ops", Role: "admin"}, it); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ImportCodes(ctx, mall.Actor{Name: "ops", Role: "admin"}, it.ID, []string{"A", "B"}); err != nil {
		t.Fatal(err)
	}
	if _, err := led.Earn(ctx, ledger.EarnInput{MemberID: 1, Points: 100, Key: "e", Ref: ledger.Ref{Type: "t", ID: "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Redeem(ctx, 1, it.ID, "k"); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runMallReconcile(ctx, st, &out, &errb); code != 0 || !strings.Contains(out.String(), "1 mall items checked, 0 with drift") {
		t.Fatalf("clean mall: %d %q %q", code, out.String(), errb.String())
	}
	// A code handed out by hand in SQL, and stock bumped: both are drift.
	db := env.DB.Conn(ctx)
	if err := db.Exec("UPDATE mall_codes SET redemption_id = 999 WHERE code = 'B'").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("UPDATE mall_items SET sold = sold + 1").Error; err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code := runMallReconcile(ctx, st, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "DRIFT mall item 1: "+mall.RuleSoldRedemptions) ||
		!strings.Contains(out.String(), mall.RuleCodesOnce) {
		t.Fatalf("drift not reported: %d %q", code, out.String())
	}
}
