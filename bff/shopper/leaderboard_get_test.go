package shopper_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

type boardResp struct {
	Board  string `json:"board"`
	Period string `json:"period"`
	Top    []struct {
		Rank  int    `json:"rank"`
		Name  string `json:"name"`
		Score int64  `json:"score"`
	} `json:"top"`
	Me struct {
		Rank  *int  `json:"rank"`
		Score int64 `json:"score"`
	} `json:"me"`
}

func board(t *testing.T, h *apptest.Harness, tok, name string) boardResp {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/leaderboards/"+name+"?limit=10", nil, apptest.Auth(tok)...)
	if r.Status != http.StatusOK {
		t.Fatalf("board %s: %d %s", name, r.Status, r.Body)
	}
	var out boardResp
	r.Decode(t, &out)
	return out
}

func scores(b boardResp) []int64 {
	var out []int64
	for _, e := range b.Top {
		out = append(out, e.Score)
	}
	return out
}

func TestLeaderboardsFollowSigninsAndRebuild(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	users := []string{apptest.UniqueUser("lb-a"), apptest.UniqueUser("lb-b"), apptest.UniqueUser("lb-c")}
	login := func(i int) string { tok, _, _ := h.Login(users[i]); return tok }
	// Sunday 11-22 (previous ISO week): a and b sign in. Monday 11-23: all three.
	h.Clock.Set(time.Date(2026, 11, 22, 9, 0, 0, 0, apptest.Start.Location()))
	signIn(t, h, login(0))
	signIn(t, h, login(1))
	lastWeek := board(t, h, login(0), "points_week")
	if lastWeek.Period != "2026-W47" || !reflect.DeepEqual(scores(lastWeek), []int64{10, 10}) {
		t.Fatalf("last week: %+v", lastWeek)
	}
	h.Clock.Set(apptest.Start)
	// Build both boards before the sign-ins, so they are bumped in the flow.
	c := login(2)
	if b := board(t, h, c, "points_week"); b.Period != "2026-W48" || len(b.Top) != 0 || b.Me.Rank != nil || b.Me.Score != 0 {
		t.Fatalf("new week before anyone signed: %+v", b)
	}
	if b := board(t, h, c, "signin_streak"); !reflect.DeepEqual(scores(b), []int64{1, 1}) {
		t.Fatalf("streaks carried from yesterday: %+v", b)
	}
	signIn(t, h, login(0))
	signIn(t, h, login(1))
	signIn(t, h, c)
	streak := board(t, h, c, "signin_streak")
	if !reflect.DeepEqual(scores(streak), []int64{2, 2, 1}) || *streak.Me.Rank != 3 || streak.Me.Score != 1 {
		t.Fatalf("streaks: %+v", streak)
	}
	week := board(t, h, c, "points_week")
	if !reflect.DeepEqual(scores(week), []int64{10, 10, 10}) || week.Top[0].Name != "微信用户" {
		t.Fatalf("week: %+v", week)
	}
	if err := h.Env.Redis.DeleteAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again := board(t, h, c, "signin_streak"); !reflect.DeepEqual(again, streak) {
		t.Fatalf("rebuilt streaks %+v, want %+v", again, streak)
	}
	if again := board(t, h, c, "points_week"); !reflect.DeepEqual(again, week) {
		t.Fatalf("rebuilt week %+v, want %+v", again, week)
	}
	// Next Monday: a new week, and streaks that were not continued are gone.
	h.Clock.Set(apptest.Start.AddDate(0, 0, 7))
	c = login(2)
	if b := board(t, h, c, "points_week"); b.Period != "2026-W49" || len(b.Top) != 0 {
		t.Fatalf("next week: %+v", b)
	}
	if b := board(t, h, c, "signin_streak"); len(b.Top) != 0 {
		t.Fatalf("stale streaks: %+v", b)
	}
	for _, q := range []string{"/nope", "/points_week?limit=0", "/points_week?limit=101", "/points_week?limit=x"} {
		r := h.Send(q == "/nope", "GET", "/api/v1/shopper/leaderboards"+q, nil, apptest.Auth(c)...)
		if r.Status != 404 && r.Status != 400 {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	if r := h.Do("GET", "/api/v1/shopper/leaderboards/nope", nil, apptest.Auth(c)...); r.Status != 404 || r.ErrorCode() != "NOT_FOUND" {
		t.Errorf("unknown board: %d", r.Status)
	}
	if r := h.Do("GET", "/api/v1/shopper/leaderboards/points_week", nil); r.Status != 401 {
		t.Errorf("no token: %d", r.Status)
	}
}
