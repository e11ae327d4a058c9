package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jifen/jifen/configs"
)

// CheckRedisSettings pings the configured Redis once at start and refuses
// what only a change of configuration can fix: a password it wants or
// refuses, a database index it does not have. Redis not answering is an
// outage, not a mistake: serve then starts degraded, as documented, and
// recovers when Redis does. (Only these errors: a NOAUTH Redis used to
// leave serve "ready, degraded" for ever, every draw and redemption 503.)
func CheckRedisSettings(ctx context.Context, cfg *configs.Config, st *Stores) error {
	if cfg.Redis.Addr == "" {
		return nil // the in-process one
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := st.Redis.C.Ping(ctx).Err()
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "NOAUTH"), strings.Contains(msg, "WRONGPASS"), strings.Contains(msg, "invalid password"),
		strings.Contains(msg, "invalid username-password"):
		return fmt.Errorf("redis at %s refused the credentials: %s; set redis.password (JIFEN_REDIS_PASSWORD)", cfg.Redis.Addr, msg)
	case strings.Contains(msg, "DB index is out of range"):
		return fmt.Errorf("redis at %s has no database %d: %s; set redis.db (JIFEN_REDIS_DB) to one it has (0 by default)", cfg.Redis.Addr, cfg.Redis.DB, msg)
	}
	return nil
}
