package repo_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/repo"
)

// silentServer accepts TCP connections and never says a word: a DSN that
// names another service's port, or a server that hangs.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// Opening MySQL at an address where nothing answers the handshake fails
// after repo.MySQLOpenTimeout, naming the address and the key; it used to
// wait for ever, deaf to SIGINT (serve and migrate hung at start).
func TestOpenMySQLWhereNothingAnswersEnds(t *testing.T) {
	addr := silentServer(t)
	old := repo.MySQLOpenTimeout
	repo.MySQLOpenTimeout = 300 * time.Millisecond
	t.Cleanup(func() { repo.MySQLOpenTimeout = old })

	type result struct {
		err  error
		took time.Duration
	}
	open := func(ctx context.Context) result {
		ch := make(chan result, 1)
		go func() {
			start := time.Now()
			db, err := repo.OpenMySQLContext(ctx, "jifen:pw@tcp("+addr+")/jifen")
			if db != nil {
				db.Close()
			}
			ch <- result{err, time.Since(start)}
		}()
		select {
		case r := <-ch:
			return r
		case <-time.After(10 * time.Second):
			t.Fatalf("OpenMySQL at %s (nothing answers) still waiting after 10s", addr)
			return result{}
		}
	}
	r := open(context.Background())
	if r.err == nil || !strings.Contains(r.err.Error(), addr) || !strings.Contains(r.err.Error(), "mysql.dsn") {
		t.Fatalf("OpenMySQL where nothing answers: %v; want an error naming %s and mysql.dsn", r.err, addr)
	}
	// A cancelled context (SIGINT) ends it too, before the timeout.
	repo.MySQLOpenTimeout = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if r := open(ctx); r.err == nil || r.took > 5*time.Second {
		t.Fatalf("OpenMySQL with a cancelled context: %v after %s", r.err, r.took)
	}
}

// A DSN written as a URL, or without tcp(…), is refused naming the key
// and the syntax it takes: the driver's own words ("default addr for
// network '127.0.0.1:3306' unknown") told an operator neither.
func TestMySQLDSNRefusesAURLNamingTheSyntax(t *testing.T) {
	for _, dsn := range []string{"mysql://root@127.0.0.1:3306/jifen", "root:pw@127.0.0.1:3306/jifen"} {
		_, err := repo.MySQLDSN(dsn)
		if err == nil || !strings.Contains(err.Error(), "mysql.dsn") || !strings.Contains(err.Error(), "user:pw@tcp(host:3306)/jifen") {
			t.Errorf("MySQLDSN(%q): %v; want an error naming mysql.dsn and the syntax", dsn, err)
		}
	}
}

// A closed port is named, with the key to check: the driver said only
// "dial tcp …: connect: connection refused".
func TestOpenMySQLOnAClosedPortNamesTheKey(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = repo.OpenMySQL("jifen:pw@tcp(" + addr + ")/jifen")
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "mysql.dsn (JIFEN_MYSQL_DSN)") {
		t.Fatalf("OpenMySQL on a closed port: %v; want connection refused and the key", err)
	}
}

// A server that hangs up during the handshake (not MySQL, or wanting TLS)
// is named with the key: the driver said only "driver: bad connection".
func TestOpenMySQLWhereTheServerHangsUpNamesTheKey(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	_, err = repo.OpenMySQL("jifen:pw@tcp(" + addr + ")/jifen")
	if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "mysql.dsn (JIFEN_MYSQL_DSN)") {
		t.Fatalf("OpenMySQL where the server hangs up: %v; want the address and the key", err)
	}
}
