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
	count := func() int64 {
		var n int64
		if err := env.DB.Conn(ctx).Raw("SELECT COUNT(*) FROM outage_t").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
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
		if domain.ErrorCode(err) != domain.Unavailable || calls != 1 {
			t.Fatalf("%s broken at COMMIT: %v after %d calls; want Unavailable after one", tx.name, err, calls)
		}
		if err := env.DB.Conn(ctx).Exec("DELETE FROM outage_t WHERE id > ?", base+1).Error; err != nil {
			t.Fatal(err)
		}
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
