package batch

import "context"

// Loader reads by key in batches: lookups that arrive concurrently become
// one Load of all their keys (one SELECT … WHERE id IN (…) for a busy
// service instead of one query per request), each caller getting its own
// answer. Like the Batcher under it, nobody waits for company: a lone
// lookup is a Load of one key. The zero value with Load set is ready.
//
// Load runs with the first caller's context, without its cancellation:
// a caller inside a transaction must not use the Loader (its read would
// leave the transaction), and a key Load leaves out of its map is the
// zero V.
type Loader[K comparable, V any] struct {
	// Committers is how many Loads may run at once (1 when not positive).
	Committers int
	// Max caps the keys of one Load (DefaultMax when not positive).
	Max  int
	Load func(ctx context.Context, keys []K) (map[K]V, error)

	c Committer[*lookup[K, V]]
}

type lookup[K comparable, V any] struct {
	ctx  context.Context
	key  K
	done chan loaded[V]
}

type loaded[V any] struct {
	v   V
	err error
}

// Get returns the value of k, read in a batch with the keys of the
// lookups running at the same time.
func (l *Loader[K, V]) Get(ctx context.Context, k K) (V, error) {
	j := &lookup[K, V]{ctx: ctx, key: k, done: make(chan loaded[V], 1)}
	l.c.Submit(Settings{Committers: max(l.Committers, 1), Max: l.Max}, l.run, j)
	r := <-j.done
	return r.v, r.err
}

func (l *Loader[K, V]) run(jobs []*lookup[K, V]) {
	keys := make([]K, 0, len(jobs))
	seen := make(map[K]bool, len(jobs))
	for _, j := range jobs {
		if !seen[j.key] {
			seen[j.key] = true
			keys = append(keys, j.key)
		}
	}
	m, err := l.Load(context.WithoutCancel(jobs[0].ctx), keys)
	l.c.Done(len(jobs))
	for _, j := range jobs {
		j.done <- loaded[V]{v: m[j.key], err: err}
	}
}

// Stats reports how many Loads ran and how many lookups they answered.
func (l *Loader[K, V]) Stats() (loads, lookups int64) { return l.c.Stats() }
