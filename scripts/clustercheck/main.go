// Command clustercheck drives mixed traffic across the instances that
// scripts/cluster starts, kills a Galera node, a Redis master and a jifen
// instance while the traffic runs, and then checks from SQL what must hold:
// every acknowledged write is present exactly once, no prize is oversold,
// `jifen reconcile` is clean on every node, the expiry job and a scheduled
// campaign ran once across three instances, and no Redis command failed with
// CROSSSLOT. It exits 1 with the list of what failed.
//
//	scripts/cluster up && eval "$(scripts/cluster env)"
//	go run ./scripts/clustercheck -members 60 -duration 45s
//
// A client retries an unacknowledged write (a transport error or a 5xx)
// with the same idempotency key on the next instance, round robin, as an
// order system behind a load balancer would.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/go-sql-driver/mysql"

	_ "github.com/jifen/jifen/repo" // registers the failover DSN network
)

type env struct {
	urls          []string
	dsns          []string // one per Galera node, for checks node by node
	writer        string   // what the instances use: the nodes in failover order
	sim           string
	webhookSecret string
	consoleUser   string
	consolePass   string
	config        string
	script        string
}

func mustEnv(k string) string {
	v := os.Getenv(k)
	if v == "" {
		log.Fatalf("clustercheck: %s is not set (eval \"$(scripts/cluster env)\")", k)
	}
	return v
}

func main() {
	members := flag.Int("members", 60, "shoppers to log in")
	workers := flag.Int("workers", 12, "concurrent clients")
	duration := flag.Duration("duration", 45*time.Second, "how long the traffic runs")
	chaos := flag.Bool("chaos", true, "kill a Galera node, a Redis master and a jifen instance during the run")
	checks := flag.Bool("checks", true, "run the SQL checks afterwards (false: only measure throughput, e.g. against one instance)")
	flag.Parse()
	user, pass, _ := strings.Cut(mustEnv("JIFEN_CLUSTER_CONSOLE"), ":")
	e := env{
		urls: strings.Split(mustEnv("JIFEN_CLUSTER_URLS"), ","), dsns: strings.Split(mustEnv("JIFEN_CLUSTER_DSNS"), ","),
		writer: mustEnv("JIFEN_CLUSTER_WRITER_DSN"),
		sim:    mustEnv("JIFEN_CLUSTER_SIM"), webhookSecret: mustEnv("JIFEN_CLUSTER_WEBHOOK_SECRET"),
		consoleUser: user, consolePass: pass, config: mustEnv("JIFEN_CLUSTER_CONFIG"),
	}
	e.script = filepath.Join(mustEnv("JIFEN_CLUSTER_ROOT"), "scripts", "cluster")
	c := &checker{env: e, http: &http.Client{Timeout: 10 * time.Second}}
	if err := c.run(*members, *workers, *duration, *chaos, *checks); err != nil {
		log.Fatalf("clustercheck: %v", err)
	}
	if len(c.failures) > 0 {
		for _, f := range c.failures {
			fmt.Println("FAIL:", f)
		}
		os.Exit(1)
	}
	fmt.Println("clustercheck: every check passed")
}

type checker struct {
	env  env
	http *http.Client
	next atomic.Uint64

	mu       sync.Mutex
	failures []string
	acked    map[string][]string // kind → acknowledged keys
	stats    map[string]int
	console  string
	campaign int64
	prize    int64
	stock    int64
}

func (c *checker) fail(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, fmt.Sprintf(format, a...))
}

func (c *checker) ack(kind, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acked[kind] = append(c.acked[kind], key)
}

func (c *checker) count(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats[what]++
}

// call sends one request, round robin over the instances; a transport error
// or a 5xx moves on to the next instance with the same request (and so the
// same idempotency key) until a deadline. It returns the final status and body.
func (c *checker) call(method, path string, body []byte, hdr map[string]string) (int, []byte) {
	deadline := time.Now().Add(60 * time.Second)
	for attempt := 0; ; attempt++ {
		base := c.env.urls[c.next.Add(1)%uint64(len(c.env.urls))]
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if strings.HasPrefix(path, "/api/v1/hooks/orders") {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			m := hmac.New(sha256.New, []byte(c.env.webhookSecret))
			m.Write([]byte(ts + "." + string(body)))
			req.Header.Set("X-Jifen-Timestamp", ts)
			req.Header.Set("X-Jifen-Signature", hex.EncodeToString(m.Sum(nil)))
		}
		resp, err := c.http.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				c.count("retried 429")
				time.Sleep(time.Second)
				continue
			}
			if resp.StatusCode < 500 {
				return resp.StatusCode, b
			}
			c.count(fmt.Sprintf("retried %d", resp.StatusCode))
		} else {
			c.count("retried transport error")
		}
		if time.Now().After(deadline) {
			return 0, nil
		}
		time.Sleep(time.Duration(50+rand.IntN(150)) * time.Millisecond)
	}
}

