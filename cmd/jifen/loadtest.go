package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jifen/jifen/cmd/jifen/loadgen"
	"github.com/jifen/jifen/repo"
)

// The scenarios of `jifen loadtest`, in the order they run. hello and raw
// are the baselines the others are compared with: a Gin hello-world served
// by this process, and single-row autocommit INSERTs on the database.
var loadScenarios = []string{"hello", "raw", "me", "login", "signin", "order", "adjust", "hot-adjust", "draw", "hot-draw"}

type loadOptions struct {
	url, console, webhookSecret, rawDSN string
	scenarios                           string
	clients                             string
	duration                            time.Duration
	members                             int
	hotLots                             int
	// hello is where the hello-world baseline runs: "process" (its own,
	// as serve is: exe hello-world, exe defaulting to this executable)
	// or "inline" (in this process, sharing its runtime with the clients).
	hello, exe string
}

func (c *cli) loadtestCmd() *cobra.Command {
	var o loadOptions
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Measure a running serve over HTTP: ops/s, p50/p99 and ratios to a Gin hello-world and raw commits",
		Long: `loadtest drives a running jifen serve over HTTP as its clients do: shoppers
logged in through the WeChat simulator (so the server needs wechat.simulator),
a console user and the signed order webhook. Each scenario runs at each client
count beside two baselines measured in the same run: a Gin hello-world (for
reads), a server process of its own as serve is (--hello inline serves it from
this process instead), and single-row autocommit INSERTs on the database (for
writes). Each ratio is to its baseline measured again, for half the
duration, just before the scenario; the line under the table gives their
spread. Raise the server's rate limits first, or most answers are 429:

  JIFEN_RATE_LIMIT_PER_IP_PER_MINUTE=100000000 \
  JIFEN_RATE_LIMIT_PER_MEMBER_PER_MINUTE=100000000 jifen serve

Scenarios: ` + strings.Join(loadScenarios, ", ") + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := c.config()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("webhook-secret") {
				o.webhookSecret = string(cfg.Orders.WebhookSecret)
			}
			if !cmd.Flags().Changed("raw-dsn") {
				o.rawDSN = string(cfg.MySQL.DSN)
			}
			if err := runLoadtest(cmd.Context(), c.stdout, o); err != nil {
				fmt.Fprintln(c.stderr, "jifen loadtest:", err)
				return exitCode(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base `URL` of the running serve")
	f.StringVar(&o.console, "console", "admin:admin123", "console `user:password` (an admin or marketer)")
	f.StringVar(&o.webhookSecret, "webhook-secret", "", "orders.webhook_secret of the server (default: this configuration's)")
	f.StringVar(&o.rawDSN, "raw-dsn", "", "MySQL `DSN` for the raw-commit baseline (default: this configuration's mysql.dsn; none: a SQLite file like the embedded default's)")
	f.StringVar(&o.scenarios, "scenarios", strings.Join(loadScenarios, ","), "comma-separated `list` of scenarios")
	f.StringVar(&o.clients, "clients", "16,64", "comma-separated client `counts`")
	f.DurationVar(&o.duration, "duration", 10*time.Second, "how long each scenario runs at each client count")
	f.IntVar(&o.members, "members", 200, "shoppers logged in for the member scenarios")
	f.StringVar(&o.hello, "hello", "process", "where the hello-world baseline runs: `process` (a server process of its own, as serve is) or inline (in the load generator's process, the method of the figures before 2026-12-07 13:00 UTC)")
	f.IntVar(&o.hotLots, "hot-lots", 1, "lots the hot member's points come in (hot-adjust, hot-draw): 1,000 checks that one member's spends stay as fast with many lots")
	return cmd
}

// loadRun is the state the scenarios share.
type loadRun struct {
	t         *loadgen.Target
	run       string // makes names unique per run
	console   string // console token
	shoppers  []loadgen.Shopper
	lottery   int64
	hello     string // base URL of the hello-world
	stopHello func() // ends the hello-world's process
	raw       *repo.DB
	rawDir    string // the SQLite baseline's folder, removed at the end
}

func runLoadtest(ctx context.Context, out io.Writer, o loadOptions) error {
	var clients []int
	for _, s := range strings.Split(o.clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 4096 {
			return fmt.Errorf("--clients: %q is not a count between 1 and 4096", s)
		}
		clients = append(clients, n)
	}
	var scenarios []string
	for _, s := range strings.Split(o.scenarios, ",") {
		s = strings.TrimSpace(s)
		if !contains(loadScenarios, s) {
			return fmt.Errorf("--scenarios: unknown scenario %q (known: %s)", s, strings.Join(loadScenarios, ", "))
		}
		scenarios = append(scenarios, s)
	}
	if o.hotLots < 0 || o.hotLots > 100_000 {
		return fmt.Errorf("--hot-lots must be at most 100000 (0 or 1: one lot)")
	}
	if o.members < 1 {
		return fmt.Errorf("--members must be at least 1")
	}
	switch o.hello {
	case "", "process", "inline":
	default:
		return fmt.Errorf("--hello: want process or inline, not %q", o.hello)
	}
	user, pass, ok := strings.Cut(o.console, ":")
	if !ok {
		return fmt.Errorf("--console: want user:password")
	}
	maxClients := clients[0]
	for _, n := range clients {
		maxClients = max(maxClients, n)
	}
	r := &loadRun{t: loadgen.NewTarget(strings.TrimRight(o.url, "/"), o.webhookSecret, maxClients), run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	defer r.close()
	if err := r.setup(ctx, user, pass, o, scenarios); err != nil {
		return err
	}

	var results []loadgen.Result
	// A scenario's ratio is to its baseline measured just before it, for
	// half the duration: on a shared machine the baselines drift by half
	// within minutes, and a baseline from the start of the run would
	// carry that drift into every ratio.
	adjacent := map[int]float64{}     // result index → baseline ops/s
	spread := map[string][2]float64{} // baseline at a client count → lowest, highest
	measureBase := func(b string, n int) (float64, error) {
		op, err := r.op(ctx, b, n, o.duration)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", b, err)
		}
		v := loadgen.Measure(ctx, b, n, max(o.duration/2, 200*time.Millisecond), op).PerSecond()
		k := b + " at " + strconv.Itoa(n)
		lo, hi := spread[k][0], spread[k][1]
		if lo == 0 || v < lo {
			lo = v
		}
		spread[k] = [2]float64{lo, max(hi, v)}
		return v, nil
	}
	for _, n := range clients {
		for _, s := range scenarios {
			b := baselineOf(s)
			var before float64
			if s != "hello" && s != "raw" && contains(scenarios, b) {
				var err error
				if before, err = measureBase(b, n); err != nil {
					return err
				}
			}
			op, err := r.op(ctx, s, n, o.duration)
			if err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
			res := loadgen.Measure(ctx, s, n, o.duration, op)
			if before > 0 {
				adjacent[len(results)] = before
			}
			results = append(results, res)
		}
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "scenario\tclients\tops/s\tp50\tp99\tratio\tanswers")
	for i, res := range results {
		ratio := "-"
		if b := adjacent[i]; b > 0 {
			ratio = fmt.Sprintf("%.2f× %s", res.PerSecond()/b, baselineOf(res.Name))
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\n", res.Name, res.Clients, res.PerSecond(),
			res.P50.Round(10*time.Microsecond), res.P99.Round(10*time.Microsecond), ratio, statusLine(res.Statuses))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(spread) > 0 {
		keys := make([]string, 0, len(spread))
		for k := range spread {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %.0f–%.0f/s", k, spread[k][0], spread[k][1])
		}
		fmt.Fprintf(out, "ratios are to the baseline measured just before each scenario (%s)\n", strings.Join(parts, "; "))
	}
	for _, res := range results {
		if res.Statuses[http.StatusTooManyRequests] > 0 {
			fmt.Fprintln(out, "note: some answers were 429: raise the server's rate_limit.per_ip_per_minute and per_member_per_minute (see --help)")
			break
		}
	}
	return nil
}

// baselineOf names what a scenario is compared with: reads with the
// hello-world, writes with raw commits.
func baselineOf(scenario string) string {
	if scenario == "me" {
		return "hello"
	}
	return "raw"
}

func statusLine(m map[int]int64) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "transport error"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, m[k]))
	}
	return strings.Join(parts, " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *loadRun) setup(ctx context.Context, user, pass string, o loadOptions, scenarios []string) error {
	if contains(scenarios, "hello") && o.hello == "inline" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		go http.Serve(ln, helloEngine()) //nolint:errcheck // ends with the process
		r.hello = "http://" + ln.Addr().String()
	} else if contains(scenarios, "hello") {
		exe := o.exe
		if exe == "" {
			var err error
			if exe, err = os.Executable(); err != nil {
				return fmt.Errorf("hello-world: %w", err)
			}
		}
		url, stop, err := startHelloWorld(exe)
		if err != nil {
			return err
		}
		r.hello, r.stopHello = url, stop
	}
	if contains(scenarios, "raw") {
		var err error
		if o.rawDSN != "" {
			r.raw, err = repo.OpenMySQL(o.rawDSN)
		} else {
			if r.rawDir, err = os.MkdirTemp("", "jifen-loadtest-"); err != nil {
				return err
			}
			r.raw, err = repo.OpenSQLite(filepath.Join(r.rawDir, "raw.db"))
		}
		if err != nil {
			return fmt.Errorf("raw baseline: %w", err)
		}
		if err := r.raw.Conn(ctx).Exec("CREATE TABLE IF NOT EXISTS jifen_loadtest_raw (id INTEGER PRIMARY KEY AUTO_INCREMENT, v BIGINT NOT NULL)").Error; err != nil {
			// SQLite spells it AUTOINCREMENT.
			if err := r.raw.Conn(ctx).Exec("CREATE TABLE IF NOT EXISTS jifen_loadtest_raw (id INTEGER PRIMARY KEY AUTOINCREMENT, v BIGINT NOT NULL)").Error; err != nil {
				return fmt.Errorf("raw baseline table: %w", err)
			}
		}
	}
	needs := func(names ...string) bool {
		for _, n := range names {
			if contains(scenarios, n) {
				return true
			}
		}
		return false
	}
	if !needs("me", "order", "adjust", "hot-adjust", "draw", "hot-draw") {
		return nil
	}
	var err error
	if r.console, err = r.t.ConsoleLogin(ctx, user, pass); err != nil {
		return fmt.Errorf("console login (--console): %w", err)
	}
	if r.shoppers, err = r.t.LoginMany(ctx, "lt-"+r.run, o.members, 16); err != nil {
		return fmt.Errorf("shopper logins (is the server's WeChat the simulator, and its rate limit raised?): %w", err)
	}
	if needs("draw", "hot-draw", "hot-adjust") {
		// Points to spend: plenty for every shopper, a fortune for the hot
		// one, in --hot-lots lots (one console credit each).
		for i, s := range r.shoppers {
			delta, lots := 100_000, 1
			if i == 0 {
				lots = max(o.hotLots, 1)
				delta = 100_000_000 / lots
			}
			err := forEach(ctx, lots, 16, func(ctx context.Context, k int) error {
				return r.t.JSON(ctx, loadgen.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/console/members/%d/adjustments", s.ID),
					Bearer: r.console, Idempotency: fmt.Sprintf("lt-%s-seed-%d-%d", r.run, s.ID, k),
					Body: map[string]any{"delta": delta, "reason": "loadtest"}}, nil)
			})
			if err != nil {
				return fmt.Errorf("seed points: %w", err)
			}
		}
	}
	if needs("draw", "hot-draw") {
		now := time.Now()
		var out struct {
			Campaign struct {
				ID int64 `json:"id"`
			} `json:"campaign"`
		}
		if err := r.t.JSON(ctx, loadgen.Request{Method: "POST", Path: "/api/v1/console/lottery/campaigns", Bearer: r.console,
			Body: map[string]any{"name": "loadtest " + r.run, "starts_at": now.Add(-time.Hour).UTC().Format(time.RFC3339),
				"ends_at": now.Add(24 * time.Hour).UTC().Format(time.RFC3339), "cost_points": 1, "free_per_day": 0, "limit_daily": 0,
				"prizes": []map[string]any{
					{"name": "1积分", "kind": "points", "points": 1, "weight": 10, "stock": 10_000_000},
					{"name": "谢谢参与", "kind": "nothing", "weight": 90}}}}, &out); err != nil {
			return fmt.Errorf("lottery campaign: %w", err)
		}
		r.lottery = out.Campaign.ID
	}
	return nil
}

