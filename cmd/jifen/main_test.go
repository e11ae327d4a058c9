package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestVersionAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "jifen ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errb.String())
	}
}

func TestInvalidConfigExitsNamingTheKey(t *testing.T) {
	t.Setenv("JIFEN_AUTH_ACCESS_TTL", "forever")
	var out, errb bytes.Buffer
	if code := run([]string{"serve"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "auth.access_ttl") {
		t.Fatalf("got %d %q", code, errb.String())
	}
}

// The reminder jobs' schedules are configuration like any other key: serve
// stops on the one invalid-configuration line, not on a failure to build.
func TestInvalidReminderScheduleExitsNamingTheKey(t *testing.T) {
	for _, tc := range []struct{ env, value, want string }{
		{"JIFEN_REMINDER_QUIET_HOURS", "00:00-24:00", `jifen: invalid configuration: reminder.quiet_hours: "24:00" is not a time of day`},
		{"JIFEN_REMINDER_EXPIRY_CRON", "0 0 31 2 *", "jifen: invalid configuration: reminder.expiry_cron: never fires"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv("JIFEN_DATA_DIR", t.TempDir())
			t.Setenv(tc.env, tc.value)
			var out, errb bytes.Buffer
			code := run([]string{"serve"}, &out, &errb)
			// Warnings about the environment the tests run in (CI sets
			// variables of its own) are not the failure.
			var lines []string
			for _, l := range strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n") {
				if !strings.Contains(l, `"level":"WARN"`) {
					lines = append(lines, l)
				}
			}
			if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], tc.want) {
				t.Fatalf("serve with %s=%q: %d %q; want 1 and the one line %q…", tc.env, tc.value, code, errb.String(), tc.want)
			}
		})
	}
}

func TestMigrateEmbeddedIsIdempotent(t *testing.T) {
	t.Setenv("JIFEN_DATA_DIR", t.TempDir())
	for i := 0; i < 2; i++ {
		var out, errb bytes.Buffer
		if code := run([]string{"migrate"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "migrated SQLite") {
			t.Fatalf("migrate #%d: %d %q %q", i, code, out.String(), errb.String())
		}
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	var closed atomic.Bool
	done := make(chan int)
	go func() {
		done <- serveHTTP(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), ln, h, 5*time.Second, func() { closed.Store(true) })
	}()
	var body string
	reqDone := make(chan error)
	go func() {
		var resp *http.Response
		var err error
		for i := 0; i < 50; i++ {
			resp, err = http.Get("http://" + addr)
			if err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			reqDone <- err
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		reqDone <- nil
	}()
	<-started
	cancel() // SIGTERM arrives while the request is in flight
	if err := <-reqDone; err != nil {
		t.Fatal(err)
	}
	if body != "finished" {
		t.Fatalf("in-flight request cut: %q", body)
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if !closed.Load() {
		t.Fatal("stores not closed after shutdown")
	}
}

func TestHashPasswordPrintsAUsableBcryptHash(t *testing.T) {
	var out, errb bytes.Buffer
	if code := hashPassword(strings.NewReader("marketing-2026\n"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	hash := strings.TrimSpace(out.String())
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte("marketing-2026")) != nil {
		t.Fatalf("printed %q, not a hash of the password", hash)
	}
	if code := hashPassword(strings.NewReader("short\n"), &out, &errb); code != 2 {
		t.Fatalf("short password accepted: %d", code)
	}
}

// A client that sends its headers and then trickles the body is cut off
// once its read time is up, rather than holding the connection (and a
// goroutine) for as long as it likes; both listeners' servers have a
// bounded read and idle time.
func TestSlowBodyIsCutOff(t *testing.T) {
	for _, timeout := range []time.Duration{requestReadTimeout, idleTimeout} {
		if timeout <= 0 || timeout > 5*time.Minute {
			t.Fatalf("timeout %v: want a bound of a few minutes at most", timeout)
		}
	}
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
			return
		}
		w.WriteHeader(http.StatusOK)
	}), 300*time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// Trickle a byte every 100 ms; the server must give up within its read time.
	go func() {
		for range 50 {
			time.Sleep(100 * time.Millisecond)
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(4 * time.Second))
	b, _ := io.ReadAll(conn)
	if waited := time.Since(start); waited > 3*time.Second {
		t.Fatalf("the trickling client held the connection %v (answer %q); want it cut off after the 300 ms read time", waited, b)
	}
	if bytes.Contains(b, []byte("200 OK")) {
		t.Fatalf("a body that never arrived was answered %q", b)
	}
}