func jsonBody(v any) []byte { b, _ := json.Marshal(v); return b }

func field(b []byte, path ...string) any {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

type shopper struct {
	openid string
	token  string
	id     int64
}

func (c *checker) run(members, workers int, duration time.Duration, chaos, checks bool) error {
	c.acked = map[string][]string{}
	c.stats = map[string]int{}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := c.setup(run); err != nil {
		return err
	}
	shoppers := make([]*shopper, members)
	for i := range shoppers {
		user := fmt.Sprintf("cl%s-%d", run, i)
		st, b := c.call("POST", "/api/v1/shopper/login", jsonBody(map[string]string{"code": "sim:" + user + ":1"}), nil)
		if st != 200 && st != 201 {
			return fmt.Errorf("login %s: %d %s", user, st, b)
		}
		id, _ := field(b, "member", "id").(float64)
		shoppers[i] = &shopper{openid: "sim-openid-" + user, token: field(b, "access_token").(string), id: int64(id)}
	}
	log.Printf("clustercheck: %d shoppers logged in across %d instances", members, len(c.env.urls))

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	var seq atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s := shoppers[rand.IntN(len(shoppers))]
				c.op(run, seq.Add(1), s)
			}
		}()
	}
	if chaos {
		c.chaos(ctx)
	}
	wg.Wait()
	acked := 0
	for _, keys := range c.acked {
		acked += len(keys)
	}
	log.Printf("clustercheck: traffic done: %v", c.stats)
	log.Printf("clustercheck: throughput: %d acknowledged writes in %s = %.0f/s (%d instances, %d clients)",
		acked, duration, float64(acked)/duration.Seconds(), len(c.env.urls), workers)
	if !checks {
		return nil
	}
	if chaos {
		c.heal()
	}
	// The writes of these checks go where the instances write: the first
	// live node. The killed writer rejoins only after them, so that no two
	// nodes take writes at once (see repo.FailoverNet).
	c.checkPrizes()
	c.checkExpiryOnce(shoppers)
	c.checkCampaignOnce(run, shoppers)
	if chaos {
		c.sh("start-db", "1")
	}
	c.checkAcked()
	c.checkReconcile()
	c.checkLogs()
	return nil
}

func (c *checker) setup(run string) error {
	st, b := c.call("POST", "/api/v1/console/login", jsonBody(map[string]string{"username": c.env.consoleUser, "password": c.env.consolePass}), nil)
	if st != 200 {
		return fmt.Errorf("console login: %d %s", st, b)
	}
	c.console = field(b, "access_token").(string)
	auth := map[string]string{"Authorization": "Bearer " + c.console}
	st, b = c.call("POST", "/api/v1/console/rules", jsonBody(map[string]any{
		"name": "cluster " + run, "trigger": "order_paid",
		"effect": map[string]any{"kind": "rate", "brackets": []map[string]any{{"from_fen": 0, "per_mille": 1000}}},
	}), auth)
	if st != 201 && st != 200 {
		return fmt.Errorf("create rule: %d %s", st, b)
	}
	now := time.Now()
	c.stock = 40
	st, b = c.call("POST", "/api/v1/console/lottery/campaigns", jsonBody(map[string]any{
		"name": "cluster " + run, "starts_at": now.Add(-time.Hour).Format(time.RFC3339), "ends_at": now.Add(24 * time.Hour).Format(time.RFC3339),
		"cost_points": 5, "free_per_day": 0, "limit_daily": 1000,
		"prizes": []map[string]any{
			{"name": "gift", "kind": "points", "points": 3, "weight": 30, "stock": c.stock},
			{"name": "nothing", "kind": "nothing", "weight": 70},
		},
	}), auth)
	if st != 201 && st != 200 {
		return fmt.Errorf("create lottery campaign: %d %s", st, b)
	}
	id, _ := field(b, "campaign", "id").(float64)
	c.campaign = int64(id)
	for _, p := range field(b, "campaign", "prizes").([]any) {
		if m := p.(map[string]any); m["kind"] == "points" {
			c.prize = int64(m["id"].(float64))
		}
	}
	return nil
}

