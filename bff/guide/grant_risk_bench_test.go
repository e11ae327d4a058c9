package guide_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/risk"
)

// BenchmarkGrantRisk measures what the guide rules add to a grant: one
// guide grants 1 point at a time to 200 customers, a minute apart (so
// the budget, b.N points, is used up by the last grant after more than the
// rule's hour and raises nothing), alternately in pairs without and with
// risk control watching, and reports both costs and their ratio:
//
//	go test ./bff/guide/ -run '^$' -bench GrantRisk -benchtime 2000x
func BenchmarkGrantRisk(b *testing.B) {
	h := apptest.New(b)
	ctx := context.Background()
	svc := h.App.Guides
	a := guide.Actor{Name: "root", Role: "admin"}
	name, robot := "bench", "robot-bench"
	st, err := svc.CreateStore(ctx, a, guide.StoreInput{Name: &name, RobotKey: &robot})
	if err != nil {
		b.Fatal(err)
	}
	user, budget := "benchguide", int64(b.N)
	g, err := svc.CreateGuide(ctx, a, guide.GuideInput{UserID: &user, Name: &name, StoreID: &st.ID, MonthlyBudget: &budget})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, 200)
	for i := range ids {
		m := &member.Member{OpenID: fmt.Sprint("bench-grant-", i), CreatedAt: h.Clock.Now(), LastActive: h.Clock.Now()}
		if err := h.App.Members.Store.Create(ctx, m); err != nil {
			b.Fatal(err)
		}
		if err := svc.OnRegistered(ctx, m, member.LoginInfo{Scene: "g:" + g.Code}); err != nil {
			b.Fatal(err)
		}
		ids[i] = m.ID
	}
	watch := svc.Watch
	defer func() { svc.Watch = watch }()
	var without, with time.Duration
	var nWithout, nWith int
	b.ResetTimer()
	for i := range b.N {
		on := i/2%2 == 0
		svc.Watch = map[bool]guide.GrantWatcher{false: nil, true: watch}[on]
		start := time.Now()
		if _, err := svc.Grant(ctx, g.ID, guide.GrantRequest{MemberID: ids[i%len(ids)], Points: 1, Reason: "bench", Key: fmt.Sprint("k", i)}); err != nil {
			b.Fatal(err)
		}
		if on {
			with += time.Since(start)
			nWith++
		} else {
			without += time.Since(start)
			nWithout++
		}
		h.Clock.Advance(time.Minute)
	}
	b.StopTimer()
	if nWithout == 0 || nWith == 0 {
		return
	}
	w, r := float64(without.Nanoseconds())/float64(nWithout), float64(with.Nanoseconds())/float64(nWith)
	b.ReportMetric(w, "ns/grant")
	b.ReportMetric(r, "ns/grant+risk")
	b.ReportMetric(r/w, "ratio")
	if flags, err := h.App.Risk.Flags(ctx, risk.FlagQuery{Limit: 1}); err != nil || len(flags) != 0 {
		b.Fatalf("the benchmark's grants raised flags: %v %v", flags, err)
	}
}
