package repo_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/repo"
)

// The breaker opens after BreakerFailures outages in a row, refuses
// commands at once while open, lets one probe through after the cooldown
// and closes on its success.
func TestRedisBreaker(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	addr := mr.Addr()
	mr.Close() // Redis goes away: every dial is refused

	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b := &repo.Breaker{Failures: 3, Cooldown: time.Second, Now: clock}
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	c.AddHook(b)
	ctx := context.Background()

	for i := 0; i < 3; i++ {
		err := c.Ping(ctx).Err()
		if domain.ErrorCode(err) != domain.Unavailable || errors.Is(err, repo.ErrCircuitOpen) {
			t.Fatalf("ping %d to a closed port: %v; want Unavailable from the dial", i, err)
		}
	}
	if !b.Open() {
		t.Fatal("3 failures did not open the circuit")
	}
	if err := c.Ping(ctx).Err(); !errors.Is(err, repo.ErrCircuitOpen) || domain.ErrorCode(err) != domain.Unavailable {
		t.Fatalf("ping while open: %v; want ErrCircuitOpen as Unavailable", err)
	}
	// Redis comes back on that port; after the cooldown a probe closes the
	// circuit (go-redis may still report the last dial error for up to a
	// second: the next probe, a cooldown later, gets through).
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); !errors.Is(err, repo.ErrCircuitOpen) {
		t.Fatalf("ping within the cooldown: %v; want refused at once", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		now = now.Add(1100 * time.Millisecond)
		mu.Unlock()
		err := c.Ping(ctx).Err()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe after Redis came back: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if b.Open() {
		t.Fatal("a successful probe did not close the circuit")
	}
	// Answers of Redis itself are not outages.
	if err := c.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) || domain.ErrorCode(err) == domain.Unavailable {
		t.Fatalf("GET of a missing key: %v; want redis.Nil", err)
	}
}
