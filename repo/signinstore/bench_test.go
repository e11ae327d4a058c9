package signinstore_test

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/repo/testenv"
)

// BenchmarkRawCommit is the raw single-row commit baseline (testenv.BenchRawCommit).
func BenchmarkRawCommit(b *testing.B) { testenv.BenchRawCommit(b) }

func service(b *testing.B, clock domain.Clock) (*signin.Service, *testenv.Env) {
	f := newFixture(b, clock)
	return f.svc, f.env
}

// BenchmarkSignIn signs members 1..10,000 in (one sign-in each per day;
// the clock moves a day every 10,000 operations) with group commit as
// configured by default (1 committer); JIFEN_BENCH_SIGNIN_COMMITTERS=n
// tries n (0: every sign-in alone). signins/group is the mean group size.
func BenchmarkSignIn(b *testing.B) {
	clock := domain.NewFakeClock(time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	svc, _ := service(b, clock)
	if n, err := strconv.Atoi(os.Getenv("JIFEN_BENCH_SIGNIN_COMMITTERS")); err == nil {
		svc.GroupCommit.Committers = n
	}
	ctx := context.Background()
	var seq atomic.Int64
	testenv.Parallel16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1) - 1
			if i > 0 && i%10000 == 0 {
				clock.Advance(24 * time.Hour) // good enough for a benchmark: -benchtime=10000x keeps one day
			}
			if _, err := svc.SignIn(ctx, i%10000+1); err != nil && domain.ErrorCode(err) != domain.AlreadySignedIn {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	testenv.ReportOps(b)
	if groups, grouped := svc.GroupStats(); groups > 0 {
		b.ReportMetric(float64(grouped)/float64(groups), "signins/group")
	}
}

// BenchmarkCalendar reads calendars of 1,000 members who signed in (bitmap
// in Redis, streak and make-ups from SQL).
func BenchmarkCalendar(b *testing.B) {
	clock := domain.NewFakeClock(time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	svc, _ := service(b, clock)
	ctx := context.Background()
	for m := int64(1); m <= 1000; m++ {
		if _, err := svc.SignIn(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Int64
	testenv.Parallel16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := seq.Add(1)%1000 + 1
			if v, err := svc.Calendar(ctx, m, ""); err != nil || !v.SignedToday {
				b.Errorf("calendar %d: %+v %v", m, v, err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
