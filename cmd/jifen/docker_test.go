package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/jifen/jifen/configs"
)

// checkJifenCommand fails the test unless args (a command line without
// the binary) parse as a jifen command: known command, its own flags, no
// stray arguments.
func checkJifenCommand(t *testing.T, where string, args []string) {
	t.Helper()
	root := newRoot(&bytes.Buffer{}, &bytes.Buffer{})
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: %q is not a jifen command (%v)", where, args, err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: %q: %v", where, args, err)
		return
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Errorf("%s: %q: %v", where, args, err)
	}
}

// checkEnvKeys fails the test for every JIFEN_* name of env that is not
// a configuration key.
func checkEnvKeys(t *testing.T, where string, env map[string]string) {
	t.Helper()
	known := map[string]bool{}
	for _, n := range configs.EnvNames() {
		known[n] = true
	}
	for k := range env {
		if strings.HasPrefix(k, "JIFEN_") && !known[k] {
			t.Errorf("%s sets %s, which is not a configuration key", where, k)
		}
	}
}

func environ(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// TestComposeFile: docker-compose.yaml parses, has the services the stack
// needs, every JIFEN_* key it sets is a configuration key and together they
// make a valid production configuration, and every jifen command it runs is
// a real one. (No Docker engine here: this is what can be checked without.)
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
		} `yaml:"services"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(false)
	if err := dec.Decode(&compose); err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	if img := compose.Services["mariadb"].Image; img != "mariadb:10.11" {
		t.Errorf("mariadb image %q, want mariadb:10.11", img)
	}
	if img := compose.Services["redis"].Image; !strings.HasPrefix(img, "redis:7") {
		t.Errorf("redis image %q, want redis:7", img)
	}
	var serves []string
	jifenCommands := map[string]int{}
	for name, s := range compose.Services {
		if s.Build == nil {
			continue
		}
		where := "docker-compose.yaml service " + name
		if len(s.Command) == 0 {
			t.Errorf("%s: no command", where)
			continue
		}
		checkJifenCommand(t, where, s.Command)
		jifenCommands[s.Command[0]]++
		if s.Command[0] == "serve" {
			serves = append(serves, name)
			if s.DependsOn["migrate"].Condition != "service_completed_successfully" {
				t.Errorf("%s starts before migrate completes", where)
			}
		}
		if hc := s.Healthcheck.Test; len(hc) > 2 && hc[0] == "CMD" && hc[1] == "/jifen" {
			checkJifenCommand(t, where+" healthcheck", hc[2:])
		}
		checkEnvKeys(t, where, s.Environment)
		if _, err := configs.Load("", environ(s.Environment)); err != nil {
			t.Errorf("%s: its environment is not a valid configuration: %v", where, err)
		}
		if s.Environment["JIFEN_MYSQL_DSN"] == "" {
			t.Errorf("%s does not run on MariaDB", where)
		}
	}
	if jifenCommands["serve"] != 2 || jifenCommands["migrate"] != 1 || jifenCommands["wechat-sim"] != 1 {
		t.Errorf("want serve twice, migrate and wechat-sim once; got %v", jifenCommands)
	}
}

// dockerfile reads the Dockerfile's ENV settings and the JSON-form
// instructions (ENTRYPOINT, CMD, HEALTHCHECK … CMD, VOLUME).
func dockerfile(t *testing.T) (env map[string]string, instr map[string][]string) {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines, drop comments.
	var lines []string
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		lines = append(lines, cur+l)
		cur = ""
	}
	env, instr = map[string]string{}, map[string][]string{}
	for _, l := range lines {
		word, rest, _ := strings.Cut(l, " ")
		switch word {
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		case "ENTRYPOINT", "CMD", "VOLUME", "HEALTHCHECK":
			if word == "HEALTHCHECK" {
				_, rest, _ = strings.Cut(rest, " CMD ")
			}
			var args []string
			if err := json.Unmarshal([]byte(rest), &args); err != nil {
				t.Fatalf("Dockerfile %s is not in JSON form: %s", word, l)
			}
			instr[word] = args
		}
	}
	return env, instr
}

func TestDockerfile(t *testing.T) {
	env, instr := dockerfile(t)
	checkEnvKeys(t, "Dockerfile ENV", env)
	if got := instr["ENTRYPOINT"]; len(got) != 1 || got[0] != "/jifen" {
		t.Errorf("ENTRYPOINT %q, want [/jifen]", got)
	}
	checkJifenCommand(t, "Dockerfile CMD", instr["CMD"])
	if got := instr["CMD"]; len(got) != 1 || got[0] != "serve" {
		t.Errorf("CMD %q, want [serve]", got)
	}
	if hc := instr["HEALTHCHECK"]; len(hc) < 2 || hc[0] != "/jifen" || hc[1] != "healthcheck" {
		t.Errorf("HEALTHCHECK %q, want /jifen healthcheck", hc)
	}
	if v := instr["VOLUME"]; len(v) != 1 || v[0] != env["JIFEN_DATA_DIR"] {
		t.Errorf("VOLUME %q is not the data folder %q", v, env["JIFEN_DATA_DIR"])
	}
	if _, err := configs.Load("", environ(env)); err != nil {
		t.Errorf("the image's environment is not a valid configuration: %v", err)
	}
}

// TestContainerEnvironmentHidesDemoUsersAndSimulator starts serve with the
// Dockerfile's environment: shoppers still log in through the in-process
// simulator, but neither the demo console users nor /_sim/ are reachable.
// With the two settings turned back on, both are.
func TestContainerEnvironmentHidesDemoUsersAndSimulator(t *testing.T) {
	needTools(t, "curl")
	env, _ := dockerfile(t)
	for _, exposed := range []bool{false, true} {
		addr := freeAddr(t)
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		e["JIFEN_DATA_DIR"] = t.TempDir()
		e["JIFEN_SERVER_ADDR"] = addr
		if exposed {
			e["JIFEN_CONSOLE_DEMO_USERS"], e["JIFEN_WECHAT_SIMULATOR_ROUTES"] = "true", "true"
		}
		startJifen(t, addr, jifenEnv(environ(e)...), "serve")
		status := func(method, path, body string) string {
			out, err := exec.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method,
				"-H", "Content-Type: application/json", "-d", body, "http://"+addr+path).Output()
			if err != nil {
				t.Fatalf("curl %s: %v", path, err)
			}
			return string(out)
		}
		if got := status("POST", "/api/v1/shopper/login", `{"code":"sim:dora:1"}`); got != "200" {
			t.Errorf("exposed=%v: shopper login through the simulator: %s", exposed, got)
		}
		want := map[bool][2]string{false: {"404", "401"}, true: {"200", "200"}}[exposed]
		if got := status("GET", "/_sim/calls", ""); got != want[0] {
			t.Errorf("exposed=%v: GET /_sim/calls = %s, want %s", exposed, got, want[0])
		}
		if got := status("POST", "/api/v1/console/login", `{"username":"admin","password":"admin123"}`); got != want[1] {
			t.Errorf("exposed=%v: demo admin login = %s, want %s", exposed, got, want[1])
		}
	}
}
