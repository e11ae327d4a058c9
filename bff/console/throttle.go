package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/domain"
)

// Throttle counts failed console sign-ins per username and per client IP:
// every ThrottleEvery-th failure of either locks it, for a minute the first
// time, doubling each time after, at most 15 minutes. While locked, a
// sign-in is refused before the password is checked, right or wrong.
//
// The counters live in Redis (shared by every instance); when Redis does
// not answer, each instance keeps its own in memory, so a Redis outage
// never lifts the throttle. Lock times come from the injected clock and
// are stored as instants, Redis TTLs only clear old keys away.
type Throttle struct {
	Redis  redis.UniversalClient // nil: in memory only
	Prefix string                // Redis key prefix
	Clock  domain.Clock

	mu    sync.Mutex
	local map[string]*localCount
}

const (
	// ThrottleEvery failures in a row lock a username or an IP.
	ThrottleEvery = 5
	throttleFirst = time.Minute
	throttleMax   = 15 * time.Minute
	// throttleKeep is how long a count is kept after its last failure.
	throttleKeep = time.Hour
)

type localCount struct {
	failures int64
	until    time.Time // locked until
	seen     time.Time // last failure
}

// LockedError is the 429 of a locked sign-in; RetryAfter is when it ends.
type LockedError struct {
	RetryAfter time.Duration
	err        *domain.Error
}

func (e *LockedError) Error() string { return e.err.Error() }
func (e *LockedError) Unwrap() error { return e.err }

// RetryAfterSeconds is the Retry-After header of a locked sign-in, "" for
// any other error.
func RetryAfterSeconds(err error) string {
	var le *LockedError
	if !errors.As(err, &le) {
		return ""
	}
	s := int64((le.RetryAfter + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// lockFor is the lock after the failures-th failure, 0 if none.
func lockFor(failures int64) time.Duration {
	if failures < ThrottleEvery || failures%ThrottleEvery != 0 {
		return 0
	}
	d := throttleFirst
	for n := failures / ThrottleEvery; n > 1 && d < throttleMax; n-- {
		d *= 2
	}
	return min(d, throttleMax)
}

func throttleKeys(username, ip string) []string {
	return []string{"user:" + throttleName(username), "ip:" + ip}
}

// throttleName is username as its counter's key names it: as it is up to
// 64 bytes, else "#" and its SHA-256. The username is whatever an
// unauthenticated client sends, up to the body limit: a megabyte of it was
// a megabyte key in Redis for an hour, and in memory while Redis is away.
// A name kept as it is never reads as a digest (65 bytes).
func throttleName(username string) string {
	if len(username) <= 64 {
		return username
	}
	sum := sha256.Sum256([]byte(username))
	return "#" + hex.EncodeToString(sum[:])
}

// Check refuses a sign-in of username from ip while either is locked.
func (t *Throttle) Check(ctx context.Context, username, ip string) error {
	now := t.Clock.Now()
	var wait time.Duration
	for _, k := range throttleKeys(username, ip) {
		if until := t.lockedUntil(ctx, k); until.After(now) {
			wait = max(wait, until.Sub(now))
		}
	}
	if wait > 0 {
		return &LockedError{RetryAfter: wait, err: domain.Errorf(domain.RateLimited,
			"too many failed sign-ins; try again in %d s", int64((wait+time.Second-1)/time.Second))}
	}
	return nil
}

// Failed counts a failed sign-in and returns the failures so far of the
// username and of the IP.
func (t *Throttle) Failed(ctx context.Context, username, ip string) (userFailures, ipFailures int64) {
	keys := throttleKeys(username, ip)
	counts := make([]int64, len(keys))
	for i, k := range keys {
		counts[i] = t.fail(ctx, k)
	}
	return counts[0], counts[1]
}

// Succeeded clears the username's count. The IP's stays: one account of
// an attacker's own must not reset a guessing run against others.
func (t *Throttle) Succeeded(ctx context.Context, username string) {
	k := throttleKeys(username, "")[0]
	if t.Redis != nil {
		if err := t.Redis.Del(ctx, t.Prefix+"login:n:"+k, t.Prefix+"login:until:"+k).Err(); err == nil {
			return
		}
	}
	t.mu.Lock()
	delete(t.local, k)
	t.mu.Unlock()
}

func (t *Throttle) lockedUntil(ctx context.Context, k string) time.Time {
	var until time.Time
	if t.Redis != nil {
		ms, err := t.Redis.Get(ctx, t.Prefix+"login:until:"+k).Int64()
		switch {
		case err == nil:
			until = time.UnixMilli(ms)
		case errors.Is(err, redis.Nil):
		default:
			// Redis is down: the instance's own counts decide.
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.local[k]; c != nil && c.until.After(until) {
		until = c.until
	}
	return until
}

func (t *Throttle) fail(ctx context.Context, k string) int64 {
	now := t.Clock.Now()
	if t.Redis != nil {
		n, err := t.failRedis(ctx, k, now)
		if err == nil {
			return n
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.local == nil {
		t.local = map[string]*localCount{}
	}
	if len(t.local) > 100000 { // a flood of usernames: forget the quiet ones
		for key, c := range t.local {
			if now.Sub(c.seen) > throttleKeep && !c.until.After(now) {
				delete(t.local, key)
			}
		}
	}
	c := t.local[k]
	if c == nil || now.Sub(c.seen) > throttleKeep {
		c = &localCount{}
		t.local[k] = c
	}
	c.failures++
	c.seen = now
	if d := lockFor(c.failures); d > 0 {
		c.until = now.Add(d)
	}
	return c.failures
}

func (t *Throttle) failRedis(ctx context.Context, k string, now time.Time) (int64, error) {
	nk := t.Prefix + "login:n:" + k
	pipe := t.Redis.TxPipeline()
	incr := pipe.Incr(ctx, nk)
	pipe.Expire(ctx, nk, throttleKeep)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	n := incr.Val()
	if d := lockFor(n); d > 0 {
		if err := t.Redis.Set(ctx, t.Prefix+"login:until:"+k, now.Add(d).UnixMilli(), d+throttleKeep).Err(); err != nil {
			return 0, fmt.Errorf("login throttle: %w", err)
		}
	}
	return n, nil
}
