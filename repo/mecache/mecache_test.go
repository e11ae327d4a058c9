package mecache_test

import (
	"context"
	"testing"
	"time"

	"github.com/jifen/jifen/repo/mecache"
	"github.com/jifen/jifen/repo/testenv"
)

func newCache(t *testing.T, env *testenv.Env) *mecache.Cache {
	return &mecache.Cache{Redis: env.Redis, Namespace: "t", TTL: time.Minute, RetryEvery: 10 * time.Millisecond}
}

func TestFillThenHitThenInvalidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCache(t, testenv.New(t))
	got, fill := c.Get(ctx, 7)
	if got != nil || fill == nil {
		t.Fatalf("first read: %q, want a miss", got)
	}
	fill([]byte(`{"a":1}`), time.Time{})
	if got, _ := c.Get(ctx, 7); string(got) != `{"a":1}` {
		t.Fatalf("after fill: %q", got)
	}
	if got, _ := c.Get(ctx, 8); got != nil {
		t.Fatalf("another member: %q", got)
	}
	c.Invalidate(ctx, []int64{7})
	got, fill = c.Get(ctx, 7)
	if got != nil {
		t.Fatalf("after a write: %q, want a miss", got)
	}
	fill([]byte(`{"a":2}`), time.Time{})
	if got, _ := c.Get(ctx, 7); string(got) != `{"a":2}` {
		t.Fatalf("refilled: %q", got)
	}
}

// TestAWriteDuringTheReadKeepsItsAnswerOut: a reader that missed, then a
// write that ended while the reader read the database: the reader's
// answer (read before the write) is never served.
func TestAWriteDuringTheReadKeepsItsAnswerOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCache(t, testenv.New(t))
	for _, filled := range []bool{false, true} { // the key missing, then present
		if filled {
			_, fill := c.Get(ctx, 9)
			fill([]byte("old"), time.Time{})
		}
		c.Invalidate(ctx, []int64{9})
		_, fill := c.Get(ctx, 9)
		c.Invalidate(ctx, []int64{9}) // the write ends after the reader's g
		fill([]byte("stale"), time.Time{})
		if got, _ := c.Get(ctx, 9); got != nil {
			t.Fatalf("filled=%v: served %q, read before a write that ended since", filled, got)
		}
	}
}

// TestFailedInvalidationStopsTheInstanceUntilRetried: an invalidation that
// cannot reach Redis makes this instance read the database (no answer
// served or stored) until the retry lands; then the old answer is gone.
func TestFailedInvalidationStopsTheInstanceUntilRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.New(t, testenv.WithProxies())
	c := newCache(t, env)
	_, fill := c.Get(ctx, 5)
	fill([]byte("before"), time.Time{})
	env.RedisProxy.Cut()
	c.Invalidate(ctx, []int64{5})
	env.RedisProxy.Restore()
	if got, fill := c.Get(ctx, 5); got != nil {
		t.Fatalf("with an invalidation unsent: served %q", got)
	} else {
		fill([]byte("during"), time.Time{})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, fill := c.Get(ctx, 5)
		if string(got) == "before" || string(got) == "during" {
			t.Fatalf("served %q, an answer from before the write's invalidation landed", got)
		}
		if got == nil && fill != nil && time.Now().After(deadline) {
			t.Fatal("the failed invalidation was never retried")
		}
		if got == nil {
			fill([]byte("after"), time.Time{})
		}
		if string(got) == "after" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
