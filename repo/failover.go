package repo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
)

// FailoverNet is the DSN network that lists several MySQL servers in order
// of preference, for a Galera cluster used with a single writer:
//
//	root:pw@failover(db1:3306,db2:3306,db3:3306)/jifen
//
// Every new connection goes to the first server in the list that accepts
// one. All instances list the nodes in the same order, so they all write
// to the same node, and move together to the next one when it dies.
//
// Why one writer: Galera lets every node accept writes, but concurrent
// read-modify-write transactions on different nodes can both commit and
// one overwrites the other (P4, lost update — Jepsen, MariaDB Galera
// Cluster 12.1.2, 2026). Jifen's account row is exactly such a write, and
// the cluster run saw balances drift from their entries with instances
// writing to three nodes. Through one node the row locks serialise them
// as on a single server; the other nodes are synchronous standbys.
const FailoverNet = "failover"

// failoverDialTimeout bounds the attempt on one server, so that a dead
// first node costs a new connection at most this long.
const failoverDialTimeout = 2 * time.Second

func init() {
	mysqldrv.RegisterDialContext(FailoverNet, dialFailover)
}

// dialFailover connects to the first address of the comma-separated list
// that answers.
func dialFailover(ctx context.Context, addrs string) (net.Conn, error) {
	var errs []error
	for _, addr := range strings.Split(addrs, ",") {
		addr = strings.TrimSpace(addr)
		if addr == "" {
			continue
		}
		d := net.Dialer{Timeout: failoverDialTimeout, KeepAlive: 30 * time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("mysql dsn: %s() lists no address", FailoverNet)
	}
	return nil, errors.Join(errs...)
}