func (r *loadRun) close() {
	if r.stopHello != nil {
		r.stopHello()
	}
	if r.raw != nil {
		_ = r.raw.Conn(context.Background()).Exec("DROP TABLE IF EXISTS jifen_loadtest_raw").Error
		_ = r.raw.Close()
	}
	if r.rawDir != "" {
		_ = os.RemoveAll(r.rawDir)
	}
}

// op returns the operation of one scenario at one client count.
func (r *loadRun) op(ctx context.Context, scenario string, clients int, d time.Duration) (loadgen.Op, error) {
	t := r.t
	prefix := fmt.Sprintf("lt-%s-%s-%d", r.run, scenario, clients)
	ok := func(st int) bool { return st/100 == 2 }
	call := func(ctx context.Context, req loadgen.Request) int {
		st, _, _ := t.Do(ctx, req)
		return st
	}
	shopper := func(i int64) loadgen.Shopper { return r.shoppers[i%int64(len(r.shoppers))] }
	switch scenario {
	case "hello":
		hello := &loadgen.Target{URL: r.hello, HTTP: t.HTTP}
		return func(ctx context.Context, _ int, _ int64) (int, bool, bool) {
			st, _, _ := hello.Do(ctx, loadgen.Request{Method: "GET", Path: "/hello"})
			return st, st == 200, false
		}, nil
	case "raw":
		return func(ctx context.Context, _ int, i int64) (int, bool, bool) {
			if err := r.raw.Conn(ctx).Exec("INSERT INTO jifen_loadtest_raw (v) VALUES (?)", i).Error; err != nil {
				return 0, false, false
			}
			return 200, true, false
		}, nil
	case "me":
		return func(ctx context.Context, _ int, i int64) (int, bool, bool) {
			st := call(ctx, loadgen.Request{Method: "GET", Path: "/api/v1/shopper/me", Bearer: shopper(i).Token})
			return st, st == 200, false
		}, nil
	case "login":
		return func(ctx context.Context, _ int, i int64) (int, bool, bool) {
			st := call(ctx, loadgen.Request{Method: "POST", Path: "/api/v1/shopper/login",
				Body: map[string]string{"code": loadgen.LoginCode(fmt.Sprintf("%s-%d", prefix, i))}})
			return st, ok(st), false
		}, nil
	case "signin":
		// A member signs in once a day: fresh members, logged in before the
		// clock starts; the run ends early when they are used up.
		pool, err := t.LoginMany(ctx, prefix, max(r.membersFor(clients, d), 1), 16)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, _ int, i int64) (int, bool, bool) {
			if i >= int64(len(pool)) {
				return 0, false, true
			}
			st := call(ctx, loadgen.Request{Method: "POST", Path: "/api/v1/shopper/signin", Bearer: pool[i].Token})
			return st, ok(st), false
		}, nil
	case "order":
		return func(ctx context.Context, _ int, i int64) (int, bool, bool) {
			s := shopper(i)
			st := call(ctx, loadgen.Request{Method: "POST", Path: "/api/v1/hooks/orders", Signed: true, Body: map[string]any{
				"event_id": fmt.Sprintf("%s-%d", prefix, i), "type": "paid", "order_id": fmt.Sprintf("%s-%d", prefix, i),
				"member": map[string]string{"openid": s.OpenID}, "store_id": "S001", "channel": "mini",
				"occurred_at": time.Now().UTC().Format(time.RFC3339), "total_fen": 10000,
				"lines": []map[string]any{{"sku": "LT", "category": "A", "qty": 1, "amount_fen": 10000}}}})
			return st, ok(st), false
		}, nil
	case "adjust", "hot-adjust":
		delta := 1
		if scenario == "hot-adjust" {
			delta = -1
		}
		return func(ctx context.Context, _ int, i int64) (int, bool, bool) {
			s := shopper(i)
			if scenario == "hot-adjust" {
				s = r.shoppers[0]
			}
			st := call(ctx, loadgen.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/console/members/%d/adjustments", s.ID),
				Bearer: r.console, Idempotency: fmt.Sprintf("%s-%d", prefix, i), Body: map[string]any{"delta": delta, "reason": "loadtest"}})
			return st, ok(st), false
		}, nil
	case "draw", "hot-draw":
		return func(ctx context.Context, _ int, i int64) (int, bool, bool) {
			s := shopper(i)
			if scenario == "hot-draw" {
				s = r.shoppers[0]
			}
			st := call(ctx, loadgen.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", r.lottery),
				Bearer: s.Token, Idempotency: fmt.Sprintf("%s-%d", prefix, i)})
			return st, ok(st), false
		}, nil
	}
	return nil, fmt.Errorf("unknown scenario")
}

// forEach runs f(0..n-1), at most conc at once, and returns the first
// error.
func forEach(ctx context.Context, n, conc int, f func(ctx context.Context, k int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, conc)
	for k := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(ctx, k); err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// membersFor sizes the sign-in pool: enough for a fast run, bounded so that
// logging them in does not take longer than the run itself.
func (r *loadRun) membersFor(clients int, d time.Duration) int {
	return min(max(clients*int(d.Seconds())*40, 200), 40_000)
}
