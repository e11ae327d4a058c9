package repo_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/jifen/jifen/repo/testenv"
)

// A transaction's touches reach the hook once, when it ends, each member
// once however many of its statements touched them; a touch outside a
// transaction goes at once.
func TestTouchHandsEachMemberOnceWhenTheTransactionEnds(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	var mu sync.Mutex
	var calls [][]int64
	env.DB.OnTouch(func(_ context.Context, ids []int64) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, slices.Clone(ids))
	})
	ctx := context.Background()
	err := env.DB.InTx(ctx, func(ctx context.Context) error {
		env.DB.Touch(ctx, 7, 3)
		env.DB.Touch(ctx, 7)
		env.DB.Touch(ctx, 3, 9, 7)
		mu.Lock()
		defer mu.Unlock()
		if len(calls) != 0 {
			t.Errorf("touches inside the transaction reached the hook before it ended: %v", calls)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	env.DB.Touch(ctx, 4)
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 || !slices.Equal(calls[0], []int64{3, 7, 9}) || !slices.Equal(calls[1], []int64{4}) {
		t.Fatalf("hook got %v; want [[3 7 9] [4]]", calls)
	}
}
