package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/repo/schema"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpDescribesEveryCommandAndItsOwnFlags(t *testing.T) {
	code, out, _ := runCLI(t, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, cmd := range []string{"serve", "migrate", "wechat-sim", "reconcile", "birthdays", "tier-review",
		"store-summaries", "expire", "followers-sync", "hash-password", "healthcheck", "version", "completion", "seed"} {
		if !strings.Contains(out, "\n  "+cmd+" ") {
			t.Errorf("jifen --help does not list %s:\n%s", cmd, out)
		}
	}
	for _, tc := range []struct {
		cmd    []string
		has    []string
		hasNot []string
	}{
		{[]string{"serve", "--help"}, []string{"--addr", "--config", "Run the HTTP service"}, []string{"--member", "--day"}},
		{[]string{"reconcile", "--help"}, []string{"--member", "--config"}, []string{"--addr", "--day"}},
		{[]string{"birthdays", "--help"}, []string{"--day"}, []string{"--member", "--addr"}},
		{[]string{"tier-review", "--help"}, nil, []string{"--day", "--member", "--addr"}},
		{[]string{"wechat-sim", "--help"}, []string{"--addr", "127.0.0.1:9090"}, []string{"--member"}},
		{[]string{"help", "expire"}, []string{"Expire every lot due now"}, []string{"--addr"}},
	} {
		code, out, errOut := runCLI(t, tc.cmd...)
		if code != 0 {
			t.Errorf("%v: exit %d %s", tc.cmd, code, errOut)
		}
		for _, s := range tc.has {
			if !strings.Contains(out, s) {
				t.Errorf("%v lacks %q:\n%s", tc.cmd, s, out)
			}
		}
		for _, s := range tc.hasNot {
			if strings.Contains(out, s) {
				t.Errorf("%v shows another command's flag %q:\n%s", tc.cmd, s, out)
			}
		}
	}
}

func TestUnknownFlagsAndStrayArgumentsAreUsageErrors(t *testing.T) {
	t.Setenv("JIFEN_DATA_DIR", t.TempDir())
	for _, args := range [][]string{
		{"serve", "migrate"},
		{"serve", "--bogus"},
		{"reconcile", "--day", "2026-01-01"},
		{"migrate", "now"},
		{"version", "extra"},
		{"tier-review", "--day", "2026-01-01"},
		{"frobnicate"},
		{},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != 2 {
			t.Errorf("jifen %v: exit %d, want 2 (stdout %q, stderr %q)", args, code, out, errOut)
		}
		if errOut == "" {
			t.Errorf("jifen %v: no explanation on stderr", args)
		}
	}
	_, _, errOut := runCLI(t, "serve", "migrate")
	if !strings.Contains(errOut, `unknown command "migrate" for "jifen serve"`) || !strings.Contains(errOut, "jifen serve --help") {
		t.Errorf("serve migrate: %q", errOut)
	}
}

func TestServeListensOnTheAddrFlag(t *testing.T) {
	addr := freeAddr(t)
	// The flag wins over the environment's address.
	env := jifenEnv("JIFEN_DATA_DIR="+t.TempDir(), "JIFEN_SERVER_ADDR=127.0.0.1:1")
	startJifen(t, addr, env, "serve", "--addr", addr)
}

func TestHealthcheckAsksServeWhetherItIsReady(t *testing.T) {
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	// serve on every interface, as in the container; healthcheck dials loopback.
	env := jifenEnv("JIFEN_DATA_DIR="+t.TempDir(), "JIFEN_SERVER_ADDR=0.0.0.0:"+port)
	startJifen(t, addr, env, "serve")
	cmd := exec.Command(os.Args[0], "healthcheck")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "ok: http://127.0.0.1:"+port+"/readyz") {
		t.Fatalf("healthcheck of a running serve: %v %s", err, out)
	}
	down := freeAddr(t)
	code, _, errOut := runCLI(t, "healthcheck", "--url", "http://"+down+"/readyz", "--timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "jifen healthcheck") {
		t.Fatalf("healthcheck with nothing listening: exit %d %q", code, errOut)
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "__start_jifen", "zsh": "#compdef jifen", "fish": "complete -c jifen", "powershell": "Register-ArgumentCompleter"} {
		code, out, errOut := runCLI(t, "completion", shell)
		if code != 0 || !strings.Contains(out, marker) {
			t.Errorf("completion %s: exit %d, %q missing (stderr %q)", shell, code, marker, errOut)
		}
	}
}

