// Package repo implements the domain's storage interfaces: MySQL/MariaDB and
// SQLite through gorm, Redis through go-redis. MySQL (or the embedded SQLite
// file) is the only source of truth; everything kept in Redis can be rebuilt
// from it.
//
// A unit of work puts its transaction in the context (DB.InTx); every
// repository method reads its connection with DB.Conn(ctx) and so joins a
// transaction opened by any other service without knowing about it.
package repo

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/glebarez/sqlite"
	mysqldrv "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL backend.
type Dialect string

// The supported dialects.
const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// DB is the relational store: one gorm handle plus the unit-of-work helpers.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	pipes   *sql.DB // pipelined transactions (MySQL only; see pipe.go)
	dialect Dialect

	autoinc     sync.Once // ConsecutiveIDs asks once
	consecutive bool

	features    sync.Once // ReadsLatest and JSONTable ask once
	readsLatest bool
	jsonTable   bool
	portable    bool // see Portable

	onTouch func(ctx context.Context, memberIDs []int64) // see touch.go

	clock *clockRef // see UseClock
}

// clockRef is where the rows' timestamps come from: the ones gorm fills
// in (created_at, updated_at) and the ones the stores write themselves.
// It is the wall clock until UseClock.
type clockRef struct{ c atomic.Pointer[clockOf] }

type clockOf struct{ now func() time.Time }

func (r *clockRef) now() time.Time {
	if c := r.c.Load(); c != nil {
		return c.now().UTC()
	}
	return time.Now().UTC()
}

// UseClock makes now the source of every timestamp the database writes
// without being given one (gorm's created_at and updated_at, and Now for
// the stores): the service's clock, which clock.offset and /_sim/clock
// move, so that a row's updated_at is never the wall clock while its
// created_at, set by the domain, is the service's.
func (d *DB) UseClock(now func() time.Time) {
	d.clock.c.Store(&clockOf{now: now})
}

// Now is the time a store stamps a row with (updated_at) when the domain
// gave it none: the clock of UseClock, in UTC.
func (d *DB) Now() time.Time { return d.clock.now() }

type txKey struct{}

// gormConfig returns a fresh config per database: gorm.Open stores the
// connection pool in the config, so sharing one would share the pool.
func gormConfig(clock *clockRef) *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Default.LogMode(logger.Silent),
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                clock.now,
	}
}

