package domain

import "sync"

// memoMax bounds a Memo: past it, the memory starts again empty.
const memoMax = 100_000

// Memo is a process's memory of facts that do not go stale, or carry
// their own time (an openid's member, a flag known written): safe for
// concurrent use, at most memoMax entries, and forgetting costs only the
// read that learns them again. The zero value is ready to use.
type Memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

// Get returns what is remembered of k.
func (m *Memo[K, V]) Get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

// Put remembers v for k.
func (m *Memo[K, V]) Put(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= memoMax {
		m.m = map[K]V{}
	}
	m.m[k] = v
}
