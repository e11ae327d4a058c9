package analyticsstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/repo/analyticsstore"
	"github.com/jifen/jifen/repo/testenv"
)

// benchEntries is the journal the benchmark folds: 200,000 entries, or
// JIFEN_BENCH_ANALYTICS_ENTRIES.
func benchEntries() int {
	if n, err := strconv.Atoi(os.Getenv("JIFEN_BENCH_ANALYTICS_ENTRIES")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

// benchInt reads a positive integer from the environment.
func benchInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// seedJournal writes n journal entries straight into ledger_entries (the
// ledger's own path would take minutes): JIFEN_BENCH_ANALYTICS_MEMBERS
// members (10,000) over JIFEN_BENCH_ANALYTICS_DAYS days (30),
// earns from orders, sign-in and tasks, draws and mall spends, expiries and
// refunds, in the proportions a programme sees.
func seedJournal(b *testing.B, env *testenv.Env, n int, start time.Time) {
	members, days := benchInt("JIFEN_BENCH_ANALYTICS_MEMBERS", 10_000), benchInt("JIFEN_BENCH_ANALYTICS_DAYS", 30)
	b.Helper()
	ctx := context.Background()
	type shape struct {
		kind, ref string
		delta     int64
	}
	shapes := []shape{{"earn", "order", 120}, {"earn", "signin", 5}, {"earn", "signin", 5}, {"earn", "task", 15},
		{"spend", "lottery_draw", -20}, {"spend", "mall", -300}, {"expire", "", -40}, {"reverse", "refund", -60},
		{"unlock", "order", 0}, {"adjust", "adjust", 200}}
	const rowsPerInsert = 1000
	for i := 0; i < n; {
		var sb strings.Builder
		var args []any
		sb.WriteString("INSERT INTO ledger_entries (member_id, kind, amount, delta, balance_after, ref_type, ref_id, related_id, idem_key, request_hash, title, reason, operator, created_at) VALUES ")
		for j := 0; j < rowsPerInsert && i < n; j, i = j+1, i+1 {
			s := shapes[i%len(shapes)]
			if j > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,0,?,?,0,?,'','','',?,?)")
			at := start.Add(time.Duration(i) * (time.Duration(days) * 24 * time.Hour) / time.Duration(n))
			op := ""
			if s.kind == "adjust" {
				op = "admin:root"
			}
			abs := s.delta
			if abs < 0 {
				abs = -abs
			}
			args = append(args, int64(i%members)+1, s.kind, abs, s.delta, s.ref, fmt.Sprint(i), fmt.Sprintf("bench-%d", i), op, at.UTC())
		}
		if err := env.DB.Conn(ctx).Exec(sb.String(), args...).Error; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFacts measures how fast the daily facts are built from the
// journal (entries/s), beside a plain read of the same journal in the same
// batches (scan entries/s): the ratio is what folding and saving the facts
// cost. docs/features/analytics.md has the figures.
//
//	JIFEN_TEST_MYSQL_DSN=… JIFEN_TEST_REDIS_ADDR=… go test ./repo/analyticsstore -run '^$' -bench Facts -benchtime 3x
func BenchmarkFacts(b *testing.B) {
	env := testenv.New(b)
	ctx := context.Background()
	n := benchEntries()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, domain.Shanghai)
	seedJournal(b, env, n, start)
	clock := domain.NewFakeClock(start.Add(40 * 24 * time.Hour))

	b.Run("scan", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var last int64
			read := 0
			for {
				var ids []int64
				var rows []analytics.Entry
				if err := env.DB.Conn(ctx).Table("ledger_entries").Select("id, member_id, kind, delta, ref_type, operator, created_at").
					Where("id > ?", last).Order("id").Limit(2000).Scan(&rows).Error; err != nil {
					b.Fatal(err)
				}
				for _, r := range rows {
					ids = append(ids, r.ID)
				}
				read += len(rows)
				if len(rows) < 2000 {
					break
				}
				last = ids[len(ids)-1]
			}
			if read != n {
				b.Fatalf("read %d entries, want %d", read, n)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("facts", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			for _, t := range []string{"analytics_points_daily", "analytics_active_daily", "analytics_cursors"} {
				if err := env.DB.Conn(ctx).Exec("DELETE FROM " + t).Error; err != nil {
					b.Fatal(err)
				}
			}
			svc := &analytics.Service{Store: &analyticsstore.Store{DB: env.DB}, Clock: clock}
			b.StartTimer()
			rep, err := svc.Facts(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if rep.Entries != n {
				b.Fatalf("folded %d entries, want %d", rep.Entries, n)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
	})
}
