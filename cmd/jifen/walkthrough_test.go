package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the jifen binary: a child
// started with JIFEN_TEST_RUN_MAIN=1 runs main() with its arguments, so the
// walk-through talks to a real `jifen serve` process and runs a real
// `jifen reconcile`, without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("JIFEN_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// needTools skips when a tool the test needs is missing on a developer's
// machine, and fails in CI (CI=true or a JIFEN_TEST_* backend set), where
// the environment must provide it.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" || os.Getenv("JIFEN_TEST_MYSQL_DSN") != "" || os.Getenv("JIFEN_TEST_REDIS_ADDR") != "" {
		t.Fatalf("CI needs %s on PATH for this test", strings.Join(missing, ", "))
	}
	t.Skipf("needs %s on PATH", strings.Join(missing, ", "))
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// jifenEnv is the environment of a child jifen process: this process's,
// without any JIFEN_* setting (a developer's own must not leak in), plus
// extra.
func jifenEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JIFEN_") {
			env = append(env, kv)
		}
	}
	return append(append(env, "JIFEN_TEST_RUN_MAIN=1"), extra...)
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

// startJifen starts `jifen args…` as a child process with env and waits
// until it answers /healthz on addr. The process gets SIGTERM when the test
// ends; its output is logged when the test fails.
func startJifen(t *testing.T, addr string, env []string, args ...string) {
	t.Helper()
	if !hasEnv(env, "JIFEN_SERVER_METRICS_ADDR") {
		// Tests start several instances at once: each its own admin port.
		env = append(env, "JIFEN_SERVER_METRICS_ADDR="+freeAddr(t))
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when the process has ended
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("jifen %s output:\n%s", strings.Join(args, " "), out.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("jifen %s exited before answering: %v\n%s", strings.Join(args, " "), waitErr, out.String())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("jifen %s did not answer /healthz on %s within 60s", strings.Join(args, " "), addr)
}

// TestWalkthroughRunsOnAFreshEmbeddedServer runs docs/walkthrough.sh, the
// README's walk-through, with bash, curl and jq against a fresh embedded
// `jifen serve` in a temporary directory.
func TestWalkthroughRunsOnAFreshEmbeddedServer(t *testing.T) {
	needTools(t, "bash", "curl", "jq", "openssl")
	addr := freeAddr(t)
	env := jifenEnv("JIFEN_DATA_DIR="+t.TempDir(), "JIFEN_SERVER_ADDR="+addr)
	startJifen(t, addr, env, "serve")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	script, err := filepath.Abs("../../docs/walkthrough.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Env = append(env, "JIFEN_URL=http://"+addr, "JIFEN="+os.Args[0])
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n%s", err, out)
	}
	// The last step is reconcile: every account checked, none drifting.
	if !regexp.MustCompile(`reconcile: [1-9][0-9]* accounts checked, 0 with drift`).Match(out) {
		t.Fatalf("walkthrough did not end with a clean reconcile:\n%s", out)
	}
	// The campaign was dispatched: the simulator delivered Alice's reminder.
	if !bytes.Contains(out, []byte(`"api":"subscribe_send"`)) {
		t.Fatalf("the campaign delivered nothing:\n%s", out)
	}
}

// walkthroughSections returns the script's "# --- name" sections (the
// setup section included), each without its marker line: the blocks the
// README shows. "# +++ name" sections end the one before them and are left
// out.
func walkthroughSections(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/walkthrough.sh")
	if err != nil {
		t.Fatal(err)
	}
	marker := regexp.MustCompile(`(?m)^# (---|\+\+\+) .*\n`)
	text := string(b)
	marks := marker.FindAllStringSubmatchIndex(text, -1)
	if len(marks) == 0 {
		t.Fatal("docs/walkthrough.sh has no '# --- ' sections")
	}
	var secs []string
	for i, m := range marks {
		end := len(text)
		if i+1 < len(marks) {
			end = marks[i+1][0]
		}
		if text[m[2]:m[3]] == "---" { // "+++" sections run in the script only
			secs = append(secs, strings.TrimSpace(text[m[1]:end]))
		}
	}
	return secs
}

// readmeSection returns the README's "## <heading>…" section, up to the
// next "## " heading.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "\n## "+heading)
	if start < 0 {
		t.Fatalf("README.md has no '## %s' section", heading)
	}
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	return section
}

// readmeWalkthroughBlocks returns the sh code blocks of the README's
// "Walk-through" section.
func readmeWalkthroughBlocks(t *testing.T) []string {
	t.Helper()
	section := readmeSection(t, "Walk-through")
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, strings.TrimSpace(m[1]))
	}
	return blocks
}

// TestReadmeWalkthroughIsTheScript: the README shows exactly the script's
// sections, in order, so what a reader copies is what CI runs.
func TestReadmeWalkthroughIsTheScript(t *testing.T) {
	secs, blocks := walkthroughSections(t), readmeWalkthroughBlocks(t)
	if len(secs) != len(blocks) {
		t.Fatalf("docs/walkthrough.sh has %d sections, the README's walk-through %d sh blocks", len(secs), len(blocks))
	}
	for i := range secs {
		if secs[i] != blocks[i] {
			t.Errorf("README walk-through block %d differs from docs/walkthrough.sh section %d:\n--- script\n%s\n--- README\n%s", i+1, i+1, secs[i], blocks[i])
		}
	}
}
