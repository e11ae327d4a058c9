package configs

import (
	"reflect"
	"strings"
)

// notConfig are prefixes of JIFEN_* variables that belong to the tests,
// benchmarks and CI scripts, the README's walk-through's JIFEN_URL
// (docs/walkthrough.sh), and the operator scripts' own: scripts/cluster's
// (`eval "$(scripts/cluster env)"` exports JIFEN_CLUSTER_* into the shell
// that then runs jifen) and scripts/staging.sh's JIFEN_STAGING_*; not the
// service's configuration.
var notConfig = []string{"JIFEN_TEST_", "JIFEN_BENCH_", "JIFEN_CI_", "JIFEN_URL", "JIFEN_CLUSTER_", "JIFEN_STAGING_"}

// UnknownVar is a JIFEN_* environment variable that sets no key, with the
// closest variable that would (Suggest, empty when none is close).
type UnknownVar struct {
	Name    string
	Suggest string
}

// EnvNames lists the environment variable of every configuration key, in
// the order of the Config struct.
func EnvNames() []string {
	var names []string
	walk(reflect.ValueOf(&Config{}).Elem(), "", func(key string, _ reflect.Value) error {
		names = append(names, envName(key))
		return nil
	})
	return names
}

// envName is the variable that overrides key: wechat.mini.appid →
// JIFEN_WECHAT_MINI_APPID.
func envName(key string) string {
	return "JIFEN_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// UnknownEnv returns the JIFEN_* variables of environ (os.Environ form)
// that no key reads, so a typo such as JIFEN_SERVR_ADDR is reported
// instead of silently ignored.
func UnknownEnv(environ []string) []UnknownVar {
	known := map[string]bool{}
	names := EnvNames()
	for _, n := range names {
		known[n] = true
	}
	var out []UnknownVar
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "JIFEN_") || known[name] || ignored(name) {
			continue
		}
		u := UnknownVar{Name: name}
		best := len(name)/4 + 1 // closer than this, or no suggestion
		for _, n := range names {
			if d := distance(name, n); d < best {
				best, u.Suggest = d, n
			}
		}
		out = append(out, u)
	}
	return out
}

func ignored(name string) bool {
	for _, p := range notConfig {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// distance is the Levenshtein edit distance of a and b (bytes: the names
// are ASCII).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
