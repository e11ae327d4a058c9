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
//   - everything waiting goes in ONE multi-statement request (the driver's
//     multiStatements, on a pool of its own used for nothing else), and the
//     server runs it in order and stops at the first failure.
//
// So a transaction "read, write, read, write, write, commit" is three round
// trips instead of seven. A failure of a waiting statement is reported by
// the statement it travelled with (wrapped by Later's wrap when given) and
// fails the transaction as it would have at once; nothing after a failed
// statement runs, and the transaction rolls back. SQLite (in process, no
// round trips) and a context already in a transaction run as InTx.

// pipe is the gorm connection pool of one pipelined transaction: one
// connection with the statements waiting to be sent.
type pipe struct {
	conn  *sql.Conn
	buf   strings.Builder
	args  []any
	wraps []func(error) error
	sent  bool // something reached the server: the transaction may be open
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
// pipe; wrap maps a failure of that request.
func (p *pipe) take(q string, args []any) (string, []any, func(error) error) {
	p.push(q, args, nil)
	full, all, wraps := p.buf.String(), p.args, p.wraps
	p.buf.Reset()
	p.args, p.wraps = nil, nil
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
	return full, all, wrap
}

func (p *pipe) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	full, all, wrap := p.take(q, args)
	res, err := p.conn.ExecContext(ctx, full, all...)
	return res, wrap(err)
}

// QueryContext sends what waits with q: the rows are q's (the driver skips
// the results of statements that return no rows).
func (p *pipe) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	full, all, wrap := p.take(q, args)
	rows, err := p.conn.QueryContext(ctx, full, all...)
	return rows, wrap(err)
}

// QueryRowContext sends what waits with q. A *sql.Row cannot carry a
// mapped error: a failure of a waiting statement reaches Scan unwrapped.
func (p *pipe) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	full, all, _ := p.take(q, args)
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
	if p.buf.Len() == 0 {
		return nil
	}
	full, all, wrap := p.take("DO 0", nil)
	_, err := p.conn.ExecContext(ctx, full, all...)
	return wrap(err)
}

// end commits (err == nil) or rolls back and gives the connection back;
// a connection whose rollback failed is discarded, never reused.
func (p *pipe) end(ctx context.Context, err error) error {
	if err == nil {
		if _, err = p.ExecContext(ctx, "COMMIT"); err == nil {
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
// travels with it (its failure is that statement's, passed through wrap);
// anywhere else it runs now and its failure, through wrap, is returned.
// Only for statements whose result nobody reads.
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

// InPipelinedTx runs fn in one pipelined transaction (see above) carried by
// the context, retried on a deadlock or lock wait timeout like InTx; on
// SQLite, or inside a transaction already, it is InTx.
func (d *DB) InPipelinedTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if d.pipes == nil || InTransaction(ctx) {
		return d.InTx(ctx, fn)
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = d.pipelined(ctx, fn); !isRetryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

func (d *DB) pipelined(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	conn, err := d.pipes.Conn(ctx)
	if err != nil {
		return fmt.Errorf("pipelined transaction: %w", err)
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
	return p.end(ctx, err)
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
