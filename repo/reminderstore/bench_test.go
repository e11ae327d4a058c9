package reminderstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo/testenv"
)

// BenchmarkExpire1M expires JIFEN_BENCH_LOTS due lots (1,000,000 by
// default), JIFEN_BENCH_LOTS_PER_MEMBER per member (1 by default; every
// fourth member also keeps a lot that is not due), seeded with bulk SQL,
// with JIFEN_BENCH_INSTANCES expiry jobs (2 by default) sharing the run in
// batches of JIFEN_BENCH_BATCH members (1,000 by default). It reports lots/s
// and the ratio to the raw commit rate measured in the same run, then
// proves the ledger's invariants over every account:
//
//	JIFEN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' go test -run '^$' -bench Expire -benchtime 1x ./repo/reminderstore/
func BenchmarkExpire1M(b *testing.B) {
	lots := envInt("JIFEN_BENCH_LOTS", 1_000_000)
	perMember := envInt("JIFEN_BENCH_LOTS_PER_MEMBER", 1)
	instances := envInt("JIFEN_BENCH_INSTANCES", 2)
	batch := envInt("JIFEN_BENCH_BATCH", 1000)
	raw := testenv.RawCommitRate(b, 20_000)
	for range b.N {
		b.StopTimer()
		f := newExpiryFixture(b)
		members := (lots + perMember - 1) / perMember
		seedStart := time.Now()
		seedBulk(b, f, members, perMember)
		b.Logf("seeded %d members with %d due lots in %s", members, members*perMember, time.Since(seedStart).Round(time.Millisecond))
		f.clock.Advance(48 * time.Hour)
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var total int64
		for i := range instances {
			wg.Add(1)
			go func() {
				defer wg.Done()
				j := &reminder.ExpiryJob{Ledger: f.ledger, Ranges: f.store, Tx: f.env.DB, Clock: f.clock,
					Owner: fmt.Sprintf("bench-%d", i), RangeSize: 10_000, BatchSize: batch, Lease: time.Minute}
				rep, err := j.Run(context.Background(), f.clock.Now())
				if err != nil {
					b.Error(err)
				}
				mu.Lock()
				total += rep.Expired
				mu.Unlock()
			}()
		}
		wg.Wait()
		el := time.Since(start)
		b.StopTimer()
		if want := int64(members * perMember); total != want {
			b.Fatalf("expired %d, want %d", total, want)
		}
		rate := float64(total) / el.Seconds()
		b.ReportMetric(rate, "lots/s")
		b.ReportMetric(raw, "raw_commits/s")
		b.ReportMetric(rate/raw, "x_raw")
		b.Logf("%s: expired %d lots of %d members in %s with %d instances, batch %d: %.0f lots/s; raw commit %.0f/s; ratio %.2f",
			f.env.Backend, total, members, el.Round(time.Millisecond), instances, batch, rate, raw, rate/raw)
		checkStart := time.Now()
		reconcileAll(b, f, members, perMember)
		b.Logf("invariants hold over all %d accounts (checked in %s)", members, time.Since(checkStart).Round(time.Millisecond))
	}
}

