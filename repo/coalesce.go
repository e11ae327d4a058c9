package repo

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Coalescer is a go-redis hook that sends the pipelines of concurrent
// requests to Redis together: while one merged pipeline is on the wire,
// the pipelines that arrive wait, and the next write carries all of them.
// Every request of the service makes a few small pipelines (the gate's
// limits and denylist, a cache read, the risk counters, a cache
// invalidation), and under load the round trips, not Redis's work, were
// most of their cost: one write and one read system call on each side per
// pipeline. A lone pipeline goes out at once, so an idle service waits for
// nothing.
//
// Each pipeline stays whole and in order within the merged one, and its
// caller sees its own commands' results and first error as before. A
// MULTI/EXEC transaction and a pipeline larger than MaxMerge go alone.
// Install it on a single-server client only (NewRedisClient does): a
// Cluster client's transactions are not yet wrapped when hooks see them.
type Coalescer struct {
	// Flushers is how many merged pipelines may be on the wire at once
	// (1 when zero): one keeps the merged pipelines deepest.
	Flushers int
	// MaxMerge is the size of a pipeline that is sent alone and of a
	// merged one at most (256 when zero).
	MaxMerge int

	sent, taken atomic.Int64
}

var _ redis.Hook = (*Coalescer)(nil)

// Stats reports how many merged writes went out and how many pipelines
// were taken in to be merged.
func (c *Coalescer) Stats() (writes, pipelines int64) {
	if c == nil {
		return 0, 0
	}
	return c.sent.Load(), c.taken.Load()
}

// flushing marks the context of a merged write: a pipeline go-redis runs
// inside it (the handshake of a new connection) goes straight through.
type flushing struct{}

type coalesced struct {
	ctx  context.Context
	cmds []redis.Cmder
	done chan error
}

// DialHook is unchanged.
func (c *Coalescer) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook is unchanged: single commands go as they are.
func (c *Coalescer) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

// ProcessPipelineHook merges the pipeline with the others waiting for the
// same next: go-redis builds a chain of hooks for the client and one for
// each new connection's handshake (which must run on that connection),
// and each chain has its own queue.
func (c *Coalescer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	q := &pipeQueue{c: c, next: next}
	return q.process
}

// pipeQueue is the pipelines waiting for one next.
type pipeQueue struct {
	c    *Coalescer
	next redis.ProcessPipelineHook

	mu      sync.Mutex
	waiting []*coalesced
	flying  int
}

func (q *pipeQueue) process(ctx context.Context, cmds []redis.Cmder) error {
	if len(cmds) == 0 || len(cmds) > q.c.maxMerge() || cmds[0].Name() == "multi" || ctx.Value(flushing{}) != nil {
		return q.next(ctx, cmds)
	}
	p := &coalesced{ctx: ctx, cmds: cmds, done: make(chan error, 1)}
	q.c.taken.Add(1)
	q.mu.Lock()
	q.waiting = append(q.waiting, p)
	lead := q.flying < max(q.c.Flushers, 1)
	if lead {
		q.flying++
	}
	q.mu.Unlock()
	if lead {
		go q.flush()
	}
	// Wait for the answer even when ctx ends: the flush writes into
	// these commands, and the client's read timeout bounds it.
	return <-p.done
}

func (c *Coalescer) maxMerge() int {
	if c.MaxMerge <= 0 {
		return 256
	}
	return c.MaxMerge
}

// flush sends what is waiting, and again while more waits; the last
// flusher to find nothing leaves.
func (q *pipeQueue) flush() {
	for {
		q.mu.Lock()
		var batch []*coalesced
		n := 0
		for len(q.waiting) > 0 && (len(batch) == 0 || n+len(q.waiting[0].cmds) <= q.c.maxMerge()) {
			n += len(q.waiting[0].cmds)
			batch = append(batch, q.waiting[0])
			q.waiting[0] = nil
			q.waiting = q.waiting[1:]
		}
		if len(batch) == 0 {
			q.flying--
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		q.c.sent.Add(1)
		q.send(batch, n)
	}
}

func (q *pipeQueue) send(batch []*coalesced, n int) {
	if len(batch) == 1 {
		batch[0].done <- q.next(context.WithValue(batch[0].ctx, flushing{}, true), batch[0].cmds)
		return
	}
	all := make([]redis.Cmder, 0, n)
	for _, p := range batch {
		all = append(all, p.cmds...)
	}
	// The first caller's values (the breaker's mark) without its
	// cancellation: the others' commands ride on the same write.
	err := q.next(context.WithValue(context.WithoutCancel(batch[0].ctx), flushing{}, true), all)
	// next answers the first failed command of all of them; each caller
	// gets the first of its own. An error no command carries (the
	// connection failed) is everyone's.
	shared := err != nil && firstErr(all) == nil
	for _, p := range batch {
		e := firstErr(p.cmds)
		if shared {
			e = err
			for _, cmd := range p.cmds {
				cmd.SetErr(err)
			}
		}
		p.done <- e
	}
}

func firstErr(cmds []redis.Cmder) error {
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return err
		}
	}
	return nil
}