func TestUnknownJifenVariablesAreReported(t *testing.T) {
	t.Setenv("JIFEN_DATA_DIR", t.TempDir())
	t.Setenv("JIFEN_SERVR_ADDR", "0.0.0.0:8080")
	t.Setenv("JIFEN_COMPLETELY_MADE_UP_THING", "1")
	code, _, errOut := runCLI(t, "migrate")
	if code != 0 {
		t.Fatalf("migrate: exit %d %s", code, errOut)
	}
	if !strings.Contains(errOut, "unknown environment variable JIFEN_SERVR_ADDR ignored; did you mean JIFEN_SERVER_ADDR?") {
		t.Errorf("typo not reported with a suggestion: %s", errOut)
	}
	if !strings.Contains(errOut, "JIFEN_COMPLETELY_MADE_UP_THING ignored: it names no configuration key") {
		t.Errorf("unknown variable not reported: %s", errOut)
	}
	if strings.Contains(errOut, "JIFEN_DATA_DIR") {
		t.Errorf("a real key reported as unknown: %s", errOut)
	}
}

// The README's walk-through (docs/walkthrough.sh) reads JIFEN_URL, where
// serve listens, and runs jifen reconcile with it set: that is the
// walk-through's variable, not a mistyped key, and every command warned.
func TestTheWalkThroughsVariableIsNotReported(t *testing.T) {
	t.Setenv("JIFEN_DATA_DIR", t.TempDir())
	t.Setenv("JIFEN_URL", "http://127.0.0.1:8080")
	code, _, errOut := runCLI(t, "migrate")
	if code != 0 {
		t.Fatalf("migrate: exit %d %s", code, errOut)
	}
	if strings.Contains(errOut, "JIFEN_URL") {
		t.Errorf("the walk-through's JIFEN_URL reported: %s", errOut)
	}
}

// The operator scripts' variables are theirs: after `eval "$(scripts/cluster
// env)"` (operations.md) every jifen command in that shell warned about
// each JIFEN_CLUSTER_* variable, and staging.sh's JIFEN_STAGING_* reached
// its serves' logs the same way.
func TestTheOperatorScriptsVariablesAreNotReported(t *testing.T) {
	t.Setenv("JIFEN_DATA_DIR", t.TempDir())
	t.Setenv("JIFEN_CLUSTER_URLS", "http://127.0.0.1:18081")
	t.Setenv("JIFEN_CLUSTER_WRITER_DSN", "root@failover(127.0.0.1:13301)/jifen")
	t.Setenv("JIFEN_STAGING_BIN", "./jifen")
	code, _, errOut := runCLI(t, "migrate")
	if code != 0 {
		t.Fatalf("migrate: exit %d %s", code, errOut)
	}
	if strings.Contains(errOut, "JIFEN_CLUSTER_") || strings.Contains(errOut, "JIFEN_STAGING_") {
		t.Errorf("the operator scripts' variables reported: %s", errOut)
	}
}

