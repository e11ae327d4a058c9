// Package batch is the group committer: it runs requests that arrive
// concurrently in batches. A committer takes the first waiting request and
// every other one queued behind it (up to Max), and hands them to Run
// together. Nobody waits for a batch to fill: under light load a batch is
// one request. The ledger, sign-in, the lottery and the order webhook use
// it to commit many requests in one transaction with multi-row statements
// (group commit), each request still getting its own answer; a request
// its batch could not commit runs alone through its service's one-by-one
// path.
package batch

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/jifen/jifen/domain"
)

// Batcher groups jobs of type J. The zero value is not usable: set
// Committers (how many groups may run at once), Max (jobs per group at
// most) and Run.
type Batcher[J any] struct {
	Committers int
	Max        int
	// Run handles one group. It must answer every job (through whatever
	// channel J carries) before it returns.
	Run func(jobs []J)

	once  sync.Once
	queue chan J
}

// Submit queues j; Run will receive it in some group.
func (b *Batcher[J]) Submit(j J) {
	b.once.Do(func() {
		b.queue = make(chan J, 4096)
		for range max(b.Committers, 1) {
			go b.loop()
		}
	})
	b.queue <- j
}

func (b *Batcher[J]) loop() {
	limit := max(b.Max, 1)
	for first := range b.queue {
		jobs := []J{first}
		// Take what is queued; yield once so callers just woken by the
		// previous group's answers can queue too (no timer: a lone request
		// is never kept waiting for company).
		for yielded := false; len(jobs) < limit; {
			select {
			case j := <-b.queue:
				jobs = append(jobs, j)
				continue
			default:
			}
			if yielded {
				break
			}
			runtime.Gosched()
			yielded = true
		}
		b.Run(jobs)
	}
}

// Settings configure a service's group commit. The zero value turns it
// off: every request runs alone.
type Settings struct {
	// Committers is how many batches may commit at once (0: off).
	Committers int
	// Max caps the requests of one batch (64 when not positive).
	Max int
}

// On reports whether a request with ctx may be grouped: grouping is on
// and ctx carries no transaction of tx (see OutsideTx).
func (s Settings) On(ctx context.Context, tx domain.UnitOfWork) bool {
	return s.Committers > 0 && OutsideTx(ctx, tx)
}

// DefaultMax is a batch's cap when Settings.Max is not positive.
const DefaultMax = 64

// CappedAt is s with Max defaulted (DefaultMax) and at most limit: for a
// service whose one batch must fit what its store can write at once (one
// ledger Apply, say).
func (s Settings) CappedAt(limit int) Settings {
	if s.Max <= 0 {
		s.Max = DefaultMax
	}
	s.Max = min(s.Max, limit)
	return s
}

// Committer is the Batcher of a service, made on the first Submit
// (services are plain structs filled in by their wiring), with counters of
// what its batches answered. The zero value is ready to use.
type Committer[J any] struct {
	once     sync.Once
	b        *Batcher[J]
	groups   atomic.Int64
	answered atomic.Int64
}

// Submit queues j, making the batcher on first use with set and run.
func (l *Committer[J]) Submit(set Settings, run func(jobs []J), j J) {
	l.once.Do(func() {
		l.b = &Batcher[J]{Committers: set.Committers, Max: set.Max, Run: run}
		if l.b.Max <= 0 {
			l.b.Max = DefaultMax
		}
	})
	l.b.Submit(j)
}

// Done records a committed group that answered n requests (n > 0).
func (l *Committer[J]) Done(n int) {
	if n > 0 {
		l.groups.Add(1)
		l.answered.Add(int64(n))
	}
}

// Stats reports how many groups have committed and how many requests they
// answered (the rest ran alone).
func (l *Committer[J]) Stats() (groups, answered int64) {
	return l.groups.Load(), l.answered.Load()
}

// OutsideTx reports whether ctx carries no unit of work of tx.
func OutsideTx(ctx context.Context, tx domain.UnitOfWork) bool {
	return !tx.InTransaction(ctx)
}

// InTx runs a group's unit of work (tx.InGroupTx).
func InTx(ctx context.Context, tx domain.UnitOfWork, fn func(ctx context.Context) error) error {
	return tx.InGroupTx(ctx, fn)
}
