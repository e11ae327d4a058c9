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
