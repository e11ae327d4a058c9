package bff

import (
	"sync"
	"time"
)

// Rate-limit leases: a hot key (an address behind a carrier NAT, a member
// whose client polls) takes several cells of its Redis bucket in one script
// call and spends them here, so most of its requests send no script at
// all. Redis still counts every cell — a lease is taken from the bucket
// before the requests that use it — so no instance, and no number of
// instances, lets more through than the limit; a cell leased and not used
// within leaseTTL lapses, taken from the bucket for nothing, which only
// ever makes the limit stricter, by at most what the key's own requests of
// leaseTTL would have used. A key is hot when it made requests in the last
// leaseTTL here: it asks for as many cells as it made requests then, at
// most leaseMax and a twentieth of the limit. A key with a request now and
// then asks for one cell, as a key always did; so does every request of a
// key while one of its requests is asking for a lease and none is left.
// So that this seldom happens to a busy key, a lease is refilled ahead:
// the request that finds a quarter of the last lease left passes on its
// cell and asks for the next lease too, which joins what is left.

// leaseTTL is how long leased cells stay usable, and the slot over which
// a key's requests are counted.
const leaseTTL = 500 * time.Millisecond

// leaseMax caps the cells of one lease: at 10,000 requests a second, a
// lease lasts a tenth of a second.
const leaseMax = 1024

// leaseKeys bounds the keys remembered; past it they start again empty.
const leaseKeys = 1 << 16

// leases holds one limit's leased cells, by key.
type leases struct {
	mu  sync.Mutex
	m   map[string]*lease
	max int64 // cells a lease may ask for (1: never more than one)
}

type lease struct {
	cells  int64     // taken from Redis, not used yet
	until  time.Time // unused cells lapse then
	slot   time.Time // start of the slot hits counts
	hits   int64     // requests in the slot
	prev   int64     // requests in the slot before, when it was the last one
	last   int64     // cells of the last lease granted
	asking bool      // a request of the key is asking Redis for a lease
}

// newLeases returns the leases of a limit of perMinute requests a minute.
func newLeases(perMinute int) *leases {
	return &leases{m: map[string]*lease{}, max: max(1, min(leaseMax, int64(perMinute)/20))}
}

// take counts a request of key at now and spends a leased cell on it:
// leased true when it passes without Redis. ask is how many cells to ask
// Redis for — the request's own among them when it is not leased, the next
// lease of a busy key when it is — and got must be told what came of it.
func (ls *leases) take(key string, now time.Time) (leased bool, ask int64) {
	if ls == nil {
		return false, 1
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.m[key]
	if l == nil {
		if len(ls.m) >= leaseKeys {
			ls.m = map[string]*lease{}
		}
		l = &lease{slot: now}
		ls.m[key] = l
	}
	if since := now.Sub(l.slot); since >= leaseTTL {
		l.prev = 0
		if since < 2*leaseTTL {
			l.prev = l.hits
		}
		l.hits, l.slot = 0, now
	}
	l.hits++
	want := min(max(l.prev, l.hits), ls.max) // the cells a lease would hold
	if l.cells > 0 && now.Before(l.until) {
		l.cells--
		// A quarter of the lease left: ask for the next one now.
		if l.asking || l.cells > l.last/4 || want <= 1 {
			return true, 0
		}
		l.asking = true
		return true, want
	}
	l.cells = 0
	if l.asking || want <= 1 {
		return false, 1
	}
	l.asking = true
	return false, want
}

// got records what Redis gave a request that asked for ask cells: granted
// of them (0 when it refused or did not answer), the request's own first
// unless a leased cell had passed it (a refill).
func (ls *leases) got(key string, ask, granted int64, leased bool, now time.Time) {
	if ls == nil || ask <= 1 {
		return
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.m[key]
	if l == nil {
		return
	}
	l.asking = false
	if !leased {
		granted-- // the request's own
	}
	if granted <= 0 {
		return
	}
	if !now.Before(l.until) {
		l.cells = 0 // what was left has lapsed
	}
	l.cells += granted
	l.until, l.last = now.Add(leaseTTL), granted
}