// op runs one random write of a shopper and records it when acknowledged.
func (c *checker) op(run string, n int64, s *shopper) {
	key := fmt.Sprintf("%s-%d", run, n)
	bearer := map[string]string{"Authorization": "Bearer " + s.token, "Idempotency-Key": key}
	switch r := rand.IntN(10); {
	case r < 3: // earn through the order webhook
		total := 2000 + rand.IntN(5000)
		body := jsonBody(map[string]any{"event_id": "ev-" + key, "type": "paid", "order_id": "CL-" + key,
			"member": map[string]string{"openid": s.openid}, "store_id": "S001", "channel": "mini",
			"occurred_at": time.Now().UTC().Format(time.RFC3339), "total_fen": total,
			"lines": []map[string]any{{"sku": "A1", "category": "A", "qty": 1, "amount_fen": total}}})
		if st, b := c.call("POST", "/api/v1/hooks/orders", body, nil); st/100 == 2 {
			c.ack("order", "ev-"+key)
			c.count("order")
		} else {
			c.fail("order %s: %d %s", key, st, b)
		}
	case r < 5: // console adjustment, + or −
		delta := 10 + rand.IntN(50)
		if rand.IntN(3) == 0 {
			delta = -5
		}
		hdr := map[string]string{"Authorization": "Bearer " + c.console, "Idempotency-Key": key}
		st, b := c.call("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", s.id),
			jsonBody(map[string]any{"delta": delta, "reason": "cluster"}), hdr)
		switch {
		case st/100 == 2:
			c.ack("adjust", "console:"+key)
			c.count("adjust")
		case st == 422:
			c.count("adjust refused (points)")
		default:
			c.fail("adjust %s: %d %s", key, st, b)
		}
	case r < 7: // daily sign-in: the first of the day is acknowledged, the rest 409
		st, b := c.call("POST", "/api/v1/shopper/signin", nil, bearer)
		switch {
		case st/100 == 2:
			c.ack("signin", strconv.FormatInt(s.id, 10))
			c.count("signin")
		case st == 409:
			c.count("signin again")
		default:
			c.fail("signin %s: %d %s", key, st, b)
		}
	default: // a draw on the stocked prize
		st, b := c.call("POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", c.campaign), nil, bearer)
		switch {
		case st/100 == 2:
			c.ack("draw", strconv.FormatInt(s.id, 10)+"/"+key)
			c.count("draw")
		case st == 422:
			c.count("draw refused")
		default:
			c.fail("draw %s: %d %s", key, st, b)
		}
	}
}

func (c *checker) sh(args ...string) {
	out, err := exec.Command(c.env.script, args...).CombinedOutput()
	if err != nil {
		c.fail("scripts/cluster %s: %v: %s", strings.Join(args, " "), err, out)
	}
	log.Printf("clustercheck: scripts/cluster %s", strings.Join(args, " "))
}

// chaos kills one of each kind of node while the traffic runs.
func (c *checker) chaos(ctx context.Context) {
	master := c.redisMaster()
	steps := []struct {
		at   time.Duration
		args []string
	}{
		// Node 1 is the writer: every instance fails over to node 2.
		{5 * time.Second, []string{"kill-db", "1"}},
		{10 * time.Second, []string{"kill-redis", master}},
		{18 * time.Second, []string{"kill-jifen", "2"}},
		{26 * time.Second, []string{"start-jifen", "2"}},
	}
	start := time.Now()
	for _, s := range steps {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(s.at))):
		}
		c.sh(s.args...)
	}
}

func (c *checker) heal() {
	c.sh("start-redis")
	c.sh("start-jifen", "2")
}

func (c *checker) redisMaster() string {
	for _, p := range []string{"17002", "17003", "17001"} {
		out, _ := exec.Command("redis-cli", "-p", p, "role").Output()
		if strings.HasPrefix(string(out), "master") {
			return p
		}
	}
	return "17002"
}

// db opens Galera node i alone (for checks node by node).
func (c *checker) db(i int) *sql.DB { return c.open(c.env.dsns[i]) }

// writerDB opens the database as the instances do: the first live node.
func (c *checker) writerDB() *sql.DB { return c.open(c.env.writer) }

func (c *checker) open(dsn string) *sql.DB {
	if !strings.Contains(dsn, "?") {
		dsn += "?parseTime=true"
	}
	d, err := sql.Open("mysql", dsn)
	if err != nil {
		log.Fatal(err)
	}
	return d
}

