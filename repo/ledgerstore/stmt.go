package ledgerstore

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jifen/jifen/repo"
)

// stmts runs the statements every operation issues through database/sql
// statements prepared once per connection. Through gorm each statement with
// arguments is prepared, executed and closed: two round trips instead of
// one, and a hot account's row lock is held across all of them.
//
// A statement is prepared on the pool in the background the first time it
// is wanted, and until then it runs unprepared on the connection gorm holds: preparing on the pool needs a free
// connection, and waiting for one while every connection is in a
// transaction that wants the statement would deadlock.
type stmts struct {
	mu      sync.Mutex
	byQ     map[string]*sql.Stmt
	pending map[string]bool
}

// prepared returns the statement for query, bound to the transaction in ctx
// when there is one; ok is false when the caller should use the connection directly.
func (s *Store) prepared(ctx context.Context, query string) (st *sql.Stmt, ok bool) {
	g := s.DB.Conn(ctx)
	tx, inTx := g.Statement.ConnPool.(*sql.Tx)
	if _, plain := g.Statement.ConnPool.(*sql.DB); !inTx && !plain {
		return nil, false
	}
	s.stmts.mu.Lock()
	base := s.stmts.byQ[query]
	if base == nil && !s.stmts.pending[query] {
		if s.stmts.pending == nil {
			s.stmts.pending, s.stmts.byQ = map[string]bool{}, map[string]*sql.Stmt{}
		}
		s.stmts.pending[query] = true // stays set on failure: run unprepared
		go s.prepare(query)
	}
	s.stmts.mu.Unlock()
	if base == nil {
		return nil, false
	}
	if inTx {
		return tx.StmtContext(ctx, base), true
	}
	return base, true
}

func (s *Store) prepare(query string) {
	pool, err := s.DB.Conn(context.Background()).DB()
	if err != nil {
		return
	}
	st, err := pool.PrepareContext(context.Background(), query)
	if err != nil {
		return
	}
	s.stmts.mu.Lock()
	s.stmts.byQ[query] = st
	s.stmts.mu.Unlock()
}

// exec runs a statement; see prepared. Like every gorm call (repo's
// outage callbacks), a database that cannot be reached is Unavailable.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := s.prepared(ctx, query)
	if !ok {
		res, err := s.DB.Conn(ctx).Statement.ConnPool.ExecContext(ctx, query, args...)
		return res, repo.SQLOutage(err)
	}
	res, err := st.ExecContext(ctx, args...)
	return res, repo.SQLOutage(err)
}

// query runs a query; see prepared and exec.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, ok := s.prepared(ctx, query)
	if !ok {
		rows, err := s.DB.Conn(ctx).Statement.ConnPool.QueryContext(ctx, query, args...)
		return rows, repo.SQLOutage(err)
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, repo.SQLOutage(err)
}
