package domain

import (
	"context"
	"strconv"
	"sync"
)

// KeyLocks runs one member's requests that carry one Idempotency-Key one
// at a time in this process. Copies of a request sent while the first is
// still being worked (a double tap, a client's retry after a timeout)
// then find it finished and answer its replay, instead of racing it for
// the Redis gate's stock and limit slots — where a copy turned away by
// the first's own reservation answered "limit reached" for a request that
// had succeeded. The zero value is ready to use.
type KeyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while a request runs
	refs int
}

// Lock waits until no other request of memberID with key runs here (or
// ctx ends) and returns the function that lets the next one go.
func (l *KeyLocks) Lock(ctx context.Context, memberID int64, key string) (unlock func(), err error) {
	name := strconv.FormatInt(memberID, 10) + " " + key
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*keyLock{}
	}
	k := l.locks[name]
	if k == nil {
		k = &keyLock{ch: make(chan struct{}, 1)}
		l.locks[name] = k
	}
	k.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(l.locks, name)
		}
		l.mu.Unlock()
	}
	select {
	case k.ch <- struct{}{}:
		return func() { <-k.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
