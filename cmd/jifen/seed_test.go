package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app"
	"github.com/jifen/jifen/configs"
)

// TestSeedFillsADatabaseAReconcileFindsClean: `jifen seed` makes the
// members it says through the service's API, with a history whose
// opening balances partly expire within the next weeks, and the ledger it
// leaves reconciles.
func TestSeedFillsADatabaseAReconcileFindsClean(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("JIFEN_DATA_DIR", dir)
	code, out, errOut := runCLI(t, "seed", "--members", "12", "--days", "15", "--seed", "7")
	if code != 0 {
		t.Fatalf("seed: %d\n%s\n%s", code, out, errOut)
	}
	m := regexp.MustCompile(`seeded (\d+) members over 15 days: (\d+) sign-ins, (\d+) paid orders, (\d+) draws, (\d+) guide grants, (\d+) opening balances`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("seed output: %q", out)
	}
	if m[1] != "12" || m[2] == "0" || m[6] == "0" {
		t.Fatalf("seed made %s members, %s sign-ins, %s opening balances; want 12 and some of each", m[1], m[2], m[6])
	}
	if !strings.Contains(errOut, "seed: day 15 of 15") {
		t.Errorf("no progress lines off a terminal: %q", errOut)
	}

	cfg, err := configs.Load("", os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	st, err := app.OpenStores(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	var members, signins, soon int64
	db := st.DB.Conn(context.Background())
	db.Raw("SELECT COUNT(*) FROM members").Scan(&members)
	db.Raw("SELECT COUNT(*) FROM signins").Scan(&signins)
	db.Raw("SELECT COALESCE(SUM(remaining),0) FROM ledger_lots WHERE state = 'active' AND expires_at < ?", time.Now().Add(30*24*time.Hour)).Scan(&soon)
	st.Close()
	if members != 12 {
		t.Errorf("members in the database = %d, want 12", members)
	}
	if strconv.FormatInt(signins, 10) != m[2] {
		t.Errorf("signins in the database = %d, seed said %s", signins, m[2])
	}
	if soon <= 0 {
		t.Errorf("no points expire within 30 days; the demo's reminders would have nobody to remind")
	}
	if code, out, errOut := runCLI(t, "reconcile"); code != 0 || !strings.Contains(out, "0 with drift") {
		t.Fatalf("reconcile after seed: %d %s %s", code, out, errOut)
	}
}

func TestSeedRefusesProductionWithoutStaging(t *testing.T) {
	for k, v := range map[string]string{"JIFEN_MYSQL_DSN": "u:p@tcp(127.0.0.1:1)/nowhere", "JIFEN_REDIS_ADDR": "127.0.0.1:1",
		"JIFEN_AUTH_JWT_KEY": "0123456789abcdef0123456789abcdef-prod", "JIFEN_TASKS_TOKEN_KEY": "0123456789abcdef0123456789abcdef-task",
		"JIFEN_ORDERS_WEBHOOK_SECRET": "prod-webhook-secret-0123456789", "JIFEN_TASKS_REVIEW_HOOK_SECRET": "prod-review-secret-0123456789",
		"JIFEN_WECHAT_MINI_APPID": "wx0123456789abcdef", "JIFEN_WECHAT_MINI_SECRET": "secret",
		"JIFEN_TASKS_OFFICIAL_ACCOUNT_TOKEN": "prod-oa-token", "JIFEN_TASKS_OFFICIAL_ACCOUNT_AES_KEY": strings.Repeat("k", 43),
		"JIFEN_WECHAT_WORK_CALLBACK_TOKEN": "prod-wecom-token", "JIFEN_WECHAT_WORK_CALLBACK_AES_KEY": strings.Repeat("w", 43),
		"JIFEN_WECHAT_OFFICIAL_APPID": "wxfedcba9876543210", "JIFEN_WECHAT_OFFICIAL_SECRET": "oa-secret",
		"JIFEN_WECHAT_WORK_CORP_ID": "ww0123456789abcdef", "JIFEN_WECHAT_WORK_SECRET": "wecom-secret", "JIFEN_REMINDER_CHANNELS": "wecom,robot"} {
		t.Setenv(k, v)
	}
	code, _, errOut := runCLI(t, "seed", "--members", "1")
	if code == 0 || !strings.Contains(errOut, "--staging") {
		t.Fatalf("seed in production mode: %d %q, want a refusal naming --staging", code, errOut)
	}
	if code, _, errOut := runCLI(t, "seed", "--members", "0"); code != 2 || !strings.Contains(errOut, "--members") {
		t.Fatalf("seed --members 0: %d %q", code, errOut)
	}
}

// TestSeedTheSameSeedMakesTheSameHistory: two empty databases seeded with
// the same --seed hold the same history — the same orders, draws and
// balances — whatever the run's own names, and whichever day of the week
// it ends on (the second ends three days later: clock.offset).
func TestSeedTheSameSeedMakesTheSameHistory(t *testing.T) {
	var summaries [2]string
	for i := range summaries {
		dir := t.TempDir()
		t.Setenv("JIFEN_DATA_DIR", dir)
		t.Setenv("JIFEN_CLOCK_OFFSET", strconv.Itoa(72*i)+"h")
		code, out, errOut := runCLI(t, "seed", "--members", "12", "--days", "15", "--seed", "7")
		if code != 0 {
			t.Fatalf("seed %d: %d\n%s\n%s", i+1, code, out, errOut)
		}
		summaries[i] = regexp.MustCompile(` \(run [^)]*\)`).ReplaceAllString(strings.SplitN(out, "\n", 2)[0], "") + "\n" + seedSummary(t)
	}
	if summaries[0] != summaries[1] {
		t.Fatalf("the same seed made two histories:\n%s\n---\n%s", summaries[0], summaries[1])
	}
}

// seedSummary is what the seeded database (JIFEN_DATA_DIR) holds, one line
// per order, draw and account, without the run's names or the instants.
func seedSummary(t *testing.T) string {
	t.Helper()
	cfg, err := configs.Load("", os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	st, err := app.OpenStores(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.DB.Conn(context.Background())
	var b strings.Builder
	for _, q := range []string{
		"SELECT member_id, total_fen, points, reversed, status FROM orders ORDER BY occurred_at, member_id",
		"SELECT member_id, prize_kind, prize_name, points, cost_points, free, pity FROM lottery_draws ORDER BY id",
		"SELECT member_id, available, pending, held, debt, lifetime_earned FROM ledger_accounts ORDER BY member_id",
		"SELECT member_id, kind, delta, balance_after, ref_type, title FROM ledger_entries ORDER BY id",
	} {
		rows, err := db.Raw(q).Rows()
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
			n++
		}
		rows.Close()
		fmt.Fprintf(&b, "%d rows: %s\n", n, q)
	}
	return b.String()
}

// TestSeedDatesTheHistoryBackFromTheServicesClock: with clock.offset, the
// history ends the day serve will see, not the wall clock's.
func TestSeedDatesTheHistoryBackFromTheServicesClock(t *testing.T) {
	t.Setenv("JIFEN_DATA_DIR", t.TempDir())
	t.Setenv("JIFEN_CLOCK_OFFSET", "240h")
	if code, out, errOut := runCLI(t, "seed", "--members", "12", "--days", "2", "--seed", "7"); code != 0 {
		t.Fatalf("seed: %d\n%s\n%s", code, out, errOut)
	}
	cfg, err := configs.Load("", os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	st, err := app.OpenStores(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var last time.Time
	if err := st.DB.Conn(context.Background()).Raw("SELECT created_at FROM ledger_entries ORDER BY created_at DESC LIMIT 1").Row().Scan(&last); err != nil {
		t.Fatal(err)
	}
	// The history's last day is yesterday on the service's clock: ten days
	// ahead of the wall clock, less one.
	if want := time.Now().Add(8 * 24 * time.Hour); last.Before(want) {
		t.Fatalf("the newest entry is of %s; want after %s (the history ends yesterday on the service's clock)", last, want)
	}
}

// TestSeedRunsOnOneDatabaseNeverCollide: seed runs following each other
// within a second on one database each make their own stores, guides and
// members (a run id per run).
func TestSeedRunsOnOneDatabaseNeverCollide(t *testing.T) {
	t.Setenv("JIFEN_DATA_DIR", t.TempDir())
	runs := map[string]bool{}
	for i := 0; i < 6; i++ {
		code, out, errOut := runCLI(t, "seed", "--members", "1", "--days", "1", "--seed", strconv.Itoa(i+1))
		if code != 0 {
			t.Fatalf("seed run %d: %d\n%s\n%s", i+1, code, out, errOut)
		}
		m := regexp.MustCompile(`\(run ([^)]+)\)`).FindStringSubmatch(out)
		if m == nil || runs[m[1]] {
			t.Fatalf("seed run %d: run id %q, after %v", i+1, m, runs)
		}
		runs[m[1]] = true
	}
}

// TestSeedTheSameSeedAgainOnOneDatabase: a run with the seed of an earlier
// run on the database (the default is 1) draws the phones that run bound;
// it binds others instead of failing, however many runs came before.
func TestSeedTheSameSeedAgainOnOneDatabase(t *testing.T) {
	t.Setenv("JIFEN_DATA_DIR", t.TempDir())
	for i := 0; i < 7; i++ {
		if code, out, errOut := runCLI(t, "seed", "--members", "1", "--days", "1"); code != 0 {
			t.Fatalf("seed run %d: %d\n%s\n%s", i+1, code, out, errOut)
		}
	}
	if code, out, errOut := runCLI(t, "reconcile"); code != 0 || !strings.Contains(out, "0 with drift") {
		t.Fatalf("reconcile after seed: %d %s %s", code, out, errOut)
	}
}
