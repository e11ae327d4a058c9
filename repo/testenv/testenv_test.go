package testenv_test

import (
	"context"
	"testing"

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
