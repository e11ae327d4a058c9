package repo

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// # Pipelined transactions
//
// A group commit (package domain/group) is bound by its round trips: on
// these machines a statement costs about as much in waiting for the server
// as in the server's work. InPipelinedTx runs a transaction on MySQL whose
// statements travel together where nothing waits for their answers:
//
//   - START TRANSACTION is not sent on its own: it goes with the first
//     statement of the transaction;
//   - a statement given to Later (a write whose result nobody reads, e.g. a
//     multi-row INSERT of day rows or the ledger's account updates) waits
//     and goes with the next statement, or with the COMMIT;
//   - a read given to LaterRead (e.g. a group's locking read of ledger
//     accounts) waits too, runs on the server before the statement it
//     travels with, and hands its rows to its scan when the answer comes;
//   - everything waiting goes in ONE multi-statement request (the driver's
//     multiStatements, on a pool of its own used for nothing else, at most
//     pipeConns connections), and the server runs it in order and stops at
//     the first failure.
//
// So a transaction "read, write, read, write, write, commit" is three round
// trips instead of seven. A failure of a waiting statement is reported by
// the statement it travelled with (mapped by the first Later wrap that
// recognises it), is sticky (nothing more is sent) and rolls the
// transaction back; a connection whose ROLLBACK failed is discarded. A read
// that travels with the COMMIT is scanned after the server committed
// (ErrScannedAfterCommit). SQLite (in process, no round trips), a context
// already in a transaction, and a DB after DisablePipelining run as InTx.

// pipe is the gorm connection pool of one pipelined transaction: one
// connection with the statements waiting to be sent.
type pipe struct {
	conn  *sql.Conn
	buf   strings.Builder
	args  []any
	wraps []func(error) error
	reads []func(*sql.Rows) error // of the waiting reads, in order
	sent  bool                    // something reached the server: the transaction may be open
	err   error                   // a request failed: nothing more is sent, the transaction rolls back
	local map[any]any             // Local's values
}

var _ gorm.ConnPool = (*pipe)(nil)

func (p *pipe) push(q string, args []any, wrap func(error) error) {
	if p.buf.Len() > 0 {
		p.buf.WriteString(";\n")
	}
	p.buf.WriteString(q)
	p.args = append(p.args, args...)
	if wrap != nil {
		p.wraps = append(p.wraps, wrap)
	}
}

// take returns q with everything waiting in front of it and empties the
// pipe; wrap maps a failure of that request, reads are the waiting reads'
// scans.
func (p *pipe) take(q string, args []any) (string, []any, func(error) error, []func(*sql.Rows) error) {
	p.push(q, args, nil)
	full, all, wraps, reads := p.buf.String(), p.args, p.wraps, p.reads
	p.buf.Reset()
	p.args, p.wraps, p.reads = nil, nil, nil
	p.sent = true
	wrap := func(err error) error {
		if err == nil {
			return nil
		}
		for _, w := range wraps {
			if mapped := w(err); mapped != err {
				return mapped
			}
		}
		return err
	}
	return full, all, wrap, reads
}

// ExecContext sends what waits with q and returns q's result. Waiting
// reads need a request of their own first (an exec reports no rows).
func (p *pipe) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if p.err != nil {
		return nil, p.err
	}
	if len(p.reads) > 0 {
		if err := p.flush(ctx); err != nil {
			return nil, err
		}
	}
	full, all, wrap, _ := p.take(q, args)
	res, err := p.conn.ExecContext(ctx, full, all...)
	return res, p.fail(wrap(err))
}

// fail records the first failure of a request.
func (p *pipe) fail(err error) error {
	if err != nil && p.err == nil {
		p.err = err
	}
	return err
}

