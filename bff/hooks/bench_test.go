package hooks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/repo/testenv"
)

// BenchmarkRawCommit is the raw single-row commit baseline (testenv.BenchRawCommit).
func BenchmarkRawCommit(b *testing.B) { testenv.BenchRawCommit(b) }

func noRateLimit(c *configs.Config) {
	c.RateLimit.PerIPPerMinute = 1 << 30
	withSecret(c)
}

// BenchmarkOrderWebhook posts signed paid events for 1,000 members with
// the default configuration (group commit of paid events, rule cache).
func BenchmarkOrderWebhook(b *testing.B) {
	h := apptest.New(b, noRateLimit)
	admin := h.ConsoleLogin("admin")
	createRule(h, admin, baseRule)
	createRule(h, admin, weekendRule)
	ids := make([]int64, 1000)
	for i := range ids {
		m := &member.Member{OpenID: fmt.Sprint("bench-", i), CreatedAt: h.Clock.Now(), LastActive: h.Clock.Now()}
		if err := h.App.Members.Store.Create(context.Background(), m); err != nil {
			b.Fatal(err)
		}
		ids[i] = m.ID
		// Steady state: accounts and tier rows exist (first-ever rows are
		// inserts whose gap locks are a different, one-off cost).
		if _, _, err := h.App.Tiers.AddGrowth(context.Background(), m.ID, 0); err != nil {
			b.Fatal(err)
		}
		if _, err := h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: m.ID, Points: 1, Key: fmt.Sprint("seed-", m.ID), Ref: ledger.Ref{Type: "seed", ID: "1"}}); err != nil {
			b.Fatal(err)
		}
	}
	secret := []byte(h.Config.Orders.WebhookSecret)
	at := h.Clock.Now().Format(time.RFC3339)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var seq atomic.Int64
	testenv.Parallel16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			body := fmt.Sprintf(`{"event_id":"%s-%d","type":"paid","order_id":"%s-%d","member":{"member_id":%d},"store_id":"S1","channel":"mini",`+
				`"occurred_at":"%s","total_fen":12800,"lines":[{"sku":"A1","category":"A","qty":1,"amount_fen":10000},{"sku":"B1","category":"B","qty":2,"amount_fen":2800}]}`,
				run, i, run, i, ids[i%1000], at)
			ts := strconv.FormatInt(h.Clock.Now().Unix(), 10)
			req := httptest.NewRequest("POST", "/api/v1/hooks/orders", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(hooks.HeaderTimestamp, ts)
			req.Header.Set(hooks.HeaderSignature, hooks.Sign(secret, ts, []byte(body)))
			rec := httptest.NewRecorder()
			h.App.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("%d %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.StopTimer()
	testenv.ReportOps(b)
	// How much group commit grouped: events answered by groups per group
	// (the other events ran alone).
	if groups, events := h.App.Orders.GroupStats(); groups > 0 {
		b.ReportMetric(float64(events)/float64(groups), "events/group")
		b.ReportMetric(float64(events)/float64(b.N), "grouped")
	}
}