// checkAcked: every acknowledged write is in the database exactly once, on
// every node (Galera replicates synchronously).
func (c *checker) checkAcked() {
	queries := map[string]string{
		"order":  "SELECT COUNT(*) FROM order_events WHERE event_id = ?",
		"adjust": "SELECT COUNT(*) FROM ledger_entries WHERE idem_key = ?",
		"signin": "SELECT COUNT(*) FROM signins WHERE member_id = ?",
		"draw":   "SELECT COUNT(*) FROM lottery_draws WHERE member_id = ? AND idem_key = ?",
	}
	for i := range c.env.dsns {
		d := c.db(i)
		for kind, keys := range c.acked {
			for _, k := range keys {
				var n int
				var err error
				if kind == "draw" {
					m, key, _ := strings.Cut(k, "/")
					err = d.QueryRow(queries[kind], m, key).Scan(&n)
				} else {
					err = d.QueryRow(queries[kind], k).Scan(&n)
				}
				if err != nil {
					c.fail("node %d: %s %s: %v", i+1, kind, k, err)
				} else if n != 1 && kind != "signin" || kind == "signin" && n < 1 {
					c.fail("node %d: acknowledged %s %s found %d times", i+1, kind, k, n)
				}
			}
		}
		d.Close()
	}
	total := 0
	for _, keys := range c.acked {
		total += len(keys)
	}
	log.Printf("clustercheck: %d acknowledged writes checked on %d nodes", total, len(c.env.dsns))
}

func (c *checker) checkPrizes() {
	d := c.writerDB()
	defer d.Close()
	var won, stock, drawn int64
	if err := d.QueryRow("SELECT won, stock FROM lottery_prizes WHERE id = ?", c.prize).Scan(&won, &stock); err != nil {
		c.fail("prize: %v", err)
		return
	}
	if err := d.QueryRow("SELECT COUNT(*) FROM lottery_draws WHERE prize_id = ?", c.prize).Scan(&drawn); err != nil {
		c.fail("prize draws: %v", err)
		return
	}
	if drawn > c.stock || won != drawn {
		c.fail("prize oversold or miscounted: stock %d, won %d, draws %d", c.stock, won, drawn)
	}
	log.Printf("clustercheck: prize of stock %d won %d times", c.stock, drawn)
}

// checkExpiryOnce makes some lots due and runs `jifen expire` on the three
// nodes at once: the points that were due expire exactly once.
func (c *checker) checkExpiryOnce(shoppers []*shopper) {
	d := c.writerDB()
	defer d.Close()
	ids := make([]string, 0, len(shoppers)/2)
	for _, s := range shoppers[:len(shoppers)/2] {
		ids = append(ids, strconv.FormatInt(s.id, 10))
	}
	in := strings.Join(ids, ",")
	if _, err := d.Exec("UPDATE ledger_lots SET expires_at = NOW(3) - INTERVAL 1 HOUR WHERE state = 'active' AND remaining > 0 AND member_id IN (" + in + ")"); err != nil {
		c.fail("make lots due: %v", err)
		return
	}
	var due int64
	_ = d.QueryRow("SELECT COALESCE(SUM(remaining),0) FROM ledger_lots WHERE expires_at < NOW(3) AND remaining > 0 AND member_id IN (" + in + ")").Scan(&due)
	var before int64
	_ = d.QueryRow("SELECT COALESCE(SUM(-delta),0) FROM ledger_entries WHERE kind = 'expire' AND member_id IN (" + in + ")").Scan(&before)
	// The instances ran today's job when they started; a new run day is what
	// the three processes below share (the job's range leases are per day).
	if _, err := d.Exec("DELETE FROM expiry_ranges"); err != nil {
		c.fail("reset expiry runs: %v", err)
		return
	}
	var wg sync.WaitGroup
	for i := range c.env.dsns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := c.jifen(i, "expire")
			if err != nil {
				c.fail("jifen expire on node %d: %v: %s", i+1, err, out)
			}
		}()
	}
	wg.Wait()
	var after int64
	_ = d.QueryRow("SELECT COALESCE(SUM(-delta),0) FROM ledger_entries WHERE kind = 'expire' AND member_id IN (" + in + ")").Scan(&after)
	if after-before != due {
		c.fail("expiry across three instances: %d points were due, %d expired", due, after-before)
	}
	log.Printf("clustercheck: three concurrent expiry runs expired %d of %d due points", after-before, due)
}

