package mall

import (
	"context"
	"sync"
	"time"
)

// itemCache keeps the items redemptions start from (Service.ItemTTL).
// What a redemption reads of it before its unit of work only steers it:
// whether the item is on sale and takes cash (refused at once, or not
// grouped), and the limits the Gate checks. Its unit of work reads the
// item again and decides on that (decide), and a group whose item turned
// out to take cash or to be restricted to tiers runs alone. So an edit on
// another instance is seen by the Gate within ItemTTL; this instance
// forgets an item it updates at once.
type itemCache struct {
	mu sync.Mutex
	m  map[int64]cachedItem
}

type cachedItem struct {
	it   Item
	read time.Time
}

func (c *itemCache) get(id int64, now time.Time, ttl time.Duration) (*Item, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || now.Sub(e.read) >= ttl || now.Before(e.read) {
		return nil, false
	}
	it := e.it
	return &it, true
}

func (c *itemCache) put(it *Item, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64]cachedItem{}
	}
	c.m[it.ID] = cachedItem{it: *it, read: now}
}

func (c *itemCache) forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// itemForRedeem is the item a redemption starts from: read, or kept for
// ItemTTL.
func (s *Service) itemForRedeem(ctx context.Context, id int64) (*Item, error) {
	if s.ItemTTL <= 0 {
		return s.Store.Item(ctx, id)
	}
	now := s.Clock.Now()
	if it, ok := s.items.get(id, now, s.ItemTTL); ok {
		return it, nil
	}
	it, err := s.Store.Item(ctx, id)
	if err != nil {
		return nil, err
	}
	s.items.put(it, now)
	return it, nil
}
