package analyticsstore_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/repo"
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
// refunds, in the proportions a programme sees. Entry i is member
// i mod members's, so a member's entries spread over the days as they
// would (and each batch of the fold touches as many member-days as it
// can), and the shapes turn by one for every round of the members, so each
// member sees all of them. It returns how many entries change an amount.
//
// On MariaDB the secondary indexes are dropped while the rows go in and
// built again after, in one ALTER, from the definitions read before
// (inserting 10,000,000 rows into five secondary indexes one row at a time
// takes far longer than sorting them once); the table the fold then reads
// is checked to be exactly the one the migrations made.
func seedJournal(b *testing.B, env *testenv.Env, n, members, days int, start time.Time) (changing int) {
	b.Helper()
	ctx := context.Background()
	if env.DB.Dialect() == repo.MySQL {
		defer withoutSecondaryIndexes(b, env, "ledger_entries")()
	}
	type shape struct {
		kind, ref string
		delta     int64
	}
	shapes := []shape{{"earn", "order", 120}, {"earn", "signin", 5}, {"earn", "signin", 5}, {"earn", "task", 15},
		{"spend", "lottery_draw", -20}, {"spend", "mall", -300}, {"expire", "", -40}, {"reverse", "refund", -60},
		{"unlock", "order", 0}, {"adjust", "adjust", 200}}
	const rowsPerInsert = 2000
	span := time.Duration(days) * 24 * time.Hour
	q := "INSERT INTO ledger_entries (member_id, kind, amount, delta, balance_after, ref_type, ref_id, related_id, idem_key, request_hash, title, reason, operator, created_at) VALUES "
	row := "(?,?,?,?,0,?,?,0,?,'','','',?,?)"
	args := make([]any, 0, 9*rowsPerInsert)
	for i := 0; i < n; {
		rows := min(rowsPerInsert, n-i)
		args = args[:0]
		for j := 0; j < rows; j, i = j+1, i+1 {
			s := shapes[(i+i/members)%len(shapes)]
			if s.delta != 0 {
				changing++
			}
			at := start.Add(time.Duration(float64(span) * float64(i) / float64(n)))
			op := ""
			if s.kind == "adjust" {
				op = "admin:root"
			}
			abs := s.delta
			if abs < 0 {
				abs = -abs
			}
			args = append(args, int64(i%members)+1, s.kind, abs, s.delta, s.ref, strconv.Itoa(i), fmt.Sprintf("bench-%010d", i), op, at.UTC())
		}
		if err := env.DB.Conn(ctx).Exec(q+strings.TrimSuffix(strings.Repeat(row+",", rows), ","), args...).Error; err != nil {
			b.Fatal(err)
		}
	}
	return changing
}

// seedMembers writes the members rows the members cursor reads: members
// who joined over the year before start.
func seedMembers(b *testing.B, env *testenv.Env, members int, start time.Time) {
	b.Helper()
	ctx := context.Background()
	const rowsPerInsert = 2000
	year := 365 * 24 * time.Hour
	args := make([]any, 0, 3*rowsPerInsert)
	for i := 0; i < members; {
		rows := min(rowsPerInsert, members-i)
		args = args[:0]
		for j := 0; j < rows; j, i = j+1, i+1 {
			at := start.Add(-year + time.Duration(float64(year)*float64(i)/float64(members))).UTC()
			args = append(args, fmt.Sprintf("bench-%010d", i+1), at, at)
		}
		q := "INSERT INTO members (openid, created_at, last_active) VALUES " + strings.TrimSuffix(strings.Repeat("(?,?,?),", rows), ",")
		if err := env.DB.Conn(ctx).Exec(q, args...).Error; err != nil {
			b.Fatal(err)
		}
	}
}

// withoutSecondaryIndexes drops table's secondary indexes (MariaDB) and
// returns the func that builds them again and checks that the table is
// then defined exactly as before.
func withoutSecondaryIndexes(b *testing.B, env *testenv.Env, table string) func() {
	b.Helper()
	db := env.DB.Conn(context.Background())
	showCreate := func() string {
		var name, def string
		if err := db.Raw("SHOW CREATE TABLE "+table).Row().Scan(&name, &def); err != nil {
			b.Fatal(err)
		}
		return def
	}
	before := showCreate()
	var cols []struct {
		IndexName  string
		NonUnique  int
		ColumnName string
		SubPart    *int
	}
	if err := db.Raw(`SELECT index_name AS index_name, non_unique AS non_unique, column_name AS column_name, sub_part AS sub_part
		FROM information_schema.statistics
		WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY'
		ORDER BY index_name, seq_in_index`, table).Scan(&cols).Error; err != nil {
		b.Fatal(err)
	}
	var names []string
	parts := map[string][]string{}
	unique := map[string]bool{}
	for _, c := range cols {
		if parts[c.IndexName] == nil {
			names = append(names, c.IndexName)
		}
		col := "`" + c.ColumnName + "`"
		if c.SubPart != nil {
			col += fmt.Sprintf("(%d)", *c.SubPart)
		}
		parts[c.IndexName] = append(parts[c.IndexName], col)
		unique[c.IndexName] = c.NonUnique == 0
	}
	if len(names) == 0 {
		return func() {}
	}
	var drop, add []string
	for _, name := range names {
		drop = append(drop, "DROP INDEX `"+name+"`")
		kind := "INDEX"
		if unique[name] {
			kind = "UNIQUE INDEX"
		}
		add = append(add, fmt.Sprintf("ADD %s `%s` (%s)", kind, name, strings.Join(parts[name], ", ")))
	}
	if err := db.Exec("ALTER TABLE " + table + " " + strings.Join(drop, ", ")).Error; err != nil {
		b.Fatal(err)
	}
	return func() {
		if err := db.Exec("ALTER TABLE " + table + " " + strings.Join(add, ", ")).Error; err != nil {
			b.Fatal(err)
		}
		if got, want := definition(showCreate()), definition(before); got != want {
			b.Fatalf("%s rebuilt differently:\n%s\nwant:\n%s", table, got, want)
		}
	}
}

