// Package testenv gives each test its own isolated stores: a fresh SQLite
// file and an in-process miniredis by default; a fresh MariaDB database and
// a key prefix on a real Redis when JIFEN_TEST_MYSQL_DSN and
// JIFEN_TEST_REDIS_ADDR are set (as .ci/run does). Tests using it can run
// in parallel.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/alicebob/miniredis/v2"
	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/schema"
)

// Env is one test's stores.
type Env struct {
	DB    *repo.DB
	Redis *repo.Redis
	// Backend is "sqlite+miniredis" or "mysql+redis", for test names and logs.
	Backend string
	// Mini is the in-process Redis when Backend uses miniredis (nil otherwise).
	Mini *miniredis.Miniredis
	// DSN reopens the same database from another process: the SQLite file's
	// path, or the MySQL DSN of the test's database.
	DSN string
	// SQLProxy and RedisProxy stand between the stores and the servers
	// when the test asked for WithProxies (SQLProxy: MySQL only, SQLite
	// has no connection to cut), so it can cut or stall them.
	SQLProxy   *Proxy
	RedisProxy *Proxy
	// RedisMerges is the Redis client's pipeline merger, as the
	// service's (repo.Coalescer).
	RedisMerges *repo.Coalescer

	opts      options
	redisAddr string // the Redis server (miniredis or real), not the proxy
	sqlDirect string // MySQL: the test database's DSN, not through SQLProxy
}

// Option changes how New builds the stores.
type Option func(*options)

type options struct {
	proxies bool
	charset string
}

// WithCharset creates the MySQL database with this default character set
// (e.g. latin1, as an old server's default) instead of utf8mb4.
func WithCharset(cs string) Option { return func(o *options) { o.charset = cs } }

// WithProxies puts a Proxy between the stores and MySQL and Redis (the
// real ones or miniredis), and opens Redis as serve does
// (repo.NewRedisClient: tight deadlines, no retries, circuit breaker), so
// a test can take either away and watch the service cope.
func WithProxies() Option { return func(o *options) { o.proxies = true } }

// MySQLDSN and RedisAddr name the real services, empty when not set.
func MySQLDSN() string  { return os.Getenv("JIFEN_TEST_MYSQL_DSN") }
func RedisAddr() string { return os.Getenv("JIFEN_TEST_REDIS_ADDR") }

// New returns migrated, empty stores, closed and removed at test cleanup.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	env := &Env{opts: o}
	sqlName := "sqlite"
	if dsn := MySQLDSN(); dsn != "" {
		env.DB, env.DSN, env.sqlDirect, env.SQLProxy = newMySQL(t, dsn, o)
		sqlName = "mysql"
	} else {
		// Not t.TempDir: its cleanup fails the test when SQLite is still
		// removing its -wal/-shm files from a connection closing in the
		// background; removal here is best effort.
		dir, err := os.MkdirTemp("", "jifen-test-")
		if err != nil {
			t.Fatal(err)
		}
		env.DSN = filepath.Join(dir, "jifen.db")
		db, err := repo.OpenSQLite(env.DSN)
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() {
			db.Close()
			_ = os.RemoveAll(dir)
		})
		env.DB = db
	}
	if _, err := env.DB.Migrate(context.Background(), schema.All()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	addr, prefix := RedisAddr(), ""
	if addr != "" {
		prefix = "jifentest:" + randomName() + ":"
		env.Backend = sqlName + "+redis"
	} else {
		env.Mini = miniredis.RunT(t)
		addr = env.Mini.Addr()
		env.Backend = sqlName + "+miniredis"
	}
	env.redisAddr = addr
	env.openRedis(t, prefix)
	t.Cleanup(func() {
		if prefix != "" {
			// Directly, not through a proxy the test may have left cut.
			direct := redis.NewClient(&redis.Options{Addr: RedisAddr()})
			_ = (&repo.Redis{C: direct, Prefix: prefix}).DeleteAll(context.Background())
			direct.Close()
		}
	})
	return env
}

