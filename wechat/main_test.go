package wechat

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/wechat/sim"
)

// The SDK's HTTP client is process-global, so every test of the package
// talks to this one simulator, and tests do not run in parallel.
var (
	simServer *sim.Server
	simURL    string
	appSeq    atomic.Int64
)

func TestMain(m *testing.M) {
	simServer = sim.New(nil)
	srv := httptest.NewServer(simServer)
	simURL = srv.URL
	if err := UseSimulator(srv.URL); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// newCache returns a RedisCache over a fresh miniredis.
func newCache(t *testing.T) (*RedisCache, *miniredis.Miniredis) {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return NewRedisCache(rdb, "jifen:wechat:"), mr
}

// newMini returns a mini-program with an appid no other test uses, so its
// calls can be told apart in the simulator's record.
func newMini(t *testing.T, opts ...Option) (*MiniProgram, string) {
	t.Helper()
	c, _ := newCache(t)
	appID := fmt.Sprintf("wxtest%d", appSeq.Add(1))
	return NewMiniProgram(appID, "the-app-secret", c, opts...), appID
}

// control calls a simulator control endpoint over HTTP, as an operator would.
func control(t *testing.T, method, path, body string) {
	t.Helper()
	req, err := http.NewRequest(method, simURL+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s %s: HTTP %d", method, path, body, resp.StatusCode)
	}
}

// fault queues a simulator fault and clears all faults when the test ends.
func fault(t *testing.T, f string) {
	t.Helper()
	control(t, "POST", "/_sim/faults", f)
	t.Cleanup(func() { simServer.ClearFaults() })
}

// calls returns the simulator's calls of api whose param key is value.
func calls(api, key, value string) []sim.Call {
	var out []sim.Call
	for _, c := range simServer.Calls(api) {
		if c.Params[key] == value {
			out = append(out, c)
		}
	}
	return out
}