// QueryContext sends what waits with q: the waiting reads get their result
// sets (in order) and the rows returned are q's (the driver skips the
// results of statements that return no rows).
func (p *pipe) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	rows, scanErr, _, err := p.send(ctx, q, args, true)
	if err == nil && scanErr != nil {
		_ = rows.Close()
		err = p.fail(scanErr)
	}
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// send sends what waits with q, gives the waiting reads their result sets
// and leaves the rows at q's (qRows), or after the last read's (q returns
// no rows). A failed scan does not stop it (the requests after it have run
// on the server all the same): it is returned apart. wrap maps a failure
// of the statements still to be read. A scan that panics has the rows
// closed first (the connection must not be left with unread results).
func (p *pipe) send(ctx context.Context, q string, args []any, qRows bool) (rows *sql.Rows, scanErr error, wrap func(error) error, err error) {
	if p.err != nil {
		return nil, nil, nil, p.err
	}
	full, all, wrap, reads := p.take(q, args)
	if rows, err = p.conn.QueryContext(ctx, full, all...); err != nil {
		return nil, nil, nil, p.fail(wrap(err))
	}
	defer func() {
		if r := recover(); r != nil {
			_ = rows.Close()
			p.fail(fmt.Errorf("pipelined transaction: a scan panicked: %v", r))
			panic(r)
		}
	}()
	for i, read := range reads {
		if err := read(rows); err != nil && scanErr == nil {
			scanErr = err
		}
		if i == len(reads)-1 && !qRows {
			break
		}
		if !rows.NextResultSet() {
			err := rows.Err()
			_ = rows.Close()
			if err == nil {
				err = errors.New("pipelined transaction: a result set is missing")
			}
			return nil, nil, nil, p.fail(wrap(err))
		}
	}
	return rows, scanErr, wrap, nil
}

// QueryRowContext sends what waits with q. A *sql.Row cannot carry a
// mapped error: a failure of a waiting write reaches Scan unwrapped, and a
// failure of sending waiting reads first, or of an earlier request, is
// only recorded — the row is read anyway and the transaction then fails
// at its end and rolls back. (Nothing in a group uses it.)
func (p *pipe) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if len(p.reads) > 0 {
		_ = p.flush(ctx)
	}
	full, all, _, _ := p.take(q, args)
	return p.conn.QueryRowContext(ctx, full, all...)
}

func (p *pipe) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	return p.conn.PrepareContext(ctx, q)
}

// flush sends whatever waits.
func (p *pipe) flush(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	return p.finish(ctx, "DO 0")
}

// finish sends whatever waits followed by last, reading the waiting reads'
// result sets and the failure of any statement.
func (p *pipe) finish(ctx context.Context, last string) error {
	if len(p.reads) == 0 {
		if p.buf.Len() == 0 && last == "DO 0" {
			return nil
		}
		_, err := p.ExecContext(ctx, last)
		return err
	}
	rows, scanErr, wrap, err := p.send(ctx, last, nil, false)
	if err != nil {
		return err
	}
	for rows.NextResultSet() {
	}
	err = rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return p.fail(wrap(err))
	}
	if scanErr != nil && last == "COMMIT" {
		return fmt.Errorf("%w: %w", ErrScannedAfterCommit, scanErr)
	}
	return p.fail(scanErr)
}

// ErrScannedAfterCommit wraps the failure of a read's scan when the read
// travelled with the COMMIT: the server had committed the transaction
// before the scan ran, and its writes stand.
var ErrScannedAfterCommit = errors.New("pipelined transaction committed; a read travelling with the COMMIT failed")

