// Package mecache keeps each member's GET /api/v1/shopper/me answer in
// Redis, so that most of a shopper's reads of their own points touch no
// database. MySQL stays the truth: a cached answer is served only while no
// write to the member's points, tier or profile has ended since it was
// built.
//
// One hash per member, {g, v}: g counts the member's writes (HINCRBY, after
// every transaction that changed the member ends: repo.DB.Touch and
// OnTouch), v is "<g at build time>|<answer>". An answer is served only
// when its g is the hash's current g. A reader that misses reads g first,
// then the database, then stores its answer only if g has not moved in
// between (a script): a write that ended after the reader's database read
// moved g before or after that store, and either way the answer is never
// served. Writes and views live in one key, so Redis losing it (eviction,
// expiry, a flush) loses both together.
//
// When an invalidation cannot reach Redis (an outage, the breaker open),
// this instance remembers the members, retries every RetryEvery until
// Redis takes them, and meanwhile neither serves nor stores answers. Other
// instances do not know: until the retry lands (within RetryEvery of Redis
// answering again) they may serve an answer built before that write, if
// Redis kept it through the outage. TTL bounds every answer's life.
package mecache

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/repo"
)

// Cache is the members' /me answers in Redis.
type Cache struct {
	Redis *repo.Redis
	// Namespace separates answers of different shapes (the version of the
	// answer's fields, the tier names configured): a deploy that changes
	// them starts from an empty cache.
	Namespace string
	TTL       time.Duration
	// Now is the service's clock, against which an answer's until is read
	// (nil: the wall clock).
	Now func() time.Time
	// RetryEvery is how often invalidations that failed are sent again
	// (0: 200 ms).
	RetryEvery time.Duration

	mu       sync.Mutex
	unsent   map[int64]struct{}
	retrying bool
}

func (c *Cache) key(memberID int64) string {
	// The member's hash tag keeps the key in the slot of their other keys.
	return c.Redis.Key("me", c.Namespace, "{m:"+strconv.FormatInt(memberID, 10)+"}")
}

// fillScript: KEYS the member's hash; ARGV g seen before the database read,
// until|answer, the TTL in ms. Stores the answer only if g has not moved.
var fillScript = redis.NewScript(`
if (redis.call('HGET', KEYS[1], 'g') or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1] .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

func noFill([]byte, time.Time) {}

// Get returns the member's cached answer, or nil and fill: the caller
// builds the answer from the database and hands it to fill, which stores
// it unless a write to the member ended meanwhile. An answer that changes
// with time and no write is the caller's business: it is not given to
// fill (a balance with pending points, which unlock with time), or it is
// given with the instant until which it holds (a balance whose first
// points expire then): from then on, by the Cache's clock, it is not
// served. The zero until: it holds until a write or the TTL.
func (c *Cache) Get(ctx context.Context, memberID int64) (answer []byte, fill func(answer []byte, until time.Time)) {
	pipe := c.Redis.C.Pipeline()
	read := c.Queue(ctx, pipe, memberID)
	_, _ = pipe.Exec(ctx)
	return read()
}

// Queue is Get in a pipeline the caller sends (the request gate's, with
// the rate limits): read, once the pipeline has been sent, gives Get's
// answer.
func (c *Cache) Queue(ctx context.Context, pipe redis.Pipeliner, memberID int64) (read func() ([]byte, func([]byte, time.Time))) {
	if c.dirty() {
		return func() ([]byte, func([]byte, time.Time)) { return nil, noFill }
	}
	key := c.key(memberID)
	cmd := pipe.HMGet(ctx, key, "g", "v")
	return func() ([]byte, func([]byte, time.Time)) {
		vals, err := cmd.Result()
		if err != nil || len(vals) != 2 {
			return nil, noFill
		}
		g := "0"
		if s, ok := vals[0].(string); ok {
			g = s
		}
		if v, ok := vals[1].(string); ok && len(v) > len(g) && v[len(g)] == '|' && strings.HasPrefix(v, g) {
			// v is g|until (Unix ms, 0: none)|answer.
			if u, answer, ok := strings.Cut(v[len(g)+1:], "|"); ok {
				if until, err := strconv.ParseInt(u, 10, 64); err == nil && (until == 0 || c.now().UnixMilli() < until) {
					return []byte(answer), nil
				}
			}
		}
		start := time.Now()
		return nil, func(answer []byte, until time.Time) {
			// A read slower than half the TTL could outlive a write's
			// marker (its key expiring meanwhile): such an answer is not
			// stored.
			if time.Since(start) > c.TTL/2 || c.dirty() {
				return
			}
			var u int64
			if !until.IsZero() {
				u = until.UnixMilli()
			}
			_ = fillScript.Run(ctx, c.Redis.C, []string{key}, g, strconv.FormatInt(u, 10)+"|"+string(answer), c.TTL.Milliseconds()).Err()
		}
	}
}

// Invalidate moves the members' g: their cached answers are never served
// again. It is repo.DB's OnTouch hook, called when a transaction that
// changed them has ended.
func (c *Cache) Invalidate(ctx context.Context, memberIDs []int64) {
	if err := c.send(ctx, memberIDs); err != nil {
		slog.WarnContext(ctx, "me cache: invalidation did not reach Redis; retrying, and this instance serves /me from the database meanwhile",
			"members", len(memberIDs), "err", err.Error())
		c.mu.Lock()
		if c.unsent == nil {
			c.unsent = map[int64]struct{}{}
		}
		for _, id := range memberIDs {
			c.unsent[id] = struct{}{}
		}
		start := !c.retrying
		c.retrying = true
		c.mu.Unlock()
		if start {
			go c.retry()
		}
	}
}

func (c *Cache) send(ctx context.Context, memberIDs []int64) error {
	pipe := c.Redis.C.Pipeline()
	ms := c.TTL.Milliseconds()
	for _, id := range memberIDs {
		k := c.key(id)
		pipe.HIncrBy(ctx, k, "g", 1)
		pipe.PExpire(ctx, k, time.Duration(ms)*time.Millisecond)
	}
	_, err := pipe.Exec(ctx)
	return err
}

func (c *Cache) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Cache) dirty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.unsent) > 0
}

// retry sends the unsent invalidations until Redis takes them all.
func (c *Cache) retry() {
	every := c.RetryEvery
	if every <= 0 {
		every = 200 * time.Millisecond
	}
	for {
		time.Sleep(every)
		c.mu.Lock()
		ids := make([]int64, 0, len(c.unsent))
		for id := range c.unsent {
			ids = append(ids, id)
		}
		c.mu.Unlock()
		if err := c.send(context.Background(), ids); err != nil {
			continue
		}
		c.mu.Lock()
		for _, id := range ids {
			delete(c.unsent, id)
		}
		done := len(c.unsent) == 0
		if done {
			c.retrying = false
		}
		c.mu.Unlock()
		if done {
			slog.Info("me cache: the invalidations that had failed reached Redis", "members", len(ids))
			return
		}
	}
}