func TestVersionReportsModuleVersionAndRevision(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/jifen/jifen", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := versionOf(bi, "", "").String()
	if want := "jifen v1.4.0\nrevision 0123abcd (2026-12-01T10:00:00Z) with uncommitted changes\ngo1.26.8"; got != want {
		t.Errorf("from build info:\n%s\nwant\n%s", got, want)
	}
	// A build without VCS information (the Docker build context has no
	// .git) shows what -ldflags stamped.
	devel := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/jifen/jifen", Version: "(devel)"}}
	if got := versionOf(devel, "v1.5.0", "feedbeef").String(); got != "jifen v1.5.0\nrevision feedbeef\ngo1.26.8" {
		t.Errorf("stamped: %q", got)
	}
	if got := versionOf(devel, "", "").String(); got != "jifen (devel)\nrevision unknown\ngo1.26.8" {
		t.Errorf("nothing known: %q", got)
	}
}

// TestVersionOfABuiltBinaryNamesItsCommit builds jifen from this checkout
// with VCS stamping and checks `jifen version` names HEAD.
func TestVersionOfABuiltBinaryNamesItsCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err == nil && !fi.IsDir() {
		t.Skip("a linked git worktree: the go command stamps VCS information only in a checkout with a .git directory")
	}
	bin := filepath.Join(t.TempDir(), "jifen")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "revision "+strings.TrimSpace(string(head))) {
		t.Fatalf("jifen version does not name HEAD %s:\n%s", head, out)
	}
}

