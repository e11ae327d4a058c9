package repo_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/testenv"
)

// gateHook holds the first pipeline that reaches Redis until released, so
// a test can queue others behind it.
type gateHook struct {
	once    sync.Once
	arrived chan struct{}
	release chan struct{}
}

func (g *gateHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (g *gateHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (g *gateHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		first := false
		if cmds[0].Name() == "set" { // not a new connection's handshake
			g.once.Do(func() { first = true })
		}
		if first {
			close(g.arrived)
			<-g.release
		}
		return next(ctx, cmds)
	}
}

// redisServer is a test's stores and the address of their Redis (for a
// client of the test's own).
func redisServer(t *testing.T) (*testenv.Env, string) {
	env := testenv.New(t)
	if addr := testenv.RedisAddr(); addr != "" {
		return env, addr
	}
	return env, env.Mini.Addr()
}

// Pipelines that arrive while another is on the wire go out together in
// one write, each caller still reading its own answers and its own first
// error; a transaction goes alone.
func TestCoalescerMergesConcurrentPipelines(t *testing.T) {
	t.Parallel()
	env, addr := redisServer(t)
	co := &repo.Coalescer{}
	gate := &gateHook{arrived: make(chan struct{}), release: make(chan struct{})}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	c.AddHook(co)   // outer: merges
	c.AddHook(gate) // inner: sees what goes on the wire
	r := &repo.Redis{C: c, Prefix: env.Redis.Prefix + "co:"}
	ctx := context.Background()
	if err := c.Set(ctx, r.Key("text"), "not a number", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}

	writes0, taken0 := co.Stats() // the connection's handshake

	const callers = 40
	type answer struct {
		got  string
		n    int64
		err  error
		incr error
	}
	answers := make([]answer, callers)
	var wg sync.WaitGroup
	run := func(i int) {
		defer wg.Done()
		pipe := c.Pipeline()
		k := r.Key("k", strconv.Itoa(i))
		pipe.Set(ctx, k, "v"+strconv.Itoa(i), time.Minute)
		get := pipe.Get(ctx, k)
		n := pipe.Incr(ctx, r.Key("count"))
		var bad *redis.IntCmd
		if i%2 == 1 { // odd callers also make a command fail
			bad = pipe.Incr(ctx, r.Key("text"))
		}
		_, err := pipe.Exec(ctx)
		answers[i] = answer{got: get.Val(), n: n.Val(), err: err}
		if bad != nil {
			answers[i].incr = bad.Err()
		}
	}
	wg.Add(1)
	go run(0)
	<-gate.arrived // caller 0's pipeline is on the wire, held there
	wg.Add(callers - 1)
	for i := 1; i < callers; i++ {
		go run(i)
	}
	// Every other caller queues behind the held write.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, taken := co.Stats(); taken-taken0 == callers {
			break
		}
		if time.Now().After(deadline) {
			_, taken := co.Stats()
			t.Fatalf("%d of %d pipelines queued after 10 s", taken-taken0, callers)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(gate.release)
	wg.Wait()

	writes, taken := co.Stats()
	if writes-writes0 != 2 || taken-taken0 != callers {
		t.Fatalf("%d writes carried %d pipelines; want 2 carrying %d (the held one, then the rest together)", writes-writes0, taken-taken0, callers)
	}
	seen := map[int64]bool{}
	for i, a := range answers {
		if a.got != "v"+strconv.Itoa(i) {
			t.Errorf("caller %d read %q; want its own v%d", i, a.got, i)
		}
		if a.n < 1 || a.n > callers || seen[a.n] {
			t.Errorf("caller %d counted %d: not its own place among 1..%d", i, a.n, callers)
		}
		seen[a.n] = true
		if i%2 == 1 {
			if a.incr == nil || a.err == nil || a.err.Error() != a.incr.Error() {
				t.Errorf("caller %d: Exec error %v, failing command %v; want the command's error", i, a.err, a.incr)
			}
		} else if a.err != nil {
			t.Errorf("caller %d got %v from another caller's failed command", i, a.err)
		}
	}

	// A transaction is not merged: it goes alone and is still atomic.
	before, _ := co.Stats()
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, r.Key("count"))
		p.Incr(ctx, r.Key("count"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if after, _ := co.Stats(); after != before {
		t.Fatalf("a MULTI/EXEC went through the merger (%d → %d writes)", before, after)
	}
	if n, err := c.Get(ctx, r.Key("count")).Int(); err != nil || n != callers+2 {
		t.Fatalf("count %d (%v); want %d", n, err, callers+2)
	}
}

// A lone pipeline on a fresh client (whose connection's handshake is
// itself a pipeline, run inside the flush) is answered at once.
func TestCoalescerLonePipelineOnANewConnection(t *testing.T) {
	t.Parallel()
	env, addr := redisServer(t)
	c := repo.NewRedisClient(repo.RedisOptions{Addrs: []string{addr}, Timeout: 2 * time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, env.Redis.Prefix+"lone", "1", time.Minute)
			return nil
		})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a lone pipeline on a new connection never came back: the handshake waited for its own flush")
	}
	if v, err := c.Get(ctx, env.Redis.Prefix+"lone").Result(); err != nil || v != "1" {
		t.Fatalf("read %q, %v", v, err)
	}
}
