package repo_test

import (
	"context"
	"net"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/testenv"
)

// A DSN of the failover network opens a working database (plain and
// pipelined transactions) when the first server in the list is down.
func TestFailoverDSNReachesTheServerBehindADeadOne(t *testing.T) {
	if testenv.MySQLDSN() == "" {
		return // MySQL only; .ci/run's MariaDB stage runs it
	}
	env := testenv.New(t) // a fresh migrated database on the test server
	cfg, err := mysqldrv.ParseDSN(env.DSN)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	cfg.Net, cfg.Addr = repo.FailoverNet, dead+","+cfg.Addr
	db, err := repo.OpenMySQL(cfg.FormatDSN())
	if err != nil {
		t.Fatalf("open through %s: %v", cfg.FormatDSN(), err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Conn(ctx).Exec("CREATE TABLE failover_t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(ctx context.Context) error {
		return db.Conn(ctx).Exec("INSERT INTO failover_t (id, v) VALUES (1, 10)").Error
	})
	if err != nil {
		t.Fatal(err)
	}
	var v int64
	if err := env.DB.Conn(ctx).Raw("SELECT v FROM failover_t WHERE id = 1").Scan(&v).Error; err != nil || v != 10 {
		t.Fatalf("row written through the failover DSN: v=%d err=%v", v, err)
	}
}