// reconcileAll proves the ledger's invariants over every account with a
// few set-based queries (ledger.Check would take one transaction per
// account), runs ledger.Check itself on a spread of members, and checks
// every member's balance.
func reconcileAll(b *testing.B, f *expiryFixture, members, perMember int) {
	ctx := context.Background()
	db := f.env.DB.Conn(ctx)
	for _, c := range []struct{ rule, q string }{
		{ledger.RuleAvailableLots, `SELECT COUNT(*) FROM ledger_accounts a LEFT JOIN (SELECT member_id, SUM(remaining) s FROM ledger_lots
			WHERE state = 'active' GROUP BY member_id) l ON l.member_id = a.member_id WHERE a.available <> COALESCE(l.s, 0)`},
		{ledger.RuleEntrySum, `SELECT COUNT(*) FROM ledger_accounts a LEFT JOIN (SELECT member_id, SUM(delta) s FROM ledger_entries
			GROUP BY member_id) e ON e.member_id = a.member_id WHERE a.available + a.pending + a.held - a.debt <> COALESCE(e.s, 0)`},
		{ledger.RuleAllocations, `SELECT COUNT(*) FROM ledger_entries e LEFT JOIN (SELECT entry_id, SUM(amount) s FROM ledger_allocations
			GROUP BY entry_id) x ON x.entry_id = e.id WHERE e.kind = 'expire' AND e.amount <> COALESCE(x.s, 0)`},
		{ledger.RuleNonNegative, `SELECT COUNT(*) FROM ledger_lots WHERE remaining < 0 OR expired < 0 OR remaining > amount
			OR (state = 'expired' AND expired <> amount)`},
		{"no due lot left", `SELECT COUNT(*) FROM ledger_lots WHERE state = 'active' AND remaining > 0 AND expires_at <= '` +
			f.clock.Now().UTC().Format("2006-01-02 15:04:05") + `'`},
	} {
		var bad int64
		if err := db.Raw(c.q).Scan(&bad).Error; err != nil {
			b.Fatalf("%s: %v", c.rule, err)
		}
		if bad != 0 {
			b.Fatalf("%d rows break %q", bad, c.rule)
		}
	}
	var entries struct{ N, Members int64 }
	if err := db.Raw(`SELECT COUNT(*) AS n, COUNT(DISTINCT member_id) AS members FROM ledger_entries WHERE kind = 'expire'`).
		Scan(&entries).Error; err != nil || entries.N != int64(members) || entries.Members != int64(members) {
		b.Fatalf("%+v expire entries (%v), want one for each of %d members", entries, err, members)
	}
	var expired int64
	if err := db.Raw(`SELECT COUNT(*) FROM ledger_lots WHERE state = 'expired'`).Scan(&expired).Error; err != nil || expired != int64(members*perMember) {
		b.Fatalf("%d expired lots (%v), want %d", expired, err, members*perMember)
	}
	step := max(members/200, 1)
	for m := 1; m <= members; m += step {
		if v, err := f.ledger.Check(ctx, int64(m)); err != nil || len(v) > 0 {
			b.Fatalf("member %d: %v %v", m, v, err)
		}
		bal, err := f.ledger.Balance(ctx, int64(m))
		want := int64(0)
		if m%4 == 0 {
			want = 7
		}
		if err != nil || bal.Available != want {
			b.Fatalf("member %d available %d (%v), want %d", m, bal.Available, err, want)
		}
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// seedBulk writes members 1..n, each with perMember available lots of 100
// expiring tomorrow (and every fourth one a lot of 7 expiring in a year),
// their earn entries and accounts, consistent with the ledger's
// invariants, in multi-row INSERTs from two goroutines.
func seedBulk(b *testing.B, f *expiryFixture, n, perMember int) {
	ctx := context.Background()
	now := f.clock.Now().UTC()
	exp, later := now.Add(24*time.Hour), now.Add(365*24*time.Hour)
	ts := func(t time.Time) string { return t.Format("2006-01-02 15:04:05.000") }
	const chunk = 2000 // members per statement group
	next := make(chan int)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := f.env.DB.Conn(ctx)
			for lo := range next {
				hi := min(lo+chunk-1, n)
				var acc, ent, lot []string
				for m := lo; m <= hi; m++ {
					// Entry ids are chosen: member m's entries are
					// (m-1)*(perMember+1)+1 … m*(perMember+1).
					id := (m - 1) * (perMember + 1)
					k := perMember
					if m%4 == 0 {
						k++
					}
					avail := 0
					for j := range k {
						id++
						pts, until := 100, exp
						if j == perMember {
							pts, until = 7, later
						}
						avail += pts
						ent = append(ent, fmt.Sprintf("(%d,%d,'earn',%d,%d,%d,'order','%d',0,'bench-%d','','','','system','%s')", id, m, pts, pts, avail, id, id, ts(now)))
						lot = append(lot, fmt.Sprintf("(%d,%d,%d,%d,0,'active','%s','%s','%s')", m, id, pts, pts, ts(now), ts(until), ts(now)))
					}
					acc = append(acc, fmt.Sprintf("(%d,%d,0,0,0,%d,%d,'%s')", m, avail, avail, k, ts(now)))
				}
				for _, q := range []string{
					"INSERT INTO ledger_accounts (member_id,available,pending,held,debt,lifetime_earned,version,updated_at) VALUES " + strings.Join(acc, ","),
					"INSERT INTO ledger_entries (id,member_id,kind,amount,delta,balance_after,ref_type,ref_id,related_id,idem_key,request_hash,title,reason,operator,created_at) VALUES " + strings.Join(ent, ","),
					"INSERT INTO ledger_lots (member_id,entry_id,amount,remaining,expired,state,available_at,expires_at,created_at) VALUES " + strings.Join(lot, ","),
				} {
					if err := db.Exec(q).Error; err != nil {
						b.Error(err)
						return
					}
				}
			}
		}()
	}
	for lo := 1; lo <= n; lo += chunk {
		next <- lo
	}
	close(next)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// BenchmarkDispatch sends JIFEN_BENCH_MESSAGES subscribe messages (100,000
// by default) to as many members through the outbox to the in-process
// simulator: 8 workers, JIFEN_BENCH_BATCH rows claimed at a time (500 by
// default), JIFEN_BENCH_CHUNK rows committed together (8 by default; 1 is
// row by row). It reports msgs/s beside the raw commit rate of the same run:
//
//	JIFEN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' go test -run '^$' -bench Dispatch -benchtime 1x ./repo/reminderstore/
func BenchmarkDispatch(b *testing.B) {
	n := envInt("JIFEN_BENCH_MESSAGES", 100_000)
	raw := testenv.RawCommitRate(b, 20_000)
	for range b.N {
		b.StopTimer()
		f := newBenchDispatch(b)
		f.d.Workers, f.d.Batch, f.d.Chunk = 8, envInt("JIFEN_BENCH_BATCH", 500), envInt("JIFEN_BENCH_CHUNK", 8)
		var ds []reminder.Delivery
		for i := 1; i <= n; i++ {
			simServer.GrantSubscription(f.openid(i), "tmpl-bench", 1)
			ds = append(ds, reminder.Delivery{Campaign: "bench", MemberID: int64(i), Channel: reminder.Subscribe, NextAt: f.clock.Now(),
				Message: reminder.Message{To: f.openid(i), TemplateID: "tmpl-bench", Data: map[string]string{"thing1": "100 积分"}}})
		}
		ctx := context.Background()
		if _, err := f.outbox.Enqueue(ctx, ds); err != nil {
			b.Fatal(err)
		}
		for lo := 1; lo <= n; lo += 500 {
			var q []string
			for m := lo; m < lo+500 && m <= n; m++ {
				q = append(q, fmt.Sprintf("(%d,'tmpl-bench',1,'2026-01-01 00:00:00')", m))
			}
			if err := f.env.DB.Conn(ctx).Exec("INSERT INTO reminder_subscriptions (member_id,template_id,quota,updated_at) VALUES " + strings.Join(q, ",")).Error; err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		rep, err := f.d.Drain(ctx)
		el := time.Since(start)
		if err != nil || rep.Sent != n {
			b.Fatalf("drain %+v %v", rep, err)
		}
		rate := float64(n) / el.Seconds()
		b.ReportMetric(rate, "msgs/s")
		b.ReportMetric(raw, "raw_commits/s")
		b.ReportMetric(rate/raw, "x_raw")
		b.Logf("%s: sent %d subscribe messages in %s, batch %d, chunk %d: %.0f msgs/s; raw commit %.0f/s; ratio %.2f",
			f.env.Backend, n, el.Round(time.Millisecond), f.d.Batch, f.d.Chunk, rate, raw, rate/raw)
	}
}