// checkCampaignOnce schedules a reminder campaign that the three instances'
// dispatchers share: each audience member gets exactly one message.
func (c *checker) checkCampaignOnce(run string, shoppers []*shopper) {
	aud := shoppers[len(shoppers)/2:]
	d := c.writerDB()
	defer d.Close()
	for _, s := range aud {
		if st, b := c.call("POST", "/api/v1/shopper/subscriptions", jsonBody(map[string]any{"results": map[string]string{"sim-tmpl-expiry": "accept"}}),
			map[string]string{"Authorization": "Bearer " + s.token}); st/100 != 2 {
			c.fail("subscription: %d %s", st, b)
		}
		resp, err := c.http.Post(c.env.sim+"/_sim/subscriptions", "application/json",
			bytes.NewReader(jsonBody(map[string]any{"openid": s.openid, "template_id": "sim-tmpl-expiry", "count": 1})))
		if err == nil {
			resp.Body.Close()
		}
	}
	// A campaign reaches members with points expiring soon: move one lot of each a few days ahead.
	for _, s := range aud {
		_, _ = d.Exec("UPDATE ledger_lots SET expires_at = NOW(3) + INTERVAL 3 DAY WHERE member_id = ? AND state = 'active' AND remaining > 0 ORDER BY id LIMIT 1", s.id)
	}
	auth := map[string]string{"Authorization": "Bearer " + c.console}
	at := time.Now().Add(5 * time.Second).UTC().Format(time.RFC3339)
	st, b := c.call("POST", "/api/v1/console/campaigns", jsonBody(map[string]any{
		"name": "cluster " + run, "audience": map[string]any{"expiring_within_days": 5, "min_points": 1},
		"channels": []string{"subscribe"}, "quiet_hours": "", "schedule": map[string]any{"once_at": at},
	}), auth)
	if st/100 != 2 {
		c.fail("create campaign: %d %s", st, b)
		return
	}
	id := int64(field(b, "campaign", "id").(float64))
	if st, b := c.call("POST", fmt.Sprintf("/api/v1/console/campaigns/%d/schedule", id), nil, auth); st/100 != 2 {
		c.fail("schedule campaign: %d %s", st, b)
		return
	}
	var status string
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		_, b := c.call("GET", fmt.Sprintf("/api/v1/console/campaigns/%d/report", id), nil, auth)
		status, _ = field(b, "campaign", "status").(string)
		pending, _ := field(b, "report", "by_status", "pending").(float64)
		if status == "done" && pending == 0 {
			break
		}
	}
	if status != "done" {
		c.fail("campaign %d did not finish: %s", id, status)
	}
	sent := 0
	for _, s := range aud {
		resp, err := c.http.Get(c.env.sim + "/_sim/delivered?to=" + s.openid)
		if err != nil {
			c.fail("simulator: %v", err)
			return
		}
		var got []map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		n := 0
		for _, g := range got {
			if g["api"] == "subscribe_send" {
				n++
			}
		}
		if n > 1 {
			c.fail("member %d got the campaign %d times", s.id, n)
		}
		sent += n
	}
	var rows int
	_ = d.QueryRow("SELECT COUNT(*) FROM reminder_outbox WHERE campaign LIKE ? AND status = 'sent'", fmt.Sprintf("campaign:%d:%%", id)).Scan(&rows)
	if sent == 0 || sent != rows {
		c.fail("campaign %d: simulator saw %d messages, outbox marks %d sent", id, sent, rows)
	}
	log.Printf("clustercheck: campaign %d: %d members reached once each (outbox sent rows %d)", id, sent, rows)
}

func (c *checker) jifen(node int, args ...string) ([]byte, error) {
	return exec.Command(c.env.script, append([]string{"jifen", strconv.Itoa(node + 1)}, args...)...).CombinedOutput()
}

// checkReconcile runs `jifen reconcile` against each Galera node alone.
func (c *checker) checkReconcile() {
	for i := range c.env.dsns {
		out, err := exec.Command(c.env.script, "db-jifen", strconv.Itoa(i+1), "reconcile").CombinedOutput()
		if err != nil {
			c.fail("jifen reconcile on node %d: %v: %s", i+1, err, out)
		} else {
			log.Printf("clustercheck: reconcile node %d: %s", i+1, strings.TrimSpace(lastLine(out)))
		}
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// checkLogs: no instance saw a CROSSSLOT error (keys of one operation in
// different Redis Cluster slots).
func (c *checker) checkLogs() {
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(c.env.config), "jifen*", "log"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if n := bytes.Count(b, []byte("CROSSSLOT")); n > 0 {
			c.fail("%s: %d CROSSSLOT errors", f, n)
		}
	}
}
