package repo

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the cache: a UniversalClient (so Redis Cluster works) and a key
// prefix that isolates tests and tenants sharing one server. Nothing stored
// here is the truth; every structure is rebuilt from SQL when missing.
type Redis struct {
	C      redis.UniversalClient
	Prefix string
}

// Key joins parts under the prefix: Key("signin", "{m:42}", "202611").
// Keys of one member carry the hash tag {m:<id>} so multi-key scripts stay
// in one Cluster slot.
func (r *Redis) Key(parts ...string) string {
	return r.Prefix + strings.Join(parts, ":")
}

// DeleteAll removes every key under the prefix (a FLUSHALL limited to this
// instance). Tests use it to prove that Redis state is rebuilt from SQL.
func (r *Redis) DeleteAll(ctx context.Context) error {
	if r.Prefix == "" {
		return r.C.FlushAll(ctx).Err()
	}
	// SCAN walks the whole keyspace, whoever's keys it holds: large steps
	// keep a wipe to a few round trips when the server is shared.
	iter := r.C.Scan(ctx, 0, r.Prefix+"*", 5000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := r.C.Del(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return r.C.Del(ctx, batch...).Err()
	}
	return nil
}

// rebuildScript: KEYS one hash; ARGV ttl (0 = none), then field, value
// pairs. Replaces the hash only when it lacks "_ok", so a rebuild never
// clobbers live counters another request rebuilt first.
var rebuildScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], '_ok') == 1 then return 0 end
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
redis.call('HSET', KEYS[1], '_ok', 1)
if tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1
`)

// RebuildHash loads a gate's counter hash from SQL values (field, value
// pairs) and marks it "_ok", unless a rebuilt hash is already there; a
// hash without "_ok" (lost, or half-recreated by a late release) is
// replaced. ttlSeconds 0 keeps it without expiry.
func (r *Redis) RebuildHash(ctx context.Context, key string, ttlSeconds int64, pairs ...any) error {
	return rebuildScript.Run(ctx, r.C, []string{key}, append([]any{ttlSeconds}, pairs...)...).Err()
}

// RedisOptions are the request-path limits of the Redis client: Redis is a
// cache here, and a Redis that hangs must cost a request at most Timeout,
// never go-redis's default seconds and retries.
type RedisOptions struct {
	Addrs    []string
	Password string
	DB       int
	// Timeout bounds dialling, each read and write, and the wait for a
	// pooled connection (150 ms when zero). Commands are never retried.
	Timeout time.Duration
	// BreakerFailures consecutive outages (5 when zero) open the circuit:
	// for BreakerCooldown (5 s when zero) every command fails at once with
	// ErrCircuitOpen, then one command probes and its answer closes the
	// circuit again or reopens it.
	BreakerFailures int
	BreakerCooldown time.Duration
	// Coalescer merges concurrent pipelines on a single server (nil: a
	// new one; pass one to read its Stats).
	Coalescer *Coalescer
}

// NewRedisClient opens a client with those limits. Every outage it meets
// comes back as a *domain.Error with code Unavailable (RedisOutage), so a
// caller that cannot do without Redis answers 503 without mapping
// anything, and a caller that can (the rate limiter, the caches) moves on
// within Timeout.
func NewRedisClient(o RedisOptions) redis.UniversalClient {
	if o.Timeout <= 0 {
		o.Timeout = 150 * time.Millisecond
	}
	c := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs: o.Addrs, Password: o.Password, DB: o.DB,
		DialTimeout: o.Timeout, ReadTimeout: o.Timeout, WriteTimeout: o.Timeout, PoolTimeout: o.Timeout,
		MaxRetries: -1, ContextTimeoutEnabled: true,
		// go-redis dials 5 times 100 ms apart by default: a refused dial
		// would cost every command half a second before the breaker opens.
		DialerRetries: 1,
	})
	c.AddHook(&Breaker{Failures: o.BreakerFailures, Cooldown: o.BreakerCooldown})
	if _, single := c.(*redis.Client); single {
		// Inside the breaker: it admits or refuses each caller's pipeline
		// before any is merged.
		co := o.Coalescer
		if co == nil {
			co = &Coalescer{}
		}
		c.AddHook(co)
	}
	return c
}

// ErrCircuitOpen is the failure of a command refused without trying,
// because the commands before it could not reach Redis.
var ErrCircuitOpen = errors.New("redis: circuit open after repeated failures")

// Breaker is a go-redis hook: a circuit breaker that fails fast for a few
// seconds after Failures consecutive outages, and the one place where a
// Redis outage becomes Unavailable.
type Breaker struct {
	Failures int           // 5 when zero
	Cooldown time.Duration // 5 s when zero
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu        sync.Mutex
	failed    int
	openUntil time.Time
	probing   bool
}

var _ redis.Hook = (*Breaker)(nil)

func (b *Breaker) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Breaker) threshold() int {
	if b.Failures <= 0 {
		return 5
	}
	return b.Failures
}

// Open reports whether commands are being refused now.
func (b *Breaker) Open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed >= b.threshold() && (b.now().Before(b.openUntil) || b.probing)
}

// allow admits a command: always while closed; while open, none until the
// cooldown ends, then one probe at a time.
func (b *Breaker) allow() (probe, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failed < b.threshold() {
		return false, true
	}
	if b.now().Before(b.openUntil) || b.probing {
		return false, false
	}
	b.probing = true
	return true, true
}

func (b *Breaker) done(probe, down bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	if !down {
		b.failed = 0
		return
	}
	b.failed++
	if b.failed >= b.threshold() {
		cool := b.Cooldown
		if cool <= 0 {
			cool = 5 * time.Second
		}
		b.openUntil = b.now().Add(cool)
	}
}

// admitted marks a command the breaker let through: go-redis may run it
// through the pipeline hook as well, which must not count it twice (nor
// refuse it as a second probe).
type admitted struct{}

// DialHook is unchanged: a failed dial surfaces as the command's error.
func (b *Breaker) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook runs one command through the breaker.
func (b *Breaker) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if ctx.Value(admitted{}) != nil {
			return next(ctx, cmd)
		}
		probe, ok := b.allow()
		if !ok {
			err := RedisOutage(ErrCircuitOpen)
			cmd.SetErr(err)
			return err
		}
		err := next(context.WithValue(ctx, admitted{}, true), cmd)
		down := redisDown(err)
		b.done(probe, down)
		if down {
			err = RedisOutage(err)
			cmd.SetErr(err)
		}
		return err
	}
}

// ProcessPipelineHook runs one pipeline through the breaker, as one command.
func (b *Breaker) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if ctx.Value(admitted{}) != nil {
			return next(ctx, cmds)
		}
		probe, ok := b.allow()
		if !ok {
			err := RedisOutage(ErrCircuitOpen)
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		err := next(context.WithValue(ctx, admitted{}, true), cmds)
		down := redisDown(err)
		for _, c := range cmds {
			if redisDown(c.Err()) {
				down = true
				c.SetErr(RedisOutage(c.Err()))
			}
		}
		b.done(probe, down)
		if down && err != nil {
			err = RedisOutage(err)
		}
		return err
	}
}