// OpenSQLite opens (creating if needed) the SQLite file at path in WAL mode.
// Every transaction is BEGIN IMMEDIATE: SQLite cannot upgrade a deferred
// reader to a writer under contention, and the immediate lock is what
// serialises per-account writes on this backend (FOR UPDATE is ignored).
func OpenSQLite(path string) (*DB, error) {
	dsn := path + "?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	clock := &clockRef{}
	g, err := gorm.Open(sqlite.Open(dsn), gormConfig(clock))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := outageCallbacks(g); err != nil {
		return nil, err
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(8)
	sqlDB.SetMaxIdleConns(8)
	return &DB{gorm: g, sql: sqlDB, dialect: SQLite, clock: clock}, nil
}

// MySQLDSN normalises a go-sql-driver DSN: times parsed into UTC, utf8mb4,
// arguments interpolated.
func MySQLDSN(dsn string) (string, error) {
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("mysql.dsn (JIFEN_MYSQL_DSN) is not a DSN such as user:pw@tcp(host:3306)/jifen (go-sql-driver syntax, not a URL): %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if _, ok := cfg.Params["charset"]; !ok {
		cfg.Params["charset"] = "utf8mb4"
	}
	cfg.Params["time_zone"] = "'+00:00'"
	// Arguments interpolated client-side: one round trip per statement
	// instead of prepare + execute + close (safe with utf8mb4; the driver
	// refuses for charsets where it is not).
	cfg.InterpolateParams = true
	return cfg.FormatDSN(), nil
}

// OpenMySQL opens a MySQL/MariaDB database. Sessions run at READ
// COMMITTED: every invariant Jifen keeps rests on row locks (SELECT … FOR
// UPDATE on the account) and conditional updates, never on gap locks, and
// under REPEATABLE READ a locking read of a row that does not exist yet (a
// new member's account) gap-locks its neighbours, so concurrent first
// writes of different members deadlock each other.
func OpenMySQL(dsn string) (*DB, error) {
	return OpenMySQLContext(context.Background(), dsn)
}

// MySQLOpenTimeout bounds OpenMySQLContext's first exchange with the
// server: a DSN naming a port where nothing answers the MySQL handshake
// (another service's, a server that hangs) fails after it, naming the
// address, instead of waiting for ever. (A variable for the tests.)
var MySQLOpenTimeout = 10 * time.Second

// OpenMySQLContext is OpenMySQL ending when ctx does (a SIGINT while the
// server does not answer) and at most MySQLOpenTimeout after its start.
func OpenMySQLContext(ctx context.Context, dsn string) (*DB, error) {
	norm, err := MySQLDSN(dsn)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, MySQLOpenTimeout)
	defer cancel()
	if norm, err = withReadCommitted(ctx, norm); err != nil {
		return nil, err
	}
	clock := &clockRef{}
	g, err := gorm.Open(mysql.Open(norm), gormConfig(clock))
	if err != nil {
		return nil, fmt.Errorf("open mysql: %w", err)
	}
	if err := outageCallbacks(g); err != nil {
		return nil, err
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(64)
	sqlDB.SetMaxIdleConns(64)
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	pipes, err := openPipes(norm)
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	d := &DB{gorm: g, sql: sqlDB, pipes: pipes, dialect: MySQL, clock: clock}
	d.probe() // now, not first inside a transaction that holds locks
	return d, nil
}

// withReadCommitted adds the session isolation to the DSN under the name
// the server knows: MySQL 8 and MariaDB ≥ 11.1 call it transaction_isolation,
// older MariaDB tx_isolation. A DSN that sets either is left alone.
//
// It first pings the server within ctx, so a server that does not answer
// fails here, with its address, rather than in gorm's ping (no deadline).
func withReadCommitted(ctx context.Context, dsn string) (string, error) {
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return "", err
	}
	probe, err := sql.Open("mysql", dsn)
	if err != nil {
		return "", fmt.Errorf("open mysql: %w", err)
	}
	defer probe.Close()
	if err := probe.PingContext(ctx); err != nil {
		return "", openError(ctx, cfg.Addr, err)
	}
	if _, ok := cfg.Params["transaction_isolation"]; ok {
		return dsn, nil
	}
	if _, ok := cfg.Params["tx_isolation"]; ok {
		return dsn, nil
	}
	name := "transaction_isolation"
	var v sql.NullString
	if err := probe.QueryRowContext(ctx, "SELECT @@transaction_isolation").Scan(&v); err != nil {
		name = "tx_isolation"
		if err := probe.QueryRowContext(ctx, "SELECT @@tx_isolation").Scan(&v); err != nil {
			return "", fmt.Errorf("open mysql: %w", err)
		}
	}
	cfg.Params[name] = "'READ-COMMITTED'"
	return cfg.FormatDSN(), nil
}

// openError is the first exchange's failure with what to check: the
// driver's words alone ("connection refused", "Unknown database") name
// neither the setting nor the fix.
func openError(ctx context.Context, addr string, err error) error {
	var me *mysqldrv.MySQLError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("open mysql: no MySQL/MariaDB answered at %s within %s: check the host and port of mysql.dsn (JIFEN_MYSQL_DSN) and that the server is up", addr, MySQLOpenTimeout)
	case errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysqldrv.ErrInvalidConn):
		return fmt.Errorf("open mysql: %w: the server at %s hung up before the MySQL handshake ended; check that the host and port of mysql.dsn (JIFEN_MYSQL_DSN) are a MySQL/MariaDB server's, and tls= in it if the server requires TLS", err, addr)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("open mysql: %w: nothing listens at %s; check the host and port of mysql.dsn (JIFEN_MYSQL_DSN) and that the server is up", err, addr)
	case errors.As(err, &me) && me.Number == 1049:
		return fmt.Errorf("open mysql: %w: create it (CREATE DATABASE … CHARACTER SET utf8mb4; Jifen wants one of its own), or fix the database name in mysql.dsn (JIFEN_MYSQL_DSN)", err)
	case errors.As(err, &me) && (me.Number == 1044 || me.Number == 1045 || me.Number == 1698):
		return fmt.Errorf("open mysql: %w: check the user and password in mysql.dsn (JIFEN_MYSQL_DSN) and the user's grants on the database", err)
	}
	return fmt.Errorf("open mysql: %w", err)
}

