package sessionstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/session"
	"github.com/jifen/jifen/repo"
)

// Denylist keeps ended sessions and access tokens in the token_denylist
// table (the truth) and in Redis (what every authenticated request reads).
//
// Redis answers only while its "ready" key is there: the key is set after
// the table's live rows were copied in, so Redis that lost its keys (a
// restart, a flush) is not trusted to say "not denied". Until one request
// has copied the rows back, and whenever Redis cannot be reached, the table
// answers.
type Denylist struct {
	DB    *repo.DB
	Redis *repo.Redis
	Clock domain.Clock

	rebuilding atomic.Bool
}

var _ session.Denylist = (*Denylist)(nil)

type denyRow struct {
	TokenID   string `gorm:"primaryKey"`
	ExpiresAt time.Time
}

func (denyRow) TableName() string { return "token_denylist" }

func (d *Denylist) key(id string) string { return d.Redis.Key("deny", id) }
func (d *Denylist) readyKey() string     { return d.Redis.Key("deny", "ready") }

// Deny records id until the time given, in the caller's transaction, and
// copies it to Redis. A copy that fails drops the ready key, so no
// instance trusts Redis's "not denied" until the table is copied again.
func (d *Denylist) Deny(ctx context.Context, id string, until time.Time) error {
	now := d.Clock.Now()
	db := d.DB.Conn(ctx)
	if err := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "token_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"expires_at"})}).
		Create(&denyRow{TokenID: id, ExpiresAt: until.UTC()}).Error; err != nil {
		return fmt.Errorf("deny token: %w", err)
	}
	// Rows past their expiry deny nothing: a few go with each new one.
	if err := db.Exec("DELETE FROM token_denylist WHERE token_id IN (SELECT token_id FROM (SELECT token_id FROM token_denylist WHERE expires_at < ? LIMIT 100) old)", now.UTC()).Error; err != nil {
		return fmt.Errorf("forget expired denials: %w", err)
	}
	ttl := until.Sub(now)
	if ttl <= 0 {
		return nil
	}
	if err := d.Redis.C.Set(ctx, d.key(id), 1, ttl).Err(); err != nil {
		slog.WarnContext(ctx, "token denylist: Redis copy failed; the database answers until it is rebuilt", "err", err.Error())
		_ = d.Redis.C.Del(context.WithoutCancel(ctx), d.readyKey()).Err()
	}
	return nil
}

// RedisKeys are the keys Denied reads for ids, its ready key first: a
// caller that reads them itself (the request gate, in the same round trip
// as the rate limits) trusts them exactly as Denied does — no value but
// the ready key's means not denied; a missing ready key or an error means
// ask Denied.
func (d *Denylist) RedisKeys(ids []string) []string {
	keys := make([]string, 0, len(ids)+1)
	keys = append(keys, d.readyKey())
	for _, id := range ids {
		keys = append(keys, d.key(id))
	}
	return keys
}

// Denied reports whether any of ids is denied. The keys are read one GET
// each in a pipeline, not by MGET: on a Redis Cluster they live in
// different slots (an MGET would be refused, CROSSSLOT, every time).
func (d *Denylist) Denied(ctx context.Context, ids ...string) (bool, error) {
	pipe := d.Redis.C.Pipeline()
	var cmds []*redis.StringCmd
	for _, k := range d.RedisKeys(ids) {
		cmds = append(cmds, pipe.Get(ctx, k))
	}
	_, _ = pipe.Exec(ctx)
	ready := cmds[0].Err()
	switch {
	case ready == redis.Nil: // the denylist is not in Redis (lost or never built)
		d.rebuild(ctx)
		return d.deniedInDB(ctx, ids)
	case ready != nil:
		return d.deniedInDB(ctx, ids)
	}
	for _, cmd := range cmds[1:] {
		switch err := cmd.Err(); {
		case err == nil:
			return true, nil
		case err != redis.Nil:
			return d.deniedInDB(ctx, ids)
		}
	}
	return false, nil
}

func (d *Denylist) deniedInDB(ctx context.Context, ids []string) (bool, error) {
	var n int64
	if err := d.DB.Conn(ctx).Model(&denyRow{}).Where("token_id IN ? AND expires_at > ?", ids, d.Clock.Now().UTC()).
		Count(&n).Error; err != nil {
		return false, fmt.Errorf("token denylist: %w", err)
	}
	return n > 0, nil
}

// rebuild copies the table's live rows to Redis, then sets the ready key;
// one request per process does it at a time, the others ask the table.
func (d *Denylist) rebuild(ctx context.Context) {
	if !d.rebuilding.CompareAndSwap(false, true) {
		return
	}
	defer d.rebuilding.Store(false)
	now := d.Clock.Now()
	var rows []denyRow
	if err := d.DB.Conn(ctx).Where("expires_at > ?", now.UTC()).Find(&rows).Error; err != nil {
		return
	}
	pipe := d.Redis.C.Pipeline()
	for _, r := range rows {
		if ttl := r.ExpiresAt.Sub(now); ttl > 0 {
			pipe.Set(ctx, d.key(r.TokenID), 1, ttl)
		}
	}
	pipe.Set(ctx, d.readyKey(), 1, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		_ = d.Redis.C.Del(context.WithoutCancel(ctx), d.readyKey()).Err()
	}
}
