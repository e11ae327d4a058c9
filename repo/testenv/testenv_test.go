package testenv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/schema"
	"github.com/jifen/jifen/repo/testenv"
)

func TestMigrateIsIdempotentAndIsolated(t *testing.T) {
	t.Parallel()
	a := testenv.New(t)
	b := testenv.New(t)
	ctx := context.Background()
	again, err := a.DB.Migrate(ctx, schema.All())
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Fatalf("second migrate applied %v, want nothing", again)
	}
	if err := a.DB.Conn(ctx).Exec("INSERT INTO members (openid, session_key, nickname, avatar_url, created_at, last_active) VALUES ('x','','','',?,?)", a.DB.Conn(ctx).NowFunc(), a.DB.Conn(ctx).NowFunc()).Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	b.DB.Conn(ctx).Table("members").Count(&n)
	if n != 0 {
		t.Fatalf("stores not isolated: b sees %d members", n)
	}
	if err := a.Redis.C.Set(ctx, a.Redis.Key("k"), "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Redis.C.Exists(ctx, b.Redis.Key("k")).Result(); got != 0 && b.Redis.Prefix != a.Redis.Prefix {
		t.Fatalf("redis not isolated")
	}
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		if !repo.InTransaction(ctx) {
			t.Fatal("no tx in context")
		}
		return a.DB.Conn(ctx).Exec("INSERT INTO members (openid, session_key, nickname, avatar_url, created_at, last_active) VALUES ('x','','','',?,?)", a.DB.Conn(ctx).NowFunc(), a.DB.Conn(ctx).NowFunc()).Error
	})
	if !repo.IsDuplicate(err) {
		t.Fatalf("duplicate openid: got %v, want a duplicate-key error", err)
	}
}

func TestMySQLSessionsReadCommitted(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	if env.DB.Dialect() != repo.MySQL {
		return // SQLite has one isolation level: serializable writers
	}
	var level string
	conn := env.DB.Conn(context.Background())
	if err := conn.Raw("SELECT @@transaction_isolation").Scan(&level).Error; err != nil {
		if err := conn.Raw("SELECT @@tx_isolation").Scan(&level).Error; err != nil {
			t.Fatal(err)
		}
	}
	if level != "READ-COMMITTED" {
		t.Fatalf("session isolation %q, want READ-COMMITTED", level)
	}
}

// jifen migrate status: every migration of this binary applied after New,
// and a version recorded by a newer release shown as unknown.
func TestMigrationStatus(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	ctx := context.Background()
	states, err := env.DB.MigrationStatus(ctx, schema.All())
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != len(schema.All()) {
		t.Fatalf("%d states for %d migrations", len(states), len(schema.All()))
	}
	for i, s := range states {
		if s.AppliedAt == nil || s.Unknown {
			t.Fatalf("migration %d %s not applied: %+v", s.Version, s.Name, s)
		}
		if i > 0 && states[i-1].Version >= s.Version {
			t.Fatalf("status not in version order at %d", s.Version)
		}
	}
	if err := env.DB.Conn(ctx).Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99999, 'from a newer release', ?)", time.Now().UTC()).Error; err != nil {
		t.Fatal(err)
	}
	pending := schema.All()[:len(schema.All())-1]
	states, err = env.DB.MigrationStatus(ctx, append(pending, repo.Migration{Version: 99998, Name: "not yet"}))
	if err != nil {
		t.Fatal(err)
	}
	last, before := states[len(states)-1], states[len(states)-2]
	if last.Version != 99999 || !last.Unknown || last.AppliedAt == nil {
		t.Fatalf("newer release's migration: %+v", last)
	}
	if before.Version != 99998 || before.AppliedAt != nil || before.Unknown {
		t.Fatalf("pending migration: %+v", before)
	}
}

// A migrate that cannot get the migration lock fails and applies nothing,
// instead of migrating beside the instance that holds it.
func TestMigrateWaitsForTheLockAndGivesUp(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	if env.DB.Dialect() != repo.MySQL {
		return // SQLite: one process owns the file; there is no named lock
	}
	ctx := context.Background()
	other, err := repo.OpenMySQL(env.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	err = other.Conn(ctx).Connection(func(c *gorm.DB) error {
		var got int
		if err := c.Raw("SELECT GET_LOCK(CONCAT('jifen_migrate:', DATABASE()), 5)").Scan(&got).Error; err != nil || got != 1 {
			t.Fatalf("take the lock: %d %v", got, err)
		}
		defer c.Exec("SELECT RELEASE_LOCK(CONCAT('jifen_migrate:', DATABASE()))")
		applied, err := env.DB.MigrateWaiting(ctx, append(schema.All(), repo.Migration{Version: 99997, Name: "blocked",
			Up: func(*gorm.DB) error { t.Error("a migration ran without the lock"); return nil }}), time.Second)
		if err == nil || !strings.Contains(err.Error(), "another jifen migrate") || len(applied) != 0 {
			t.Fatalf("migrate without the lock: applied %v, err %v", applied, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Once the lock is free, the same migrate runs.
	applied, err := env.DB.MigrateWaiting(ctx, append(schema.All(), repo.Migration{Version: 99997, Name: "unblocked",
		Up: func(*gorm.DB) error { return nil }}), time.Second)
	if err != nil || len(applied) != 1 || applied[0] != 99997 {
		t.Fatalf("migrate after the lock was released: %v %v", applied, err)
	}
}

// A database whose default is latin1 still gets utf8mb4 tables, so the
// first Chinese rule name is stored rather than refused (Error 1366); a
// latin1 table left by an earlier release is converted by the next migrate.
func TestMigrateMakesUTF8MB4TablesInALatin1Database(t *testing.T) {
	t.Parallel()
	if testenv.MySQLDSN() == "" {
		return // MySQL only; .ci/run's MariaDB stage runs it
	}
	env := testenv.New(t, testenv.WithCharset("latin1"))
	ctx := context.Background()
	db := env.DB.Conn(ctx)
	if err := db.Exec("CREATE TABLE legacy_t (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL) CHARACTER SET latin1").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.Migrate(ctx, schema.All()); err != nil {
		t.Fatal(err)
	}
	var bad []string
	if err := db.Raw(`SELECT CONCAT(TABLE_NAME, ':', TABLE_COLLATION) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_COLLATION NOT LIKE 'utf8mb4%'`).Scan(&bad).Error; err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("tables not utf8mb4 after migrate: %v", bad)
	}
	var tables int
	db.Raw("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()").Scan(&tables)
	if tables < 20 {
		t.Fatalf("only %d tables: the check saw nothing", tables)
	}
	for _, q := range []string{
		"INSERT INTO legacy_t (id, name) VALUES (1, '双十一积分翻倍')",
		"INSERT INTO members (openid, session_key, nickname, avatar_url, created_at, last_active) VALUES ('o1','','张三🎉','',NOW(),NOW())",
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
