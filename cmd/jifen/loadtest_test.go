package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLoadtestMeasuresEveryScenario runs `jifen loadtest` briefly against a
// fresh embedded serve with its rate limits raised: every scenario does
// work, its answers are the expected 2xx (no 4xx/5xx), and the write and
// read scenarios carry a ratio to their baseline.
func TestLoadtestMeasuresEveryScenario(t *testing.T) {
	addr := freeAddr(t)
	env := jifenEnv("JIFEN_DATA_DIR="+t.TempDir(), "JIFEN_SERVER_ADDR="+addr,
		"JIFEN_RATE_LIMIT_PER_IP_PER_MINUTE=100000000", "JIFEN_RATE_LIMIT_PER_MEMBER_PER_MINUTE=100000000")
	startJifen(t, addr, env, "serve")

	// The hello-world runs as a process of its own: this test binary,
	// standing in for jifen (TestMain).
	t.Setenv("JIFEN_TEST_RUN_MAIN", "1")
	var out bytes.Buffer
	err := runLoadtest(context.Background(), &out, loadOptions{
		url: "http://" + addr, console: "admin:admin123", webhookSecret: "jifen-dev-webhook-secret-NOT-FOR-PRODUCTION",
		scenarios: strings.Join(loadScenarios, ","), clients: "2", duration: 700 * time.Millisecond, members: 5, hotLots: 3,
	})
	if err != nil {
		t.Fatalf("loadtest: %v\n%s", err, out.String())
	}
	row := regexp.MustCompile(`(?m)^(\S+)\s+2\s+(\d+)\s+\S+\s+\S+\s+(-|[0-9.]+× (hello|raw))\s+(.*)$`)
	seen := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(out.String(), -1) {
		name, ops, ratio, answers := m[1], m[2], m[3], m[5]
		seen[name] = true
		if n, _ := strconv.Atoi(ops); n <= 0 {
			t.Errorf("%s did no work: %s", name, m[0])
		}
		if regexp.MustCompile(`(^| )(0|[345]\d\d)×`).MatchString(answers) {
			t.Errorf("%s got answers other than 2xx: %s", name, answers)
		}
		if (name == "hello" || name == "raw") != (ratio == "-") {
			t.Errorf("%s: ratio %q (baselines have none, the rest have one)", name, ratio)
		}
	}
	for _, s := range loadScenarios {
		if !seen[s] {
			t.Errorf("no row for scenario %s in:\n%s", s, out.String())
		}
	}
	// Each ratio's baseline was measured again beside its scenario.
	if !regexp.MustCompile(`ratios are to the baseline measured just before each scenario \(hello at 2 \d+–\d+/s; raw at 2 \d+–\d+/s\)`).MatchString(out.String()) {
		t.Errorf("no spread of the adjacent baselines in:\n%s", out.String())
	}
	if t.Failed() {
		t.Log(out.String())
	}
}

func TestLoadtestRefusesBadFlags(t *testing.T) {
	for _, o := range []loadOptions{
		{clients: "0", scenarios: "me", members: 1, console: "a:b"},
		{clients: "4", scenarios: "me,nope", members: 1, console: "a:b"},
		{clients: "4", scenarios: "me", members: 0, console: "a:b"},
		{clients: "4", scenarios: "me", members: 1, console: "nocolon"},
		{clients: "4", scenarios: "me", members: 1, console: "a:b", hotLots: 100_001},
		{clients: "4", scenarios: "hello", members: 1, console: "a:b", hello: "elsewhere"},
	} {
		var out bytes.Buffer
		if err := runLoadtest(context.Background(), &out, o); err == nil {
			t.Errorf("%+v: accepted", o)
		}
	}
}