// SetMaxOpenConns bounds the pool (tests run many databases side by side on
// one server and must stay under its max_connections).
func (d *DB) SetMaxOpenConns(n int) {
	d.sql.SetMaxOpenConns(n)
	d.sql.SetMaxIdleConns(n)
	if d.pipes != nil {
		d.pipes.SetMaxOpenConns(min(n, pipeConns))
		d.pipes.SetMaxIdleConns(min(n, pipeConns))
	}
}

// Dialect reports the backend.
func (d *DB) Dialect() Dialect { return d.dialect }

// Pool is the connection pool, for its statistics (the metrics).
func (d *DB) Pool() *sql.DB { return d.sql }

// Close closes the pool.
func (d *DB) Close() error {
	if d.pipes != nil {
		_ = d.pipes.Close()
	}
	return d.sql.Close()
}

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.sql.PingContext(ctx) }

// Conn returns the transaction carried by ctx, or the pool.
func (d *DB) Conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return d.gorm.WithContext(ctx)
}

// InTx runs fn in one transaction carried by the context. Nested calls join
// the outer transaction. The outermost call retries fn a few times when
// MySQL reports a deadlock or lock wait timeout, so fn must be safe to run
// again (it is: everything it did was rolled back). A connection that
// broke before COMMIT (a pooled one gone stale while the server restarted)
// rolled fn back with it: fn runs once more, on a fresh connection. Any
// other outage — the second break, or one at COMMIT, when nobody knows
// whether the transaction landed — is returned as Unavailable.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	ctx, done := d.touching(ctx)
	defer done()
	return retryTx(func() (bool, error) {
		committing := false
		err := d.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			err := fn(context.WithValue(ctx, txKey{}, tx))
			committing = err == nil
			return err
		})
		return committing, err
	})
}

// retryTx runs one transaction attempt until it succeeds or fails for
// good: deadlocks and SQLite's busy are retried a few times after a
// growing, jittered pause (so the transactions that collided do not
// collide again in step); a connection lost before COMMIT once.
func retryTx(attempt func() (committing bool, err error)) error {
	var err error
	reconnected := false
	for i := 0; i < 5; i++ {
		var committing bool
		committing, err = attempt()
		if err == nil {
			return nil
		}
		if sqlDown(err) {
			if committing || reconnected {
				return SQLOutage(err)
			}
			reconnected = true
			continue
		}
		if !isRetryable(err) {
			return err
		}
		time.Sleep(retryPause(i))
	}
	return SQLOutage(err)
}

// retryPause is the wait before retry i+1 of a deadlocked transaction:
// (i+1)×5 ms, plus up to as much again at random.
func retryPause(i int) time.Duration {
	base := time.Duration(i+1) * 5 * time.Millisecond
	return base + rand.N(base)
}