// end commits (err == nil) or rolls back and gives the connection back;
// a connection whose rollback failed is discarded, never reused.
func (p *pipe) end(ctx context.Context, err error) error {
	if err == nil && p.err != nil {
		err = p.err // a failure the caller did not see (QueryRowContext)
	}
	if err == nil {
		if err = p.finish(ctx, "COMMIT"); err == nil {
			return p.conn.Close()
		}
	}
	if p.sent {
		if _, rerr := p.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			_ = p.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	_ = p.conn.Close()
	return err
}

// Later runs the write q in the transaction in ctx when convenient: in a
// pipelined transaction it waits for the next statement or the COMMIT and
// travels with it (its failure is that statement's); anywhere else it runs
// now and its failure is returned. wrap (may be nil) maps a failure it
// recognises as this statement's — a duplicate of its own unique key, say
// (DuplicateOf) — and returns any other error unchanged: in a request of
// several statements the first wrap that maps the failure names it. Only
// for statements whose result nobody reads.
func (d *DB) Later(ctx context.Context, wrap func(error) error, q string, args ...any) error {
	if p := pipeOf(ctx); p != nil {
		p.push(q, args, wrap)
		return nil
	}
	if _, err := d.Conn(ctx).Statement.ConnPool.ExecContext(ctx, q, args...); err != nil {
		if wrap != nil {
			return wrap(err)
		}
		return err
	}
	return nil
}

// LaterRead runs the read q in the transaction in ctx when convenient: in
// a pipelined transaction it waits and travels with the next statement or
// the COMMIT, scan getting its result set then (scan reads the rows; it
// must not close them); anywhere else it runs now. A failure of the read or
// of scan is the failure of the statement it travelled with, except that a
// read travelling with the COMMIT is scanned after the server committed:
// its scan's failure is then ErrScannedAfterCommit and the writes stand
// (such a read is for learning what was written, e.g. generated ids).
func (d *DB) LaterRead(ctx context.Context, scan func(*sql.Rows) error, q string, args ...any) error {
	if p := pipeOf(ctx); p != nil {
		p.push(q, args, nil)
		p.reads = append(p.reads, scan)
		return nil
	}
	rows, err := d.Conn(ctx).Statement.ConnPool.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := scan(rows); err != nil {
		return err
	}
	return rows.Close()
}

// Local returns the value kept under key for the pipelined transaction in
// ctx (nil when none, or outside one), and set keeps one: a place for what
// a deferred read found until its reader asks.
func Local(ctx context.Context, key any) (v any, set func(any)) {
	p := pipeOf(ctx)
	if p == nil {
		return nil, func(any) {}
	}
	return p.local[key], func(v any) {
		if p.local == nil {
			p.local = map[any]any{}
		}
		p.local[key] = v
	}
}

func pipeOf(ctx context.Context) *pipe {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		if p, ok := tx.Statement.ConnPool.(*pipe); ok {
			return p
		}
	}
	return nil
}

// Pipelined reports whether ctx carries a pipelined transaction.
func Pipelined(ctx context.Context) bool { return pipeOf(ctx) != nil }

// InGroupTx implements domain.UnitOfWork for a group committed together:
// a pipelined transaction (InPipelinedTx).
func (d *DB) InGroupTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return d.InPipelinedTx(ctx, fn)
}

// InPipelinedTx runs fn in one pipelined transaction (see above) carried by
// the context, retried on a deadlock or lock wait timeout like InTx; on
// SQLite, or inside a transaction already, it is InTx.
func (d *DB) InPipelinedTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if d.pipes == nil || InTransaction(ctx) {
		return d.InTx(ctx, fn)
	}
	ctx, done := d.touching(ctx)
	defer done()
	return retryTx(func() (bool, error) { return d.pipelined(ctx, fn) })
}

// pipelined runs one attempt; committing reports that fn succeeded and the
// failure, if any, came with the COMMIT.
func (d *DB) pipelined(ctx context.Context, fn func(ctx context.Context) error) (committing bool, err error) {
	conn, err := d.pipes.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("pipelined transaction: %w", err)
	}
	p := &pipe{conn: conn}
	p.push("START TRANSACTION", nil, nil)
	tx := d.gorm.Session(&gorm.Session{NewDB: true, Context: ctx})
	tx.Statement.ConnPool = p
	panicked := true
	defer func() {
		if panicked {
			_ = p.end(ctx, errors.New("panic"))
		}
	}()
	err = fn(context.WithValue(ctx, txKey{}, tx))
	panicked = false
	return err == nil, p.end(ctx, err)
}

// DisablePipelining makes InPipelinedTx an ordinary InTx (for a server or
// proxy that refuses multi-statement requests) and closes the pool.
func (d *DB) DisablePipelining() {
	if d.pipes != nil {
		_ = d.pipes.Close()
		d.pipes = nil
	}
}

// openPipes opens the pool pipelined transactions use: the same DSN with
// multi-statement requests allowed, which nothing else gets.
func openPipes(dsn string) (*sql.DB, error) {
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MultiStatements = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("open mysql: %w", err)
	}
	db.SetMaxOpenConns(pipeConns)
	db.SetMaxIdleConns(pipeConns)
	db.SetConnMaxLifetime(30 * time.Minute)
	return db, nil
}

// pipeConns bounds the pipelined pool: one connection per group committer
// at most (the services' committers add up to about ten).
const pipeConns = 16

// Flush sends what waits in the pipelined transaction in ctx (the reads
// get their rows); elsewhere it does nothing.
func (d *DB) Flush(ctx context.Context) error {
	if p := pipeOf(ctx); p != nil {
		return p.flush(ctx)
	}
	return nil
}