func TestMigrateStatusListsEveryMigration(t *testing.T) {
	migratedDataDir(t)
	code, out, errOut := runCLI(t, "migrate", "status")
	if code != 0 {
		t.Fatalf("migrate status: exit %d %s %s", code, out, errOut)
	}
	if want := fmt.Sprintf("%d migrations, 0 pending", len(schema.All())); !strings.Contains(out, want) {
		t.Fatalf("migrate status does not say %q:\n%s", want, out)
	}
	for _, m := range schema.All() {
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^ *%d  %s +applied 20`, m.Version, regexp.QuoteMeta(m.Name))).MatchString(out) {
			t.Fatalf("migration %d %s not listed as applied:\n%s", m.Version, m.Name, out)
		}
	}
}

// /metrics and /debug/pprof/ answer on server.metrics_addr only: the public
// port has neither, and a taken admin port stops serve naming the key.
func TestMetricsAndProfilesOnTheAdminAddress(t *testing.T) {
	addr, admin := freeAddr(t), freeAddr(t)
	env := jifenEnv("JIFEN_DATA_DIR="+t.TempDir(), "JIFEN_SERVER_ADDR="+addr, "JIFEN_SERVER_METRICS_ADDR="+admin)
	startJifen(t, addr, env, "serve")
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range []string{"/metrics", "/debug/pprof/"} {
		if code, _ := get("http://" + addr + p); code != http.StatusNotFound {
			t.Errorf("public port %s: %d, want 404", p, code)
		}
	}
	if code, body := get("http://" + admin + "/metrics"); code != 200 || !strings.Contains(body, `jifen_http_requests_total{method="GET",route="unmatched",status="404"}`) {
		t.Errorf("admin /metrics: %d, does not count the public 404s:\n%.2000s", code, body)
	}
	if code, body := get("http://" + admin + "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("admin /debug/pprof/: %d %.300s", code, body)
	}
	// A second instance on the same admin port does not start.
	second := exec.Command(os.Args[0], "serve")
	second.Env = jifenEnv("JIFEN_DATA_DIR="+t.TempDir(), "JIFEN_SERVER_ADDR="+freeAddr(t), "JIFEN_SERVER_METRICS_ADDR="+admin)
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "server.metrics_addr") {
		t.Errorf("serve on a taken metrics port: %v %s", err, out)
	}
}

// migratedDataDir points JIFEN_DATA_DIR at a new directory holding a
// migrated embedded database, as `jifen migrate` (or serve) leaves it.
func migratedDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("JIFEN_DATA_DIR", dir)
	var out, errb bytes.Buffer
	if code := run([]string{"migrate"}, &out, &errb); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out.String(), errb.String())
	}
	return dir
}

// A command that reads what serve wrote refuses a data_dir with no
// database in it, names the path, and leaves it empty: it used to make an
// empty database and report it clean.
func TestReadingCommandsRefuseAMissingEmbeddedDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("JIFEN_DATA_DIR", dir)
	for _, args := range [][]string{{"reconcile"}, {"expire"}, {"analytics"}, {"birthdays"}, {"tier-review"}, {"migrate", "status"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 1 || !strings.Contains(errb.String(), filepath.Join(dir, "jifen.db")) {
			t.Errorf("jifen %v in an empty data_dir: exit %d %q %q; want 1 naming the missing database", args, code, out.String(), errb.String())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the commands left %d files in the empty data_dir", len(entries))
	}
	migratedDataDir(t)
	var out, errb bytes.Buffer
	if code := run([]string{"reconcile"}, &out, &errb); code != 0 {
		t.Fatalf("reconcile after migrate: %d %q %q", code, out.String(), errb.String())
	}
}

// A port serve cannot have stops it at once, before the banner and the
// jobs: its one error line names the key and the address, and nothing ran
// against the stores it closed.
func TestServeOnATakenPortStopsNamingItFirst(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	taken := held.Addr().String()
	for _, c := range []struct{ key, env string }{
		{"server.metrics_addr", "JIFEN_SERVER_ADDR=" + freeAddr(t) + "\x00JIFEN_SERVER_METRICS_ADDR=" + taken},
		{"server.addr", "JIFEN_SERVER_ADDR=" + taken + "\x00JIFEN_SERVER_METRICS_ADDR=" + freeAddr(t)},
	} {
		cmd := exec.Command(os.Args[0], "serve")
		cmd.Env = jifenEnv(append([]string{"JIFEN_DATA_DIR=" + t.TempDir()}, strings.Split(c.env, "\x00")...)...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("serve with %s taken: %v, want exit status 1\n%s", c.key, err, out)
			continue
		}
		var errorLines []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if strings.Contains(l, "listening") {
				t.Errorf("serve with %s taken printed %q", c.key, l)
			}
			if strings.Contains(l, `"level":"ERROR"`) {
				errorLines = append(errorLines, l)
			}
		}
		if len(errorLines) != 1 || !strings.Contains(errorLines[0], c.key) || !strings.Contains(errorLines[0], taken) || !strings.Contains(errorLines[0], "address already in use") {
			t.Errorf("serve with %s taken: error lines %q; want one, naming %s and %s\n%s", c.key, errorLines, c.key, taken, out)
		}
	}
}

// Two serves on one embedded data_dir would share the SQLite file but not
// their in-process Redis (cached /me answers, logouts) or simulator: the
// second stops at start, naming the data_dir and the first's pid, before
// it listens. It used to start beside the first.
func TestSecondServeOnOneDataDirStops(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	startJifen(t, addr, jifenEnv("JIFEN_DATA_DIR="+dir, "JIFEN_SERVER_ADDR="+addr), "serve")
	second := exec.Command(os.Args[0], "serve")
	second.Env = jifenEnv("JIFEN_DATA_DIR="+dir, "JIFEN_SERVER_ADDR="+freeAddr(t), "JIFEN_SERVER_METRICS_ADDR="+freeAddr(t))
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = second.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		second.Process.Kill()
		<-done
		t.Fatalf("a second serve on one data_dir was still running after 30s:\n%s", out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("second serve on one data_dir: %v, want exit status 1\n%s", err, out)
	}
	abs, _ := filepath.Abs(dir)
	if s := string(out); !strings.Contains(s, "data_dir "+abs+" is in use by another jifen serve (pid ") || strings.Contains(s, "listening") {
		t.Fatalf("second serve on one data_dir: want one error naming the data_dir and the first's pid, and no listening:\n%s", s)
	}
	// Another data_dir is another embedded service: it starts.
	other := freeAddr(t)
	startJifen(t, other, jifenEnv("JIFEN_DATA_DIR="+t.TempDir(), "JIFEN_SERVER_ADDR="+other), "serve")
}
