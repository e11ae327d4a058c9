package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo/ledgerstore"
)

func TestExpireCommandExpiresDueLotsAndARerunIsANoOp(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("JIFEN_DATA_DIR", dir)
	cfg, err := configs.Load("", []string{"JIFEN_DATA_DIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := app.OpenStores(ctx, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	svc := &ledger.Service{Store: &ledgerstore.Store{DB: st.DB}, Tx: st.DB, Clock: domain.SystemClock{}}
	for id := int64(1); id <= 3; id++ {
		if _, err := svc.Earn(ctx, ledger.EarnInput{MemberID: id, Points: 50, Key: fmt.Sprintf("e%d", id),
			Ref: ledger.Ref{Type: "t", ID: "1"}, ExpiresAt: time.Now().Add(20 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	time.Sleep(30 * time.Millisecond)

	var out, errb bytes.Buffer
	if code := run([]string{"expire"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "expired 3 lots of 3 members in 1 ranges") {
		t.Fatalf("expire: %d %q %q", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "expire: member ranges 1 of 1") {
		t.Errorf("expire showed no progress off a terminal: %q", errb.String())
	}
	out.Reset()
	if code := run([]string{"expire"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "expired 0 lots") {
		t.Fatalf("rerun: %d %q %q", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"reconcile"}, &out, &errb); code != 0 {
		t.Fatalf("reconcile after expiry: %d %q", code, out.String())
	}
}
