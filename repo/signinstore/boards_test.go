package signinstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/leaderboard"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/repo/boardstore"
)

// updates counts the calls that reach the boards' cache and the changes
// they carry, around the real Redis cache.
type updates struct {
	leaderboard.Cache
	mu      sync.Mutex
	calls   int
	changes map[int64]int // by member
}

func (u *updates) Update(ctx context.Context, cs []leaderboard.Change) error {
	u.mu.Lock()
	u.calls++
	for _, c := range cs {
		u.changes[c.MemberID]++
	}
	u.mu.Unlock()
	return u.Cache.Update(ctx, cs)
}

// TestGroupedSignInsTellTheBoardsOnce: a group of sign-ins tells both
// boards (streaks and the week's points) in one call to the cache after its
// commit, not one call per sign-in; each member's streak and points land on
// the built boards all the same.
func TestGroupedSignInsTellTheBoardsOnce(t *testing.T) {
	t.Parallel()
	clock := domain.NewFakeClock(monday)
	f := newFixture(t, clock)
	cache := &updates{Cache: &boardstore.Cache{R: f.env.Redis}, changes: map[int64]int{}}
	boards := &leaderboard.Service{Cache: cache, Clock: clock}
	boards.Register(boardstore.PointsWeek(f.env.DB))
	boards.Register(boardstore.SigninStreak(f.store))
	f.svc.Streaks, f.svc.Points = boards, boards
	week, day := "points_week:"+leaderboard.WeekPeriod(clock.Now()), "signin_streak:"+leaderboard.DayPeriod(clock.Now())
	for _, k := range []string{week, day} {
		if err := cache.Fill(f.ctx, k, nil, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	ms := members(120)
	got := tapAll(ms, 1, func(m int64) (signin.Result, error) { return f.svc.SignIn(f.ctx, m) })
	today := domain.DayOf(clock.Now())
	checkDay(t, today.String(), got, func(int64) signin.Result {
		return signin.Result{Day: today, Streak: 1, Balance: 10, Awarded: []signin.Line{{Points: 10}}}
	})
	groups, grouped := f.svc.GroupStats()
	alone := int64(len(ms)) - grouped
	if groups == 0 || grouped <= groups {
		t.Fatalf("no grouping: %d groups answered %d sign-ins", groups, grouped)
	}
	if int64(cache.calls) != groups+alone {
		t.Errorf("%d calls to the boards' cache for %d groups and %d sign-ins alone; want one per group or lone sign-in", cache.calls, groups, alone)
	}
	for _, m := range ms {
		if cache.changes[m] != 2 {
			t.Errorf("member %d: %d board changes, want 2 (streak and points)", m, cache.changes[m])
		}
		for k, want := range map[string]int64{week: 10, day: 1} {
			if e, found, err := cache.Own(f.ctx, k, m); err != nil || !found || e.Score != want {
				t.Errorf("member %d on %s: %+v found=%v %v, want score %d", m, k, e, found, err, want)
			}
		}
	}
}
