package repo_test

import (
	"context"
	"testing"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/testenv"
)

// A unit of work whose connection broke before COMMIT rolled back with it
// and runs once more on a fresh connection (the pool's connections went
// stale while MariaDB restarted); one that broke at COMMIT may have landed
// and is reported Unavailable, never run again. On the embedded SQLite the
// only outage is a closed pool.
func TestTxOutages(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.WithProxies())
	ctx := context.Background()
	if err := env.DB.Conn(ctx).Exec("CREATE TABLE outage_t (id BIGINT PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	// The test's own reads and clean-ups after a drop may meet a pooled
	// connection the proxy closed a moment ago ("invalid connection": the
	// driver cannot tell whether the statement ran, so database/sql does
	// not retry it); they are not what is tested: a few tries each.
	settled := func(what string, stmt func() error) {
		t.Helper()
		var err error
		for range 5 {
			if err = stmt(); err == nil {
				return
			}
		}
		t.Fatalf("%s: %v", what, err)
	}
	// After a drop the pools may still hold connections the proxy closed:
	// each case starts on fresh ones, so a stale one left by the case
	// before does not break the next case's first statement (and make its
	// unit of work run twice for a reason of its own).
	fresh := func() {
		env.DB.SetMaxOpenConns(0) // no idle connections kept: they close
		env.DB.SetMaxOpenConns(testenv.MaxOpenConns)
	}
	count := func() int64 {
		var n int64
		settled("count", func() error { return env.DB.Conn(ctx).Raw("SELECT COUNT(*) FROM outage_t").Scan(&n).Error })
		return n
	}
	if env.SQLProxy == nil {
		env.DB.Close()
		err := env.DB.InTx(ctx, func(ctx context.Context) error {
			return env.DB.Conn(ctx).Exec("INSERT INTO outage_t (id) VALUES (1)").Error
		})
		if domain.ErrorCode(err) != domain.Unavailable {
			t.Fatalf("InTx on a closed database: %v; want Unavailable", err)
		}
		return
	}

	txs := []struct {
		name string
		run  func(context.Context, func(context.Context) error) error
	}{{"InTx", env.DB.InTx}, {"InPipelinedTx", env.DB.InPipelinedTx}}
	for i, tx := range txs {
		base := int64(10 * i)
		// Broken before COMMIT: run again, once.
		calls := 0
		err := tx.run(ctx, func(ctx context.Context) error {
			calls++
			var n int64
			if err := env.DB.Conn(ctx).Raw("SELECT COUNT(*) FROM outage_t").Scan(&n).Error; err != nil {
				return err
			}
			if calls == 1 {
				env.SQLProxy.Drop()
			}
			return env.DB.Conn(ctx).Exec("INSERT INTO outage_t (id) VALUES (?)", base+1).Error
		})
		fresh()
		if err != nil || calls != 2 || count() != int64(i)+1 {
			t.Fatalf("%s broken before COMMIT: err %v after %d calls, %d rows; want it run twice and committed", tx.name, err, calls, count())
		}

		// Broken at COMMIT: Unavailable, not run again.
		calls = 0
		err = tx.run(ctx, func(ctx context.Context) error {
			calls++
			if err := env.DB.Later(ctx, nil, "INSERT INTO outage_t (id) VALUES (?)", base+2); err != nil {
				return err
			}
			if err := env.DB.Conn(ctx).Exec("INSERT INTO outage_t (id) VALUES (?)", base+3).Error; err != nil {
				return err
			}
			env.SQLProxy.Drop()
			return nil
		})
		fresh()
		if domain.ErrorCode(err) != domain.Unavailable || calls != 1 {
			t.Fatalf("%s broken at COMMIT: %v after %d calls; want Unavailable after one", tx.name, err, calls)
		}
		settled("clean up", func() error {
			return env.DB.Conn(ctx).Exec("DELETE FROM outage_t WHERE id > ?", base+1).Error
		})
	}

	// Gone for good: Unavailable.
	env.SQLProxy.Cut()
	err := env.DB.InTx(ctx, func(ctx context.Context) error {
		return env.DB.Conn(ctx).Exec("INSERT INTO outage_t (id) VALUES (99)").Error
	})
	if domain.ErrorCode(err) != domain.Unavailable {
		t.Fatalf("InTx with the server gone: %v; want Unavailable", err)
	}
	if _, err := (&repo.Redis{C: env.Redis.C}).C.Ping(ctx).Result(); err != nil {
		t.Fatalf("redis is not behind the database's proxy: %v", err)
	}
}
