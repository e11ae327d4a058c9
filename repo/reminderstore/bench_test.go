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

	"github.com/jifen/jifen/domain/reminder"
)

// BenchmarkExpiry expires JIFEN_BENCH_LOTS lots (100,000 by default), one
// per member, seeded with bulk SQL, with JIFEN_BENCH_INSTANCES expiry jobs
// (2 by default) sharing the run:
//
//	JIFEN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' go test -run '^$' -bench Expiry -benchtime 1x ./repo/reminderstore/
func BenchmarkExpiry(b *testing.B) {
	lots := envInt("JIFEN_BENCH_LOTS", 100_000)
	instances := envInt("JIFEN_BENCH_INSTANCES", 2)
	for range b.N {
		b.StopTimer()
		f := newExpiryFixture(b)
		seedBulk(b, f, lots)
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
					Owner: fmt.Sprintf("bench-%d", i), RangeSize: 10_000, BatchSize: 200, Lease: time.Minute}
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
		if total != int64(lots) {
			b.Fatalf("expired %d, want %d", total, lots)
		}
		b.ReportMetric(float64(lots)/el.Seconds(), "lots/s")
		b.Logf("%s: expired %d lots in %s with %d instances (%.0f lots/s)", f.env.Backend, lots, el, instances, float64(lots)/el.Seconds())
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// seedBulk writes n members with one available lot of 100 expiring
// tomorrow, consistent with the ledger's invariants, in multi-row INSERTs.
func seedBulk(b *testing.B, f *expiryFixture, n int) {
	db := f.env.DB.Conn(context.Background())
	now := f.clock.Now().UTC()
	exp := now.Add(24 * time.Hour)
	ts := func(t time.Time) string { return t.Format("2006-01-02 15:04:05.000") }
	const chunk = 1000
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		var acc, ent, lot []string
		for m := lo; m <= hi; m++ {
			acc = append(acc, fmt.Sprintf("(%d,100,0,0,0,100,1,'%s')", m, ts(now)))
			ent = append(ent, fmt.Sprintf("(%d,%d,'earn',100,100,100,'order','%d',0,'bench-%d','','','','system','%s')", m, m, m, m, ts(now)))
			lot = append(lot, fmt.Sprintf("(%d,%d,100,100,0,'active','%s','%s','%s')", m, m, ts(now), ts(exp), ts(now)))
		}
		for _, q := range []string{
			"INSERT INTO ledger_accounts (member_id,available,pending,held,debt,lifetime_earned,version,updated_at) VALUES " + strings.Join(acc, ","),
			"INSERT INTO ledger_entries (id,member_id,kind,amount,delta,balance_after,ref_type,ref_id,related_id,idem_key,request_hash,title,reason,operator,created_at) VALUES " + strings.Join(ent, ","),
			"INSERT INTO ledger_lots (member_id,entry_id,amount,remaining,expired,state,available_at,expires_at,created_at) VALUES " + strings.Join(lot, ","),
		} {
			if err := db.Exec(q).Error; err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDispatch sends JIFEN_BENCH_MESSAGES subscribe messages (5,000 by
// default) through the outbox to the in-process simulator, 8 workers:
//
//	go test -run '^$' -bench Dispatch -benchtime 1x ./repo/reminderstore/
func BenchmarkDispatch(b *testing.B) {
	n := envInt("JIFEN_BENCH_MESSAGES", 5_000)
	for range b.N {
		b.StopTimer()
		f := newBenchDispatch(b)
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
		b.ReportMetric(float64(n)/el.Seconds(), "msgs/s")
		b.Logf("%s: sent %d subscribe messages in %s (%.0f msgs/s)", f.env.Backend, n, el, float64(n)/el.Seconds())
	}
}
