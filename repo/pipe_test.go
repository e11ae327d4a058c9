package repo_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/testenv"
)

// Pipelined transactions run on both backends: on MySQL the statements
// travel together (repo.Pipelined is true), on SQLite they run at once;
// either way the outcome must be the same.

func pipeTable(t *testing.T) (*testenv.Env, context.Context) {
	t.Helper()
	env := testenv.New(t)
	ctx := context.Background()
	if err := env.DB.Conn(ctx).Exec("CREATE TABLE pipe_t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	return env, ctx
}

func pipeRows(t *testing.T, env *testenv.Env) map[int64]int64 {
	t.Helper()
	var rs []struct{ ID, V int64 }
	if err := env.DB.Conn(context.Background()).Raw("SELECT id, v FROM pipe_t ORDER BY id").Scan(&rs).Error; err != nil {
		t.Fatal(err)
	}
	out := map[int64]int64{}
	for _, r := range rs {
		out[r.ID] = r.V
	}
	return out
}

var errTaken = errors.New("taken")

func takenWrap(err error) error {
	if repo.IsDuplicate(err) {
		return fmt.Errorf("pipe_t: %w", errTaken)
	}
	return err
}

func TestPipelinedTxRunsDeferredWritesInOrderBeforeTheNextRead(t *testing.T) {
	env, ctx := pipeTable(t)
	var seen int64
	err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		if got, want := repo.Pipelined(ctx), env.DB.Dialect() == repo.MySQL; got != want {
			t.Errorf("Pipelined = %v on %s", got, env.DB.Dialect())
		}
		if err := env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 1, 10); err != nil {
			return err
		}
		if err := env.DB.Later(ctx, nil, "UPDATE pipe_t SET v = v + ? WHERE id = ?", 5, 1); err != nil {
			return err
		}
		// The read travels with both writes and sees them.
		if err := env.DB.Conn(ctx).Raw("SELECT v FROM pipe_t WHERE id = ?", 1).Scan(&seen).Error; err != nil {
			return err
		}
		// An ordinary statement through gorm carries what waits too.
		if err := env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 2, 20); err != nil {
			return err
		}
		if err := env.DB.Conn(ctx).Exec("UPDATE pipe_t SET v = v * 2 WHERE id = ?", 2).Error; err != nil {
			return err
		}
		// Left for the COMMIT.
		return env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 3, 30)
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != 15 {
		t.Fatalf("the read saw v = %d, want 15 (both deferred writes before it)", seen)
	}
	if got := pipeRows(t, env); len(got) != 3 || got[1] != 15 || got[2] != 40 || got[3] != 30 {
		t.Fatalf("rows after commit = %v, want 1:15 2:40 3:30", got)
	}
}

func TestPipelinedTxFailedDeferredWriteFailsTheNextStatementAndRollsBack(t *testing.T) {
	env, ctx := pipeTable(t)
	if err := env.DB.Conn(ctx).Exec("INSERT INTO pipe_t (id, v) VALUES (7, 70)").Error; err != nil {
		t.Fatal(err)
	}
	var readErr error
	err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		if err := env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 1, 10); err != nil {
			return err
		}
		if err := env.DB.Later(ctx, takenWrap, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 7, 71); err != nil {
			return err // SQLite: at once
		}
		var n int64
		readErr = env.DB.Conn(ctx).Raw("SELECT COUNT(*) FROM pipe_t").Scan(&n).Error
		return readErr
	})
	if !errors.Is(err, errTaken) {
		t.Fatalf("transaction error = %v, want the deferred insert's wrapped duplicate", err)
	}
	if env.DB.Dialect() == repo.MySQL && !errors.Is(readErr, errTaken) {
		t.Fatalf("the read carrying the failed insert returned %v", readErr)
	}
	if got := pipeRows(t, env); len(got) != 1 || got[7] != 70 {
		t.Fatalf("rows = %v, want only the row from before (7:70)", got)
	}
}

func TestPipelinedTxFailureAtCommitRollsBackAndTheConnectionIsReused(t *testing.T) {
	env, ctx := pipeTable(t)
	if err := env.DB.Conn(ctx).Exec("INSERT INTO pipe_t (id, v) VALUES (7, 70)").Error; err != nil {
		t.Fatal(err)
	}
	env.DB.SetMaxOpenConns(1) // the next transactions must reuse the connection
	err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		if err := env.DB.Conn(ctx).Exec("UPDATE pipe_t SET v = 0 WHERE id = 7").Error; err != nil {
			return err
		}
		if err := env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 1, 10); err != nil {
			return err
		}
		return env.DB.Later(ctx, takenWrap, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 7, 71)
	})
	if !errors.Is(err, errTaken) {
		t.Fatalf("transaction error = %v, want the wrapped duplicate from the COMMIT's request", err)
	}
	if got := pipeRows(t, env); len(got) != 1 || got[7] != 70 {
		t.Fatalf("rows = %v, want only 7:70 (update and insert rolled back)", got)
	}
	// The connection is clean: a new transaction commits normally.
	if err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		return env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 2, 20)
	}); err != nil {
		t.Fatal(err)
	}
	if got := pipeRows(t, env); len(got) != 2 || got[2] != 20 {
		t.Fatalf("rows = %v, want 2:20 added", got)
	}
}

