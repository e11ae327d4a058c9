package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/testenv"
)

func TestReconcileFindsDriftAndNamesIt(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	svc := &ledger.Service{Store: &ledgerstore.Store{DB: env.DB}, Tx: env.DB, Clock: domain.SystemClock{}}
	for id := int64(1); id <= 3; id++ {
		if _, err := svc.Earn(ctx, ledger.EarnInput{MemberID: id, Points: 100, Key: "e" + string(rune('0'+id)), Ref: ledger.Ref{Type: "t", ID: "1"}}); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	if code := runReconcile(ctx, svc, 0, &out, &errb); code != 0 || !strings.Contains(out.String(), "3 accounts checked, 0 with drift") {
		t.Fatalf("clean ledger: %d %q %q", code, out.String(), errb.String())
	}
	// Someone "fixes" a balance by hand in SQL: reconcile must notice.
	if err := env.DB.Conn(ctx).Exec("UPDATE ledger_accounts SET available = available + 7 WHERE member_id = 2").Error; err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code := runReconcile(ctx, svc, 0, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "DRIFT member 2: "+ledger.RuleAvailableLots) || strings.Contains(out.String(), "member 1:") {
		t.Fatalf("drift not reported: %d %q", code, out.String())
	}
	out.Reset()
	if code := runReconcile(ctx, svc, 1, &out, &errb); code != 0 {
		t.Fatalf("--member 1 should be clean: %q", out.String())
	}
}
