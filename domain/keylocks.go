package domain

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"
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

// KeyLocks only sees its own process. Across instances the Redis gates
// (the mall's and the lottery's) remember, with each reservation, the key
// of the request that took it: a copy marker of the member and key that
// lives CopyWindow. A copy that the gate turns away (a limit, the stock)
// while such a marker is there is told so (ErrCopyInFlight) instead of
// being refused: a copy of it holds a reservation, in flight on another
// instance or committed already. The service then looks for that copy's
// record and, until it is there, asks the gate again (AwaitCopy):
// the first copy's record answers it (a replay), a first copy that failed
// has given its reservation back (the gate then lets this one through or
// refuses it for good), and one still in flight after CopyWindow makes it
// 409 CONFLICT "in flight; retry", never a refusal of a request that may
// have succeeded.

// CopyWindow is how long a gate's copy marker lives after the
// reservation that wrote it, and so the longest a copy waits for the
// request in flight.
const CopyWindow = 10 * time.Second

// ErrCopyInFlight is what a service's gate step returns (wrapped) when
// the gate turned the request away while a copy of it, the same member and
// key, holds a reservation.
var ErrCopyInFlight = errors.New("a copy of this request holds the reservation")

// AwaitCopy runs a request's gate step until no copy of the request holds
// what it asks for. reserve asks the gate and reports whether it turned
// the request away for a copy in flight (ErrCopyInFlight); the caller
// keeps reserve's own answer. While it does, AwaitCopy looks for the
// copy's record with find: found, it returns it (the caller answers a
// replay of it); else it asks again, 5 ms later, doubling up to 100 ms,
// for at most CopyWindow in all. err is find's error, the context's, or a
// Conflict naming what (a draw, a redemption) once the copy has waited
// CopyWindow: never a refusal of a request that may have succeeded.
func AwaitCopy[T any](ctx context.Context, what string, reserve func() (copyInFlight bool), find func() (T, bool, error)) (prior T, found bool, err error) {
	var until time.Time
	pause := 5 * time.Millisecond
	for reserve() {
		if prior, found, err = find(); err != nil || found {
			return prior, found, err
		}
		now := time.Now()
		if until.IsZero() {
			until = now.Add(CopyWindow)
		}
		if !now.Before(until) {
			return prior, false, Errorf(Conflict, "a %s with this Idempotency-Key is in flight; retry", what)
		}
		t := time.NewTimer(min(pause, until.Sub(now)))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return prior, false, ctx.Err()
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
	return prior, false, nil
}