func TestPipelinedTxRollsBackOnErrorAndPanic(t *testing.T) {
	env, ctx := pipeTable(t)
	boom := errors.New("boom")
	err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		if err := env.DB.Conn(ctx).Exec("INSERT INTO pipe_t (id, v) VALUES (1, 10)").Error; err != nil {
			return err
		}
		if err := env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 2, 20); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not propagate")
			}
		}()
		_ = env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
			if err := env.DB.Conn(ctx).Exec("INSERT INTO pipe_t (id, v) VALUES (3, 30)").Error; err != nil {
				return err
			}
			panic("in the middle")
		})
	}()
	if got := pipeRows(t, env); len(got) != 0 {
		t.Fatalf("rows = %v, want none", got)
	}
}

func TestPipelinedTxLocksLikeAnyTransaction(t *testing.T) {
	env, ctx := pipeTable(t)
	if err := env.DB.Conn(ctx).Exec("INSERT INTO pipe_t (id, v) VALUES (1, 0)").Error; err != nil {
		t.Fatal(err)
	}
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
				var v int64
				if err := env.DB.ForUpdate(env.DB.Conn(ctx).Table("pipe_t").Select("v").Where("id = ?", 1)).Scan(&v).Error; err != nil {
					return err
				}
				// The increment travels with the COMMIT, still under the lock.
				return env.DB.Later(ctx, nil, "UPDATE pipe_t SET v = ? WHERE id = ?", v+1, 1)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := pipeRows(t, env); got[1] != n {
		t.Fatalf("v = %d after %d locked increments", got[1], n)
	}
}

func TestPipelinedTxInsideATransactionJoinsIt(t *testing.T) {
	env, ctx := pipeTable(t)
	err := env.DB.InTx(ctx, func(ctx context.Context) error {
		if err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
			if repo.Pipelined(ctx) {
				t.Error("a pipelined transaction inside InTx must join it, not pipeline")
			}
			return env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 1, 10)
		}); err != nil {
			return err
		}
		return errors.New("roll back the outer one")
	})
	if err == nil {
		t.Fatal("want the outer error")
	}
	if got := pipeRows(t, env); len(got) != 0 {
		t.Fatalf("rows = %v: the inner write outlived the outer rollback", got)
	}
}

func TestPipelinedTxDeferredReadsGetTheirRowsWithTheNextStatementOrTheCommit(t *testing.T) {
	env, ctx := pipeTable(t)
	sum := func(dst *int64) func(*sql.Rows) error {
		return func(rows *sql.Rows) error {
			for rows.Next() {
				var v int64
				if err := rows.Scan(&v); err != nil {
					return err
				}
				*dst += v
			}
			return rows.Err()
		}
	}
	var first, second, atCommit, count int64
	type key struct{}
	err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		if err := env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?), (?, ?)", 1, 10, 2, 20); err != nil {
			return err
		}
		if err := env.DB.LaterRead(ctx, sum(&first), "SELECT v FROM pipe_t WHERE id IN (?, ?)", 1, 2); err != nil {
			return err
		}
		if err := env.DB.LaterRead(ctx, sum(&second), "SELECT v FROM pipe_t WHERE id = ?", 2); err != nil {
			return err
		}
		_, set := repo.Local(ctx, key{})
		set("kept")
		// The statement the reads travel with gets its own rows.
		if err := env.DB.Conn(ctx).Raw("SELECT COUNT(*) FROM pipe_t").Scan(&count).Error; err != nil {
			return err
		}
		if first != 30 || second != 20 {
			t.Errorf("deferred reads saw %d and %d, want 30 and 20", first, second)
		}
		if v, _ := repo.Local(ctx, key{}); env.DB.Dialect() == repo.MySQL && v != "kept" {
			t.Errorf("Local = %v", v)
		}
		if err := env.DB.Later(ctx, nil, "UPDATE pipe_t SET v = v + 1"); err != nil {
			return err
		}
		// Read at the COMMIT.
		return env.DB.LaterRead(ctx, sum(&atCommit), "SELECT v FROM pipe_t")
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != 2 || atCommit != 32 {
		t.Fatalf("count %d (want 2), read at commit %d (want 32)", count, atCommit)
	}
	if got := pipeRows(t, env); got[1] != 11 || got[2] != 21 {
		t.Fatalf("rows %v", got)
	}
}