// InTransaction reports whether ctx carries a transaction.
func InTransaction(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// ForUpdate adds SELECT … FOR UPDATE on MySQL. On SQLite the immediate
// transaction already holds the write lock, so nothing is added.
func (d *DB) ForUpdate(q *gorm.DB) *gorm.DB {
	if d.dialect == MySQL {
		return q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q
}

// isRetryable reports errors after which the whole unit of work can simply
// run again: a MySQL deadlock or lock wait timeout, or SQLite still busy
// after its busy timeout (seen under heavy parallel load when a new pool
// connection opens while another holds the write lock).
func isRetryable(err error) bool {
	if err == nil {
		return false
	}
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

// IsDuplicate reports a unique-key violation on either backend.
func IsDuplicate(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// DuplicateOf reports a unique-key violation of the index named key (MySQL
// and MariaDB name it in the message, as 'key' or 'table.key'; on SQLite
// any violation counts, the message naming columns instead).
func DuplicateOf(err error, key string) bool {
	if !IsDuplicate(err) {
		return false
	}
	var me *mysqldrv.MySQLError
	if !errors.As(err, &me) {
		return true
	}
	return strings.Contains(me.Message, "'"+key+"'") || strings.Contains(me.Message, "."+key+"'")
}

// ConsecutiveIDs reports whether one multi-row INSERT gets consecutive
// auto-increment ids, the first one reported (LAST_INSERT_ID()): MySQL or
// MariaDB with innodb_autoinc_lock_mode 0 or 1 (1 is MariaDB's default;
// 2, "interleaved", gives no such promise) and auto_increment_increment 1
// (a Galera or multi-primary setup steps by more). Asked once, on the pool
// (never inside a transaction, whose waiting statements could fail it);
// SQLite and any doubt answer false: ids are then read back by key.
func (d *DB) ConsecutiveIDs() bool {
	if d.dialect != MySQL {
		return false
	}
	d.autoinc.Do(func() {
		var mode, step int
		if err := d.sql.QueryRow("SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment").Scan(&mode, &step); err == nil {
			d.consecutive = (mode == 0 || mode == 1) && step == 1
		}
	})
	return d.consecutive
}

// ReadsLatest reports whether a plain (non-locking) read in a transaction
// sees the rows committed before the statement began (READ COMMITTED,
// which OpenMySQL sets unless the DSN chose another level): behind a
// lock that every writer of those rows takes, it reads what a locking
// read would, without locking them. MySQL only; asked once, on the pool.
func (d *DB) ReadsLatest() bool {
	d.probe()
	return d.readsLatest
}

// JSONTable reports whether the server has JSON_TABLE (MySQL 8, MariaDB
// 10.6): a list of tuples sent as one JSON argument joins like a table.
// MySQL only; asked once, on the pool.
func (d *DB) JSONTable() bool {
	d.probe()
	return d.jsonTable
}

func (d *DB) probe() {
	d.features.Do(func() {
		if d.dialect != MySQL {
			return
		}
		var iso sql.NullString
		if err := d.sql.QueryRow("SELECT @@transaction_isolation").Scan(&iso); err != nil {
			_ = d.sql.QueryRow("SELECT @@tx_isolation").Scan(&iso)
		}
		d.readsLatest = iso.String == "READ-COMMITTED"
		var n int
		err := d.sql.QueryRow(`SELECT COUNT(*) FROM JSON_TABLE('[[1, "2026-01-01 00:00:00.000", 2]]', '$[*]'
			COLUMNS (m BIGINT PATH '$[0]', e DATETIME(3) PATH '$[1]', h BIGINT PATH '$[2]')) AS t`).Scan(&n)
		d.jsonTable = err == nil && n == 1
	})
}

// Portable restricts the store to SQL that every MySQL-compatible server
// takes, TiDB among them: no multi-statement pipelines (TiDB refuses
// CLIENT_MULTI_STATEMENTS by default), no JSON_TABLE (TiDB has none), ids
// of a multi-row INSERT read back by key (Galera and TiDB allocate ids in
// steps or batches), and a locking read wherever a plain read would lean on
// READ COMMITTED semantics. Every store then takes its fallback path. Call
// it right after opening, before the first use.
func (d *DB) Portable() {
	d.DisablePipelining()
	d.autoinc.Do(func() {})
	d.features.Do(func() {})
	d.consecutive, d.readsLatest, d.jsonTable = false, false, false
	d.portable = true
}

// IsPortable reports whether Portable was called: ids need not grow in
// commit order (TiDB's servers each allocate from a range of their own),
// even for rows written under one lock.
func (d *DB) IsPortable() bool { return d.portable }

// IsNotFound reports gorm's record-not-found.
func IsNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

// InTransaction reports whether ctx carries a transaction (for domain
// services that decide by it, through an interface).
func (d *DB) InTransaction(ctx context.Context) bool { return InTransaction(ctx) }
