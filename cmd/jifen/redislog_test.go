package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// TestRedisLogsAreJSON: with Redis unreachable, go-redis's own lines (a
// pool that cannot dial) come out as JSON log lines at warn level like every
// other line serve writes, not as its plain "redis: 2026/…" text.
func TestRedisLogsAreJSON(t *testing.T) {
	// A port nothing listens on: every dial is refused at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redisAddr := ln.Addr().String()
	ln.Close()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = jifenEnv("JIFEN_DATA_DIR="+t.TempDir(), "JIFEN_SERVER_ADDR="+addr, "JIFEN_REDIS_ADDR="+redisAddr,
		"JIFEN_SERVER_METRICS_ADDR=off", "JIFEN_REMINDER_JOBS=false")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	ready := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !ready; time.Sleep(50 * time.Millisecond) {
		// /readyz pings Redis: the pool dials, fails and go-redis logs it.
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			ready = true
		}
	}
	if !ready {
		t.Fatalf("serve did not answer:\n%s", stderr.String())
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	out := stderr.String()
	sawRedis := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a log line that is not JSON: %q", line)
			continue
		}
		if strings.Contains(rec.Msg, "failed to dial") {
			sawRedis = true
			if rec.Level != "WARN" {
				t.Errorf("go-redis line at %s, want WARN: %s", rec.Level, line)
			}
		}
	}
	if !sawRedis {
		t.Fatalf("no go-redis dial failure logged; the test proves nothing:\n%s", out)
	}
}

// TestMySQLDriverLogsAreJSON: go-sql-driver's own lines (a server that
// drops the connection: "[mysql] 2026/… connection.go:49: unexpected EOF")
// come out as JSON warnings like every other line serve writes.
func TestMySQLDriverLogsAreJSON(t *testing.T) {
	// A server that hangs up on every connection.
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
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = jifenEnv("JIFEN_MYSQL_DSN=jifen:pw@tcp("+ln.Addr().String()+")/jifen", "JIFEN_REDIS_ADDR="+freeAddr(t),
		"JIFEN_WECHAT_SIMULATOR=true", "JIFEN_WECHAT_SIMULATOR_URL=http://"+freeAddr(t),
		"JIFEN_AUTH_JWT_KEY=test-jwt-key-0123456789abcdef0123456789", "JIFEN_TASKS_TOKEN_KEY=test-task-key-0123456789abcdef012345678",
		"JIFEN_ORDERS_WEBHOOK_SECRET=test-webhook-secret-1", "JIFEN_TASKS_REVIEW_HOOK_SECRET=test-review-secret-1",
		"JIFEN_SERVER_ADDR="+freeAddr(t), "JIFEN_SERVER_METRICS_ADDR=off")
	out, _ := cmd.CombinedOutput()
	sawDriver := false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a log line that is not JSON: %q", line)
			continue
		}
		if strings.HasPrefix(rec.Msg, "mysql driver: ") {
			sawDriver = true
			if rec.Level != "WARN" {
				t.Errorf("go-sql-driver line at %s, want WARN: %s", rec.Level, line)
			}
		}
	}
	if !sawDriver {
		t.Fatalf("no go-sql-driver line logged; the test proves nothing:\n%s", out)
	}
}

// A Redis that wants a password serve was not given (or a database it does
// not have) stops serve at start naming the key: it used to start "ready,
// degraded" for ever, every draw and mall redemption 503. A Redis that does
// not answer at all still only degrades (TestRedisLogsAreJSON).
func TestServeStopsOnRedisSettingsRedisRefuses(t *testing.T) {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		t.Fatal(err)
	}
	defer mr.Close()
	mr.RequireAuth("the-redis-password")
	for _, c := range []struct{ name, env, want string }{
		{"no password", "JIFEN_REDIS_PASSWORD=", "redis.password (JIFEN_REDIS_PASSWORD)"},
		{"wrong password", "JIFEN_REDIS_PASSWORD=wrong", "redis.password (JIFEN_REDIS_PASSWORD)"},
	} {
		addr := freeAddr(t)
		cmd := exec.Command(os.Args[0], "serve")
		cmd.Env = jifenEnv("JIFEN_DATA_DIR="+t.TempDir(), "JIFEN_SERVER_ADDR="+addr, "JIFEN_REDIS_ADDR="+mr.Addr(),
			"JIFEN_SERVER_METRICS_ADDR=off", "JIFEN_REMINDER_JOBS=false", c.env)
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("%s: serve still running after 30s:\n%s", c.name, out)
		}
		if err == nil || !strings.Contains(string(out), c.want) || strings.Contains(string(out), "listening") {
			t.Errorf("%s: %v; want exit 1 naming %s before listening:\n%s", c.name, err, c.want, out)
		}
	}
}
