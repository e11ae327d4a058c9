package shopper_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/risk"
)

// BenchmarkSpendRisk measures what the points_laundering rule adds to a
// mall redemption: 200 members with 40 earnings each (yesterday's: a
// member's history is read only as far back as the window) redeem a
// 10-point item in turn, alternately without and
// with the check POST /shopper/mall/items/{id}/redemptions runs after it
// (the default policy: one read of the member's newest 16 entries). It
// reports both costs and their ratio, measured in the same run:
//
//	go test ./bff/shopper/ -run '^$' -bench SpendRisk -benchtime 2000x
func BenchmarkSpendRisk(b *testing.B) {
	h := apptest.New(b)
	ctx := context.Background()
	const members, history = 200, 40
	ids := make([]int64, members)
	for i := range ids {
		m := &member.Member{OpenID: fmt.Sprint("bench-spend-", i), CreatedAt: h.Clock.Now(), LastActive: h.Clock.Now()}
		if err := h.App.Members.Store.Create(ctx, m); err != nil {
			b.Fatal(err)
		}
		ids[i] = m.ID
		for j := range history {
			if _, err := h.App.Ledger.Earn(ctx, ledger.EarnInput{MemberID: m.ID, Points: 500, Key: fmt.Sprintf("bench-%d-%d", i, j),
				Ref: ledger.Ref{Type: "order", ID: fmt.Sprintf("%d-%d", i, j)}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	r := h.Do("POST", "/api/v1/console/mall/items", fmt.Sprintf(`{"kind":"virtual","name":"券","category":"c","points":10,"stock":%d,"enabled":true}`, b.N+1),
		apptest.Auth(h.ConsoleLogin("marketer"))...)
	if r.Status != 201 {
		b.Fatalf("create item: %d %s", r.Status, r.Body)
	}
	item := int64(r.JSON()["item"].(map[string]any)["id"].(float64))
	h.Clock.Advance(24 * time.Hour) // the earnings were yesterday's: no cycle, outside today's window
	var without, with time.Duration
	var nWithout, nWith int
	b.ResetTimer()
	for i := range b.N {
		id := ids[i%members]
		start := time.Now()
		if _, err := h.App.Mall.Redeem(ctx, id, item, fmt.Sprint("bench-r-", i)); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			without += time.Since(start)
			nWithout++
			continue
		}
		if _, err := h.App.Risk.ObserveSpend(ctx, id); err != nil {
			b.Fatal(err)
		}
		with += time.Since(start)
		nWith++
	}
	b.StopTimer()
	if nWithout == 0 || nWith == 0 {
		return
	}
	w, x := float64(without.Nanoseconds())/float64(nWithout), float64(with.Nanoseconds())/float64(nWith)
	b.ReportMetric(w, "ns/redeem")
	b.ReportMetric(x, "ns/redeem+risk")
	b.ReportMetric(x/w, "ratio")
	if flags, err := h.App.Risk.Flags(ctx, risk.FlagQuery{Limit: 1}); err != nil || len(flags) != 0 {
		b.Fatalf("the benchmark's redemptions raised flags: %v %v", flags, err)
	}
}
