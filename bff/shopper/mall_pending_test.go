package shopper_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/ledger"
)

// Pending points whose unlock time has come are available to a redemption
// decided one by one (an item with a benefit or a cash part is never
// grouped), before the release job or any read has unlocked them: the
// decision settles the account as the spend does. It used to read the
// balance inside its transaction, where pending points stay pending until
// something settles them, and refused "you have 0" for points that /me
// showed available.
func TestMallRedeemAloneCountsPendingPointsThatCameDue(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id := createMallItem(t, h, h.ConsoleLogin("admin"), cardItem(1, 100))
	user := apptest.UniqueUser("mallpending")
	_, _, mid := h.Login(user)
	availableAt := h.Clock.Now().Add(time.Hour)
	if _, err := h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: mid, Points: 150, Key: fmt.Sprint("pending-", mid),
		Ref: ledger.Ref{Type: "seed", ID: "1"}, AvailableAt: availableAt}); err != nil {
		t.Fatal(err)
	}
	h.Clock.Set(availableAt.Add(time.Second))
	tok, _, _ := h.Login(user) // reads no points
	r := redeemKey(h, tok, id, "pending-card-1")
	if r.Status != 201 {
		t.Fatalf("redeem with 150 points come due: %d %s", r.Status, r.Body)
	}
	bal, err := h.App.Ledger.Balance(context.Background(), mid)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Available != 50 || bal.Pending != 0 {
		t.Fatalf("after the redemption: %+v", bal)
	}
	if vs, err := h.App.Ledger.Check(context.Background(), mid); err != nil || len(vs) > 0 {
		t.Fatalf("ledger check: %v %v", vs, err)
	}
}
