package repo

import (
	"context"
	"strings"

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
	iter := r.C.Scan(ctx, 0, r.Prefix+"*", 500).Iterator()
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
