// Package loadgen drives a running Jifen over HTTP the way its clients do:
// shoppers logged in through the WeChat simulator and holding their tokens,
// a console user, and the order system's signed webhook. `jifen loadtest`
// measures scenarios with it; it reports operations per second, latency
// percentiles and the answers' statuses.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jifen/jifen/bff/hooks"
)

// Target is a running service.
type Target struct {
	URL           string // base URL, e.g. http://127.0.0.1:8080
	WebhookSecret string // orders.webhook_secret, to sign order events
	HTTP          *http.Client
}

// NewTarget returns a target whose client keeps enough idle connections
// for the load it will carry.
func NewTarget(url, webhookSecret string, conns int) *Target {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns * 2
	tr.MaxIdleConnsPerHost = conns * 2
	return &Target{URL: url, WebhookSecret: webhookSecret, HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Request is one HTTP call.
type Request struct {
	Method, Path string
	Body         any // marshalled as JSON; nil sends no body
	Bearer       string
	Idempotency  string
	Signed       bool // an order-system call: HMAC-signed body
}

// Do sends r and returns the status and body (status 0 on a transport error).
func (t *Target) Do(ctx context.Context, r Request) (int, []byte, error) {
	var body []byte
	if r.Body != nil {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return 0, nil, err
		}
		body = b
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, t.URL+r.Path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.Bearer)
	}
	if r.Idempotency != "" {
		req.Header.Set("Idempotency-Key", r.Idempotency)
	}
	if r.Signed {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("X-Jifen-Timestamp", ts)
		req.Header.Set("X-Jifen-Signature", hooks.Sign([]byte(t.WebhookSecret), ts, body))
	}
	resp, err := t.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// JSON sends r, requires a 2xx answer and decodes it into out (if not nil).
func (t *Target) JSON(ctx context.Context, r Request, out any) error {
	st, b, err := t.Do(ctx, r)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	if st/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", r.Method, r.Path, st, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// Shopper is a logged-in member.
type Shopper struct {
	ID     int64
	OpenID string
	Token  string
}

// LoginCode is the simulator's login code for WeChat user `user` (each code
// works once, as WeChat's do).
func LoginCode(user string) string { return "sim:" + user + ":1" }

// Login logs one shopper in through the simulator.
func (t *Target) Login(ctx context.Context, user string) (Shopper, error) {
	var out struct {
		AccessToken string `json:"access_token"`
		Member      struct {
			ID int64 `json:"id"`
		} `json:"member"`
	}
	err := t.JSON(ctx, Request{Method: "POST", Path: "/api/v1/shopper/login", Body: map[string]string{"code": LoginCode(user)}}, &out)
	return Shopper{ID: out.Member.ID, OpenID: "sim-openid-" + user, Token: out.AccessToken}, err
}

// LoginMany logs in n shoppers named prefix-0 … prefix-(n-1), conns at a time.
func (t *Target) LoginMany(ctx context.Context, prefix string, n, conns int) ([]Shopper, error) {
	out := make([]Shopper, n)
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range max(1, conns) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				s, err := t.Login(ctx, fmt.Sprintf("%s-%d", prefix, i))
				if err != nil {
					once.Do(func() { first = err })
					return
				}
				out[i] = s
			}
		}()
	}
	wg.Wait()
	return out, first
}

// ConsoleLogin returns a console access token.
func (t *Target) ConsoleLogin(ctx context.Context, user, password string) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	err := t.JSON(ctx, Request{Method: "POST", Path: "/api/v1/console/login", Body: map[string]string{"username": user, "password": password}}, &out)
	return out.AccessToken, err
}

// Result is what one measured run did.
type Result struct {
	Name     string
	Clients  int
	Ops      int64 // answers counted as done (see Measure)
	Elapsed  time.Duration
	P50, P99 time.Duration
	Statuses map[int]int64 // every answer by status; 0 = transport error
}

// PerSecond is the rate of counted operations.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// Op runs operation number i on behalf of client w and returns the answer's
// status (0 for a transport error); done reports whether it counts as an
// operation (e.g. a 2xx), and stop ends the run early (e.g. the members it
// needs are used up).
type Op func(ctx context.Context, w int, i int64) (status int, done, stop bool)

// Measure runs op from `clients` goroutines until d has passed or an op
// asks to stop, and times each call.
func Measure(ctx context.Context, name string, clients int, d time.Duration, op Op) Result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var next, ops atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int64{}
	var lat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[int]int64{}
			var mine []time.Duration
			defer func() {
				mu.Lock()
				for k, v := range local {
					statuses[k] += v
				}
				lat = append(lat, mine...)
				mu.Unlock()
			}()
			for ctx.Err() == nil {
				t0 := time.Now()
				st, done, stop := op(ctx, w, next.Add(1)-1)
				if ctx.Err() != nil && st == 0 {
					return // cut off by the end of the run, not an error
				}
				if stop && !done {
					cancel() // nothing was sent: the op has run out of work
					return
				}
				mine = append(mine, time.Since(t0))
				local[st]++
				if done {
					ops.Add(1)
				}
				if stop {
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	r := Result{Name: name, Clients: clients, Ops: ops.Load(), Elapsed: time.Since(start), Statuses: statuses}
	slices.Sort(lat)
	r.P50, r.P99 = percentile(lat, 50), percentile(lat, 99)
	return r
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
