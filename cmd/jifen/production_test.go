package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/schema"
	"github.com/jifen/jifen/repo/testenv"
)

// readmeProductionSnippet returns the sh block of the README's "Running
// against real MySQL, Redis and WeChat" section.
func readmeProductionSnippet(t *testing.T) string {
	t.Helper()
	section := readmeSection(t, "Running against real MySQL, Redis and WeChat")
	open := strings.Index(section, "```sh\n")
	if open < 0 {
		t.Fatal("the production section has no sh block")
	}
	body := section[open+len("```sh\n"):]
	return body[:strings.Index(body, "```")]
}

// snippetEnv runs the snippet's export lines in bash and returns the
// JIFEN_* variables they set, and the jifen commands the snippet runs.
func snippetEnv(t *testing.T, snippet string) (env map[string]string, commands [][]string) {
	t.Helper()
	var exports []string
	for _, l := range strings.Split(snippet, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "export "):
			exports = append(exports, l)
		case strings.HasPrefix(l, "go run ./cmd/jifen "):
			cmd, _, _ := strings.Cut(strings.TrimPrefix(l, "go run ./cmd/jifen "), "#")
			commands = append(commands, strings.Fields(cmd))
		case l == "" || strings.HasPrefix(l, "#"):
		default:
			t.Fatalf("the production snippet has a line this test does not understand: %q", l)
		}
	}
	cmd := exec.Command("bash", "-c", "set -eu\n"+strings.Join(exports, "\n")+"\nenv -0")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the snippet's exports fail in bash: %v", err)
	}
	env = map[string]string{}
	for _, kv := range strings.Split(string(out), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "JIFEN_") {
			env[k] = v
		}
	}
	return env, commands
}

// TestProductionSnippetStarts: the README's production snippet holds every
// production-only requirement. Its environment is a valid production
// configuration, and with JIFEN_TEST_* set (CI) its commands — migrate,
// then serve — start production mode on the test MariaDB and Redis with
// exactly that environment (only the addresses of MariaDB and Redis
// replaced).
func TestProductionSnippetStarts(t *testing.T) {
	needTools(t, "bash", "openssl")
	env, commands := snippetEnv(t, readmeProductionSnippet(t))
	checkEnvKeys(t, "README production snippet", env)
	cfg, err := configs.Load("", environ(env))
	if err != nil {
		t.Fatalf("the README's production environment does not start: %v", err)
	}
	if !cfg.Production() || cfg.UseSimulator() {
		t.Fatalf("the snippet is not production mode with real WeChat")
	}
	if len(commands) != 2 || commands[0][0] != "migrate" || commands[1][0] != "serve" {
		t.Fatalf("the snippet runs %q, want migrate then serve", commands)
	}
	for _, c := range commands {
		checkJifenCommand(t, "README production snippet", c)
	}
	if testenv.MySQLDSN() == "" || testenv.RedisAddr() == "" {
		return // the configuration check above is what can be done without MariaDB and Redis
	}
	db := testenv.New(t) // a fresh database and Redis key prefix
	env["JIFEN_MYSQL_DSN"] = db.DSN
	env["JIFEN_REDIS_ADDR"] = testenv.RedisAddr()
	env["JIFEN_REDIS_PREFIX"] = db.Redis.Prefix
	addr := freeAddr(t)
	env["JIFEN_SERVER_ADDR"] = addr
	migrate := exec.Command(os.Args[0], commands[0]...)
	migrate.Env = jifenEnv(environ(env)...)
	if out, err := migrate.CombinedOutput(); err != nil || !strings.Contains(string(out), "migrated MySQL") {
		t.Fatalf("jifen migrate: %v\n%s", err, out)
	}
	startJifen(t, addr, jifenEnv(environ(env)...), commands[1]...)
	hc := exec.Command(os.Args[0], "healthcheck", "--url", "http://"+addr+"/readyz")
	hc.Env = jifenEnv()
	out, err := hc.CombinedOutput()
	if err != nil {
		t.Fatalf("production serve is not ready: %v %s", err, out)
	}
}

// serve on a MySQL database that lacks a migration of this release (an
// upgrade deployed without `jifen migrate`) stops at start with one error
// naming the migration and the command; it used to listen and fail every
// request and job with "table doesn't exist". The embedded SQLite file is
// migrated on open instead: without MariaDB (the embedded run) serve on a
// data_dir whose file lacks a migration applies it and answers.
func TestServeOnADatabaseMissingAMigration(t *testing.T) {
	if testenv.MySQLDSN() == "" || testenv.RedisAddr() == "" {
		embeddedServeMigrates(t)
		return
	}
	db := testenv.New(t) // migrated; then one migration is taken back
	all := schema.All()
	last := all[0]
	for _, m := range all {
		if m.Version > last.Version {
			last = m
		}
	}
	if err := db.DB.Conn(context.Background()).Exec("DELETE FROM schema_migrations WHERE version = ?", last.Version).Error; err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = jifenEnv("JIFEN_MYSQL_DSN="+db.DSN, "JIFEN_REDIS_ADDR="+testenv.RedisAddr(), "JIFEN_REDIS_PREFIX="+db.Redis.Prefix,
		"JIFEN_WECHAT_SIMULATOR=true", "JIFEN_WECHAT_SIMULATOR_URL=http://"+freeAddr(t),
		"JIFEN_AUTH_JWT_KEY=test-jwt-key-0123456789abcdef0123456789", "JIFEN_TASKS_TOKEN_KEY=test-task-key-0123456789abcdef012345678",
		"JIFEN_ORDERS_WEBHOOK_SECRET=test-webhook-secret-1", "JIFEN_TASKS_REVIEW_HOOK_SECRET=test-review-secret-1",
		"JIFEN_SERVER_ADDR="+freeAddr(t), "JIFEN_SERVER_METRICS_ADDR="+freeAddr(t))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("serve on an unmigrated database: %v, want exit status 1\n%s", err, out)
	}
	if s := string(out); !strings.Contains(s, "jifen migrate") || !strings.Contains(s, last.Name) || strings.Contains(s, "listening") {
		t.Fatalf("serve on an unmigrated database: want one error naming migration %d %s and jifen migrate, before listening:\n%s", last.Version, last.Name, s)
	}
}

// embeddedServeMigrates is TestServeOnADatabaseMissingAMigration on the
// embedded default: migration 115 (a no-op on SQLite, so applying it again
// is harmless) is taken back from a data_dir's file, and serve answers
// with it applied.
func embeddedServeMigrates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := repo.OpenSQLite(filepath.Join(dir, "jifen.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, schema.All()); err != nil {
		t.Fatal(err)
	}
	applied := func() int64 {
		var n int64
		if err := db.Conn(ctx).Table("schema_migrations").Where("version = 115").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := db.Conn(ctx).Exec("DELETE FROM schema_migrations WHERE version = 115").Error; err != nil || applied() != 0 {
		t.Fatalf("taking migration 115 back: %v", err)
	}
	addr := freeAddr(t)
	startJifen(t, addr, jifenEnv("JIFEN_DATA_DIR="+dir, "JIFEN_SERVER_ADDR="+addr), "serve")
	if applied() != 1 {
		t.Fatal("embedded serve answered on a file that still lacks migration 115")
	}
	_ = db.Close()
}