// openRedis gives env its own client of the Redis server at env.redisAddr
// under prefix (through a Proxy of its own with WithProxies), closed at
// cleanup.
func (env *Env) openRedis(t testing.TB, prefix string) {
	var c redis.UniversalClient
	env.RedisMerges = &repo.Coalescer{}
	if env.opts.proxies {
		env.RedisProxy = NewProxy(t, env.redisAddr)
		c = repo.NewRedisClient(repo.RedisOptions{Addrs: []string{env.RedisProxy.Addr()}, Coalescer: env.RedisMerges})
	} else {
		c = redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{env.redisAddr}})
		// As the service's client does: every test's pipelines go
		// through the merger.
		c.AddHook(env.RedisMerges)
	}
	env.Redis = &repo.Redis{C: c, Prefix: prefix}
	t.Cleanup(func() { c.Close() })
}

// Instance is the stores of another instance of the service over the same
// database and Redis, as a second `jifen serve` beside the first: a
// database pool and a Redis client of its own (with WithProxies, its own
// proxies too, so a test cuts one instance's Redis and not the other's),
// under the same key prefix. Its connections close at cleanup; e owns the
// database and the keys.
func (e *Env) Instance(t testing.TB) *Env {
	t.Helper()
	other := &Env{Backend: e.Backend, Mini: e.Mini, DSN: e.DSN, opts: e.opts, redisAddr: e.redisAddr, sqlDirect: e.sqlDirect}
	if e.sqlDirect != "" {
		cfg, err := mysqldrv.ParseDSN(e.sqlDirect)
		if err != nil {
			t.Fatal(err)
		}
		if e.opts.proxies {
			other.SQLProxy = NewProxy(t, cfg.Addr)
			cfg.Addr = other.SQLProxy.Addr()
		}
		other.DSN = cfg.FormatDSN()
		db, err := repo.OpenMySQL(other.DSN)
		if err != nil {
			t.Fatalf("open mysql: %v", err)
		}
		if os.Getenv("JIFEN_TEST_MYSQL_PORTABLE") == "1" {
			db.Portable()
		}
		db.SetMaxOpenConns(MaxOpenConns)
		t.Cleanup(func() { db.Close() })
		other.DB = db
	} else {
		db, err := repo.OpenSQLite(e.DSN)
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		other.DB = db
	}
	other.openRedis(t, e.Redis.Prefix)
	return other
}

// MaxOpenConns is the connection pool of each test's MySQL database.
const MaxOpenConns = 24

func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newMySQL creates a fresh database on the server named by dsn and drops it
// at cleanup.
func newMySQL(t testing.TB, dsn string, o options) (db *repo.DB, through, direct string, proxy *Proxy) {
	t.Helper()
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("JIFEN_TEST_MYSQL_DSN: %v", err)
	}
	name := "jifen_t_" + randomName()
	charset := "utf8mb4 COLLATE utf8mb4_unicode_ci"
	if o.charset != "" {
		charset = o.charset
	}
	if err := adminExec(dsn, fmt.Sprintf("CREATE DATABASE `%s` CHARACTER SET %s", name, charset)); err != nil {
		t.Fatalf("create database: %v", err)
	}
	cfg.DBName = name
	direct = cfg.FormatDSN()
	if o.proxies {
		proxy = NewProxy(t, cfg.Addr)
		cfg.Addr = proxy.Addr()
	}
	db, err = repo.OpenMySQL(cfg.FormatDSN())
	if err != nil {
		t.Fatalf("open mysql: %v", err)
	}
	// JIFEN_TEST_MYSQL_PORTABLE=1 runs every store on its portable fallbacks
	// (what TiDB would need); .ci/run runs the suite once that way.
	if os.Getenv("JIFEN_TEST_MYSQL_PORTABLE") == "1" {
		db.Portable()
	}
	// Many test databases share one server: a small pool per test keeps the
	// whole parallel suite under max_connections (.ci/run also raises it).
	db.SetMaxOpenConns(MaxOpenConns)
	t.Cleanup(func() {
		db.Close()
		_ = adminExec(dsn, fmt.Sprintf("DROP DATABASE IF EXISTS `%s`", name))
	})
	return db, cfg.FormatDSN(), direct, proxy
}

// adminExec runs one statement on a short-lived connection to the server,
// so no test holds an idle admin connection for its whole run.
func adminExec(dsn, stmt string) error {
	admin, err := gorm.Open(mysql.Open(dsn), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		return err
	}
	if sqlDB, err := admin.DB(); err == nil {
		defer sqlDB.Close()
	}
	return admin.Exec(stmt).Error
}