func TestPipelinedTxFailedScanFailsTheTransactionUnlessItCameWithTheCommit(t *testing.T) {
	env, ctx := pipeTable(t)
	bad := errors.New("scan refused")
	refuse := func(*sql.Rows) error { return bad }
	err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		if err := env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 1, 10); err != nil {
			return err
		}
		if err := env.DB.LaterRead(ctx, refuse, "SELECT v FROM pipe_t"); err != nil {
			return err // SQLite: at once
		}
		return env.DB.Conn(ctx).Exec("UPDATE pipe_t SET v = 11").Error // MySQL: with this statement
	})
	if !errors.Is(err, bad) || errors.Is(err, repo.ErrScannedAfterCommit) {
		t.Fatalf("err = %v, want the scan's failure", err)
	}
	if got := pipeRows(t, env); len(got) != 0 {
		t.Fatalf("rows = %v, want none", got)
	}

	err = env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		if err := env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 2, 20); err != nil {
			return err
		}
		return env.DB.LaterRead(ctx, refuse, "SELECT v FROM pipe_t")
	})
	if env.DB.Dialect() != repo.MySQL {
		if !errors.Is(err, bad) {
			t.Fatalf("err = %v", err)
		}
		return
	}
	// MySQL: the read went with the COMMIT, which the server ran first.
	if !errors.Is(err, bad) || !errors.Is(err, repo.ErrScannedAfterCommit) {
		t.Fatalf("err = %v, want the scan's failure after the commit", err)
	}
	if got := pipeRows(t, env); len(got) != 1 || got[2] != 20 {
		t.Fatalf("rows = %v, want 2:20 (committed)", got)
	}
}

func TestDisabledPipeliningIsAnOrdinaryTransaction(t *testing.T) {
	env, ctx := pipeTable(t)
	env.DB.DisablePipelining()
	err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		if repo.Pipelined(ctx) {
			t.Error("pipelined after DisablePipelining")
		}
		return env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 1, 10)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := pipeRows(t, env); got[1] != 10 {
		t.Fatalf("rows %v", got)
	}
}

func TestPipelinedTxPanicInAScanRollsBackAndFreesTheConnection(t *testing.T) {
	env, ctx := pipeTable(t)
	env.DB.SetMaxOpenConns(1) // a connection left busy would hang the next transaction
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the scan's panic did not propagate")
			}
		}()
		_ = env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
			if err := env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 1, 10); err != nil {
				return err
			}
			if err := env.DB.LaterRead(ctx, func(*sql.Rows) error { panic("scan") }, "SELECT v FROM pipe_t"); err != nil {
				return err
			}
			var n int64
			return env.DB.Conn(ctx).Raw("SELECT COUNT(*) FROM pipe_t").Scan(&n).Error
		})
	}()
	if got := pipeRows(t, env); len(got) != 0 {
		t.Fatalf("rows = %v after the panic, want none", got)
	}
	if err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		return env.DB.Later(ctx, nil, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 2, 20)
	}); err != nil {
		t.Fatal(err)
	}
	if got := pipeRows(t, env); got[2] != 20 {
		t.Fatalf("rows = %v, want 2:20 from the next transaction", got)
	}
}

func TestPipelinedTxWriteAfterAReadKeepsItsWrap(t *testing.T) {
	env, ctx := pipeTable(t)
	if err := env.DB.Conn(ctx).Exec("INSERT INTO pipe_t (id, v) VALUES (7, 70)").Error; err != nil {
		t.Fatal(err)
	}
	var seen int64
	err := env.DB.InPipelinedTx(ctx, func(ctx context.Context) error {
		if err := env.DB.LaterRead(ctx, func(rows *sql.Rows) error {
			for rows.Next() {
				if err := rows.Scan(&seen); err != nil {
					return err
				}
			}
			return rows.Err()
		}, "SELECT v FROM pipe_t WHERE id = ?", 7); err != nil {
			return err
		}
		// A wrap that does not recognise the failure leaves it to the next.
		if err := env.DB.Later(ctx, func(err error) error { return err }, "UPDATE pipe_t SET v = 71 WHERE id = ?", 7); err != nil {
			return err
		}
		return env.DB.Later(ctx, takenWrap, "INSERT INTO pipe_t (id, v) VALUES (?, ?)", 7, 72)
	})
	if !errors.Is(err, errTaken) {
		t.Fatalf("err = %v, want the insert's wrapped duplicate", err)
	}
	if got := pipeRows(t, env); got[7] != 70 {
		t.Fatalf("rows = %v, want 7:70 (all rolled back)", got)
	}
}
