package leaderboard

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
)

// Week returns the Monday (Shanghai) starting the ISO week of t and the
// week's name, e.g. "2026-W48".
func Week(t time.Time) (domain.Day, string) {
	st := t.In(domain.Shanghai)
	y, w := st.ISOWeek()
	wd := (int(st.Weekday()) + 6) % 7 // Monday = 0
	return domain.DayOf(st).AddDays(-wd), fmt.Sprintf("%04d-W%02d", y, w)
}

// Func is a Board made of functions, for registering a board without a
// type of its own (the referral feature's invites board, for instance).
type Func struct {
	BoardName string
	PeriodOf  func(now time.Time) string
	ScoresOf  func(ctx context.Context, now time.Time) (map[int64]int64, error)
}

// Name implements Board.
func (f Func) Name() string { return f.BoardName }

// Period implements Board; nil PeriodOf means one all-time instance.
func (f Func) Period(now time.Time) string {
	if f.PeriodOf == nil {
		return "all"
	}
	return f.PeriodOf(now)
}

// Scores implements Board.
func (f Func) Scores(ctx context.Context, now time.Time) (map[int64]int64, error) {
	return f.ScoresOf(ctx, now)
}

// WeekPeriod names the ISO week of now.
func WeekPeriod(now time.Time) string { _, n := Week(now); return n }

// DayPeriod names the Shanghai day of now (yyyymmdd).
func DayPeriod(now time.Time) string { return fmt.Sprint(domain.DayOf(now).Int()) }

// The built-in boards.
const (
	PointsWeek   = "points_week"
	SigninStreak = "signin_streak"
)

// StreakChanged sets the member's score on signin_streak (signin.StreakBoard).
func (s *Service) StreakChanged(ctx context.Context, memberID int64, streak int) {
	s.Set(ctx, SigninStreak, memberID, int64(streak))
}

// SignIn is one member's sign-in as the boards see it: the streak it
// reached and the points it earned.
type SignIn struct {
	MemberID int64
	Streak   int
	Earned   int64
}

// SignedIn is StreakChanged and, when Earned > 0, Earned for each sign-in,
// in one call to the cache (signin.Boards): a group of sign-ins changes
// each board with one script call, whatever its size.
func (s *Service) SignedIn(ctx context.Context, signins []SignIn) {
	now := s.Clock.Now()
	streaks, streaksErr := s.board(SigninStreak)
	points, pointsErr := s.board(PointsWeek)
	var cs []Change
	for _, in := range signins {
		if streaksErr == nil {
			cs = append(cs, Change{Key: key(streaks, now), MemberID: in.MemberID, Score: int64(in.Streak), Set: true})
		}
		if pointsErr == nil && in.Earned > 0 {
			cs = append(cs, Change{Key: key(points, now), MemberID: in.MemberID, Score: in.Earned})
		}
	}
	if len(cs) > 0 {
		_ = s.Cache.Update(ctx, cs)
	}
}

// Earned adds to the member's score on points_week (signin.PointsBoard).
// Every flow that earns points should call it after its commit; flows that
// do not are picked up when the board's TTL runs out.
func (s *Service) Earned(ctx context.Context, memberID int64, points int64) {
	s.Add(ctx, PointsWeek, memberID, points)
}
