package referralstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/referralstore"
	"github.com/jifen/jifen/repo/testenv"
)

// A prefetch (referral.Service.LoadFirstPaid) reads the bindings with
// the transaction's next statement in a pipelined transaction, and the
// next Bindings it covers answers from that read: a binding committed
// after it is not seen. Bindings it does not cover, or outside a pipelined
// transaction, are read when asked.
func TestPrefetchedBindings(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	st := &referralstore.Store{DB: env.DB}
	svc := &referral.Service{Store: st}
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	if err := st.InsertBinding(ctx, referral.Binding{InviteeID: 1, InviterID: 10, Parent2ID: 20, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	pipelined := env.DB.Dialect() == repo.MySQL
	err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		if err := svc.LoadFirstPaid(ctx, []int64{1, 2, 3}); err != nil {
			return err
		}
		var one int
		if err := env.DB.Conn(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil {
			return err
		}
		if pipelined {
			// Committed after the prefetch's read: not in its answer.
			if err := st.InsertBinding(context.Background(), referral.Binding{InviteeID: 2, InviterID: 10, CreatedAt: at}); err != nil {
				return err
			}
		}
		got, err := st.Bindings(ctx, []int64{1, 2})
		if err != nil {
			return err
		}
		if b := got[1]; len(got) != 1 || b.InviterID != 10 || b.Parent2ID != 20 || !b.CreatedAt.Equal(at) {
			t.Errorf("prefetched bindings %+v, want invitee 1's only", got)
		}
		// The prefetch answers once; this read is the store's own.
		got, err = st.Bindings(ctx, []int64{1, 2})
		if err != nil {
			return err
		}
		if want := map[bool]int{true: 2, false: 1}[pipelined]; len(got) != want {
			t.Errorf("bindings read again: %+v, want %d", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
