package shopper_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/risk"
)

// BenchmarkSigninRisk measures what risk control adds to a sign-in: the
// same wired service signs members in one after another, alternately
// without and with the velocity check that POST /shopper/signin runs
// after it (the default policy: device, IP and phone-prefix rules, so the
// phone is read and three counters are bumped). It reports both costs
// and their ratio, measured in the same run:
//
//	go test ./bff/shopper/ -run '^$' -bench SigninRisk -benchtime 2000x
func BenchmarkSigninRisk(b *testing.B) {
	h := apptest.New(b)
	ctx := context.Background()
	ids := make([]int64, b.N)
	for i := range ids {
		m := &member.Member{OpenID: fmt.Sprint("bench-risk-", i), Phone: fmt.Sprintf("139%04d%04d", i%10000, i%10000),
			CreatedAt: h.Clock.Now(), LastActive: h.Clock.Now()}
		if err := h.App.Members.Store.Create(ctx, m); err != nil {
			b.Fatal(err)
		}
		ids[i] = m.ID
	}
	var without, with time.Duration
	var nWithout, nWith int
	b.ResetTimer()
	for i, id := range ids {
		start := time.Now()
		if _, err := h.App.Signin.SignIn(ctx, id); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			without += time.Since(start)
			nWithout++
			continue
		}
		ev := risk.Event{MemberID: id, Action: risk.SignIn, DeviceID: fmt.Sprint("dev-", i), IP: fmt.Sprintf("10.%d.%d.1", i/250%250, i%250)}
		if _, err := h.App.Risk.Observe(ctx, ev); err != nil {
			b.Fatal(err)
		}
		with += time.Since(start)
		nWith++
	}
	b.StopTimer()
	if nWithout == 0 || nWith == 0 {
		return
	}
	w, r := float64(without.Nanoseconds())/float64(nWithout), float64(with.Nanoseconds())/float64(nWith)
	b.ReportMetric(w, "ns/signin")
	b.ReportMetric(r, "ns/signin+risk")
	b.ReportMetric(r/w, "ratio")
	if flags, err := h.App.Risk.Flags(ctx, risk.FlagQuery{Limit: 1}); err != nil || len(flags) != 0 {
		b.Fatalf("the benchmark's sign-ins raised flags: %v %v", flags, err)
	}
}
