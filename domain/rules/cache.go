package rules

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// # Active-rule cache
//
// With Service.CacheTTL set, the active rules of a trigger are read once
// (Store.List) and kept in memory for CacheTTL, measured on the process's
// own clock (not Service.Clock, which tests move). Create, Update and
// Delete through the Service drop the cache when their unit of work ends,
// and a load that raced with such an edit is not kept, so an edit made on
// this instance applies to the next event; an edit made on another
// instance applies within CacheTTL. Budget pools and caps are never
// cached: they are read (locked) in the event's unit of work.

type cachedRules struct {
	rules  []Rule
	loaded time.Time
}

type ruleCache struct {
	mu        sync.Mutex
	gen       uint64
	byTrigger map[Trigger]cachedRules
}

func (c *ruleCache) drop() {
	c.mu.Lock()
	c.gen++
	c.byTrigger = nil
	c.mu.Unlock()
}

// active returns the rules of trigger active at `at`, from the cache when
// it is on and fresh.
func (s *Service) active(ctx context.Context, trigger Trigger, at time.Time) ([]Rule, error) {
	if s.CacheTTL <= 0 {
		return s.Store.ActiveFor(ctx, trigger, at)
	}
	rs, err := s.cached(ctx, trigger)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(rs))
	for i := range rs {
		if rs[i].activeAt(trigger, at) {
			out = append(out, rs[i])
		}
	}
	return out, nil
}

// cached returns every active rule of trigger (whatever its validity
// window) from the cache, loading them when they are missing or stale.
// The cache must be on.
func (s *Service) cached(ctx context.Context, trigger Trigger) ([]Rule, error) {
	c := &s.cache
	c.mu.Lock()
	e, ok := c.byTrigger[trigger]
	gen := c.gen
	c.mu.Unlock()
	if !ok || time.Since(e.loaded) >= s.CacheTTL {
		rs, err := s.Store.List(ctx, Filter{Trigger: trigger, Status: Active})
		if err != nil {
			return nil, fmt.Errorf("active rules for %s: %w", trigger, err)
		}
		e = cachedRules{rules: rs, loaded: time.Now()}
		c.mu.Lock()
		if c.gen == gen { // no edit since the load started
			if c.byTrigger == nil {
				c.byTrigger = map[Trigger]cachedRules{}
			}
			c.byTrigger[trigger] = e
		}
		c.mu.Unlock()
	}
	return e.rules, nil
}
