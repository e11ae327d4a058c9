package wechat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/cache"
)

// RedisCache is the SDK's cache.Cache over go-redis v9 (the SDK's own Redis
// cache is built on go-redis v8). Every key gets Prefix in front. Values are
// strings, which is all the SDK stores (access tokens, tickets).
type RedisCache struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ cache.ContextCache = (*RedisCache)(nil)

// NewRedisCache returns a cache storing keys as prefix+key in rdb.
func NewRedisCache(rdb redis.UniversalClient, prefix string) *RedisCache {
	return &RedisCache{rdb: rdb, prefix: prefix}
}

// Get returns the string stored under key, or nil when there is none. A
// Redis error reads as a miss: the SDK then fetches a fresh token.
func (c *RedisCache) Get(key string) any { return c.GetContext(context.Background(), key) }

// GetContext is Get with a context.
func (c *RedisCache) GetContext(ctx context.Context, key string) any {
	v, err := c.rdb.Get(ctx, c.prefix+key).Result()
	if err != nil {
		return nil
	}
	return v
}

// value is the string under key: "" with a nil error when there is none,
// an error when Redis did not answer (unlike Get, which reads it as a miss).
func (c *RedisCache) value(ctx context.Context, key string) (string, error) {
	v, err := c.rdb.Get(ctx, c.prefix+key).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

// Set stores val (a string or []byte) under key for timeout. A timeout that
// is not positive stores nothing and drops any older value: such a value is
// already stale, and Redis would otherwise keep it forever.
func (c *RedisCache) Set(key string, val any, timeout time.Duration) error {
	return c.SetContext(context.Background(), key, val, timeout)
}

// SetContext is Set with a context.
func (c *RedisCache) SetContext(ctx context.Context, key string, val any, timeout time.Duration) error {
	switch val.(type) {
	case string, []byte:
	default:
		return fmt.Errorf("wechat cache: cannot store %T under %q: only strings", val, key)
	}
	if timeout <= 0 {
		return c.rdb.Del(ctx, c.prefix+key).Err()
	}
	return c.rdb.Set(ctx, c.prefix+key, val, timeout).Err()
}

// IsExist reports whether key holds a value.
func (c *RedisCache) IsExist(key string) bool { return c.IsExistContext(context.Background(), key) }

// IsExistContext is IsExist with a context.
func (c *RedisCache) IsExistContext(ctx context.Context, key string) bool {
	n, err := c.rdb.Exists(ctx, c.prefix+key).Result()
	return err == nil && n > 0
}

// Delete removes key.
func (c *RedisCache) Delete(key string) error { return c.DeleteContext(context.Background(), key) }

// DeleteContext is Delete with a context.
func (c *RedisCache) DeleteContext(ctx context.Context, key string) error {
	return c.rdb.Del(ctx, c.prefix+key).Err()
}
