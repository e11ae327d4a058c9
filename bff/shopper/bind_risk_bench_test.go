package shopper_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/domain/risk"
)

// BenchmarkBindRisk measures what the referral_ring rule adds to a bind:
// the wired referral service binds members into a tree of fan-out 3 (each
// bind walks the chain above its inviter, as the loop check always did),
// alternately without and with risk control listening for loops, and
// reports both costs and their ratio from the same run:
//
//	go test ./bff/shopper/ -run '^$' -bench BindRisk -benchtime 2000x
func BenchmarkBindRisk(b *testing.B) {
	h := apptest.New(b)
	ctx := context.Background()
	ids := make([]int64, b.N+1)
	codes := make([]string, b.N+1)
	for i := range ids {
		m := &member.Member{OpenID: fmt.Sprint("bench-bind-", i), CreatedAt: h.Clock.Now(), LastActive: h.Clock.Now()}
		if err := h.App.Members.Store.Create(ctx, m); err != nil {
			b.Fatal(err)
		}
		ids[i] = m.ID
		c, err := h.App.Referral.Code(ctx, m.ID)
		if err != nil {
			b.Fatal(err)
		}
		codes[i] = c
	}
	svc := h.App.Referral
	rings := svc.Rings
	defer func() { svc.Rings = rings }()
	var without, with time.Duration
	var nWithout, nWith int
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		on := i/2%2 == 0 // pairs alternate, so neither side always has odd or even members
		svc.Rings = map[bool]referral.RingWatcher{false: nil, true: rings}[on]
		start := time.Now()
		if _, err := svc.Bind(ctx, ids[i], codes[(i-1)/3]); err != nil {
			b.Fatal(err)
		}
		if !on {
			without += time.Since(start)
			nWithout++
		} else {
			with += time.Since(start)
			nWith++
		}
	}
	b.StopTimer()
	if nWithout == 0 || nWith == 0 {
		return
	}
	w, r := float64(without.Nanoseconds())/float64(nWithout), float64(with.Nanoseconds())/float64(nWith)
	b.ReportMetric(w, "ns/bind")
	b.ReportMetric(r, "ns/bind+risk")
	b.ReportMetric(r/w, "ratio")
	if flags, err := h.App.Risk.Flags(ctx, risk.FlagQuery{Limit: 1}); err != nil || len(flags) != 0 {
		b.Fatalf("the benchmark's binds raised flags: %v %v", flags, err)
	}
}