// definition is a SHOW CREATE TABLE's columns and indexes, one a line in
// sorted order (a rebuilt index is listed after the others), without the
// AUTO_INCREMENT counter the rows moved.
func definition(create string) string {
	create = regexp.MustCompile(` AUTO_INCREMENT=\d+`).ReplaceAllString(create, "")
	lines := strings.Split(create, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(strings.TrimSpace(l), ",")
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// BenchmarkFacts measures how fast the daily facts are built from the
// journal (entries/s), beside a plain read of the same journal in the same
// batches (scan entries/s): the ratio is what folding and saving the facts
// cost; and how fast the members cursor adds the members rows to the new
// members of their day (members/s). docs/features/analytics.md has the
// figures. The full size (one day of 10,000,000 entries for
// 1,000,000 members) is
//
//	JIFEN_TEST_MYSQL_DSN=… JIFEN_TEST_REDIS_ADDR=… JIFEN_BENCH_ANALYTICS_ENTRIES=10000000 \
//	JIFEN_BENCH_ANALYTICS_MEMBERS=1000000 JIFEN_BENCH_ANALYTICS_DAYS=1 \
//	go test ./repo/analyticsstore -run '^$' -bench Facts -benchtime 1x -timeout 90m
func BenchmarkFacts(b *testing.B) {
	env := testenv.New(b)
	ctx := context.Background()
	n := benchEntries()
	members, days := benchInt("JIFEN_BENCH_ANALYTICS_MEMBERS", 10_000), benchInt("JIFEN_BENCH_ANALYTICS_DAYS", 30)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, domain.Shanghai)
	seeded := time.Now()
	seedMembers(b, env, members, start)
	changing := seedJournal(b, env, n, members, days, start)
	b.Logf("seeded %d members and %d entries over %d days in %s", members, n, days, time.Since(seeded).Round(time.Second))
	clock := domain.NewFakeClock(start.Add(40 * 24 * time.Hour))
	store := &analyticsstore.Store{DB: env.DB}

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
			svc := &analytics.Service{Store: store, Clock: clock}
			b.StartTimer()
			rep, err := svc.Facts(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if rep.Entries != n {
				b.Fatalf("folded %d entries, want %d", rep.Entries, n)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
		// Every entry that changes an amount is in a fact once; with one
		// day and every member through all the shapes, every member is
		// active on it.
		var counted, active int64
		if err := env.DB.Conn(ctx).Raw("SELECT COALESCE(SUM(entries), 0) FROM analytics_points_daily").Scan(&counted).Error; err != nil {
			b.Fatal(err)
		}
		if counted != int64(changing) {
			b.Fatalf("facts count %d entries, want %d", counted, changing)
		}
		if err := env.DB.Conn(ctx).Raw("SELECT COUNT(*) FROM analytics_active_daily").Scan(&active).Error; err != nil {
			b.Fatal(err)
		}
		if days == 1 && n >= 10*members && active != int64(members) {
			b.Fatalf("%d active member-days, want %d", active, members)
		}
	})
	b.Run("members", func(b *testing.B) {
		horizon := clock.Now().Add(-5 * time.Minute)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			for _, q := range []string{"DELETE FROM analytics_members_daily", "DELETE FROM analytics_cursors WHERE name = 'members'"} {
				if err := env.DB.Conn(ctx).Exec(q).Error; err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			read := 0
			for {
				// What the job's members cursor does (Service.Facts with MemberFacts).
				got, done, err := store.MemberStep(ctx, 2000, horizon)
				if err != nil {
					b.Fatal(err)
				}
				read += got
				if done || got < 2000 {
					break
				}
			}
			if read != members {
				b.Fatalf("read %d members, want %d", read, members)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(members*b.N)/b.Elapsed().Seconds(), "members/s")
		var joined int64
		if err := env.DB.Conn(ctx).Raw("SELECT COALESCE(SUM(joined), 0) FROM analytics_members_daily").Scan(&joined).Error; err != nil {
			b.Fatal(err)
		}
		if joined != int64(members) {
			b.Fatalf("%d new members in the facts, want %d", joined, members)
		}
	})
}
