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
//
// A denial whose copy to Redis fails (this instance cannot reach Redis,
// while the others can and keep trusting the ready key) is written to
// token_denylist_unsent in the same transaction as its row, and every
// serving instance copies that table to Redis every SyncEvery (Run): the
// first instance that reaches Redis copies it and deletes the rows. So a
// denial takes effect on every instance within about SyncEvery of its
// commit, whichever instance made it and whether or not that instance
// ever reaches Redis again (it may crash); instances that cannot reach
// Redis ask the table meanwhile.
type Denylist struct {
	DB    *repo.DB
	Redis *repo.Redis
	Clock domain.Clock
	// SyncEvery is how often Run copies the unsent denials (0: a second).
	SyncEvery time.Duration
	// Log receives Run's warnings (nil: slog's default logger).
	Log *slog.Logger

	rebuilding atomic.Bool
}

var _ session.Denylist = (*Denylist)(nil)

type denyRow struct {
	TokenID   string `gorm:"primaryKey"`
	ExpiresAt time.Time
}

func (denyRow) TableName() string { return "token_denylist" }

// unsentRow is a denial whose copy to Redis failed (schema
// tokenDenylistUnsentV1).
type unsentRow struct {
	ID        int64 `gorm:"primaryKey"`
	TokenID   string
	ExpiresAt time.Time
}

func (unsentRow) TableName() string { return "token_denylist_unsent" }

func (d *Denylist) key(id string) string { return d.Redis.Key("deny", id) }
func (d *Denylist) readyKey() string     { return d.Redis.Key("deny", "ready") }

// Deny records id until the time given, in the caller's transaction (or a
// transaction of its own), and copies it to Redis. A copy that fails is
// recorded in token_denylist_unsent in that transaction, for Run to copy
// from whichever instance reaches Redis; the ready key is also dropped
// when that still works (Redis slow rather than gone), so every instance
// asks the table until the next request rebuilds it.
func (d *Denylist) Deny(ctx context.Context, id string, until time.Time) error {
	return d.DB.InTx(ctx, func(ctx context.Context) error {
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
			slog.WarnContext(ctx, "token denylist: Redis copy failed; every instance copies it from the database once one reaches Redis", "err", err.Error())
			if err := db.Create(&unsentRow{TokenID: id, ExpiresAt: until.UTC()}).Error; err != nil {
				return fmt.Errorf("record the denial's failed copy: %w", err)
			}
			_ = d.Redis.C.Del(context.WithoutCancel(ctx), d.readyKey()).Err()
		}
		return nil
	})
}

// syncBatch is how many unsent denials one Sync copies at most.
const syncBatch = 500

// Sync copies the unsent denials to Redis, oldest first, at most
// syncBatch, and deletes the ones copied: n of them. Expired ones are only
// deleted. Instances that sync at once copy the same rows twice, which is
// harmless.
func (d *Denylist) Sync(ctx context.Context) (n int, err error) {
	var rows []unsentRow
	if err := d.DB.Conn(ctx).Order("id").Limit(syncBatch).Find(&rows).Error; err != nil {
		return 0, fmt.Errorf("unsent denials: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	now := d.Clock.Now()
	pipe := d.Redis.C.Pipeline()
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
		if ttl := r.ExpiresAt.Sub(now); ttl > 0 {
			pipe.Set(ctx, d.key(r.TokenID), 1, ttl)
		}
	}
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return 0, fmt.Errorf("copy unsent denials to Redis: %w", err)
		}
	}
	if err := d.DB.Conn(ctx).Where("id IN ?", ids).Delete(&unsentRow{}).Error; err != nil {
		return 0, fmt.Errorf("forget copied denials: %w", err)
	}
	return len(rows), nil
}

// Run calls Sync every SyncEvery until ctx ends (at once again while a
// full batch was copied). Every serving instance runs it: one indexed
// read of a table that is empty but after a Redis outage.
func (d *Denylist) Run(ctx context.Context) {
	every := d.SyncEvery
	if every <= 0 {
		every = time.Second
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			n, err := d.Sync(ctx)
			switch {
			case err != nil && ctx.Err() == nil && !failing:
				failing = true
				log.Warn("token denylist: the denials whose copy failed are not copied to Redis yet; retrying every "+every.String(), "err", err.Error())
			case err == nil && failing:
				failing = false
				log.Info("token denylist: copying the denials whose copy failed works again")
			}
			if n > 0 {
				log.Info("token denylist: denials whose copy had failed copied to Redis", "denials", n)
			}
			if err != nil || n < syncBatch {
				break
			}
		}
	}
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

// DeniedInRecord is Denied asked of the token_denylist table alone.
func (d *Denylist) DeniedInRecord(ctx context.Context, ids ...string) (bool, error) {
	return d.deniedInDB(ctx, ids)
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
