package shopper_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/repo/testenv"
)

type meResp struct {
	Member struct {
		ID       int64  `json:"id"`
		Nickname string `json:"nickname"`
		Birthday string `json:"birthday"`
	} `json:"member"`
	Points struct {
		Available int64 `json:"available"`
		Pending   int64 `json:"pending"`
	} `json:"points"`
}

func getMe(t *testing.T, h *apptest.Harness, tok string) meResp {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
	if r.Status != http.StatusOK {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	var out meResp
	r.Decode(t, &out)
	return out
}

// TestMeIsCachedAndEveryWriteDropsIt: GET /me is answered from the cache
// (a change made behind the services' back is not seen), and every write
// to the member's points — a console credit and debit (one by one), a
// sign-in (group commit) — or profile drops it: the next /me shows the
// write, never the balance before it.
func TestMeIsCachedAndEveryWriteDropsIt(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	tok, _, id := h.Login(apptest.UniqueUser("mecache"))
	admin := h.ConsoleLogin("admin")
	db := h.Env.DB.Conn(context.Background())
	if me := getMe(t, h, tok); me.Points.Available != 0 || me.Member.Nickname != "" {
		t.Fatalf("new member's /me: %+v", me)
	}
	// Behind the services' back: a cached answer does not see it.
	if err := db.Exec("UPDATE members SET nickname = ? WHERE id = ?", "behind", id).Error; err != nil {
		t.Fatal(err)
	}
	if me := getMe(t, h, tok); me.Member.Nickname != "" {
		t.Fatalf("/me read the database again (nickname %q): the answer was not cached", me.Member.Nickname)
	}

	adjust := func(delta int64, key string) {
		t.Helper()
		r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), map[string]any{"delta": delta, "reason": "cache test"},
			append(apptest.Auth(admin), "Idempotency-Key", key)...)
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("adjust %+d: %d %s", delta, r.Status, r.Body)
		}
	}
	adjust(25, "mecache-1")
	me := getMe(t, h, tok)
	if me.Points.Available != 25 || me.Member.Nickname != "behind" {
		t.Fatalf("after +25: %+v, want 25 points and the answer rebuilt", me)
	}
	getMe(t, h, tok) // cached again
	adjust(-7, "mecache-2")
	if me := getMe(t, h, tok); me.Points.Available != 18 {
		t.Fatalf("after -7: %d points, want 18", me.Points.Available)
	}
	s := signIn(t, h, tok)
	if me := getMe(t, h, tok); me.Points.Available != 18+s.total() || s.total() == 0 {
		t.Fatalf("after a sign-in worth %d: %d points, want %d", s.total(), me.Points.Available, 18+s.total())
	}
	r := h.Do("PUT", "/api/v1/shopper/profile", map[string]any{"birthday": "1990-05-06"}, apptest.Auth(tok)...)
	if r.Status != http.StatusOK {
		t.Fatalf("profile: %d %s", r.Status, r.Body)
	}
	if me := getMe(t, h, tok); me.Member.Birthday != "1990-05-06" {
		t.Fatalf("after setting the birthday: %+v", me.Member)
	}
}

// TestMeWithoutRedisReadsTheDatabase: with Redis gone, GET /me still
// answers (from the database) and shows every write.
func TestMeWithoutRedisReadsTheDatabase(t *testing.T) {
	t.Parallel()
	h := apptest.NewOn(t, testenv.New(t, testenv.WithProxies()))
	tok, _, id := h.Login(apptest.UniqueUser("menoredis"))
	admin := h.ConsoleLogin("admin")
	getMe(t, h, tok)
	h.Env.RedisProxy.Cut()
	r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), map[string]any{"delta": 9, "reason": "outage"},
		append(apptest.Auth(admin), "Idempotency-Key", "menoredis-1")...)
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("adjust without Redis: %d %s", r.Status, r.Body)
	}
	if me := getMe(t, h, tok); me.Points.Available != 9 {
		t.Fatalf("without Redis: %d points, want 9", me.Points.Available)
	}
	// Redis is back, still holding the answer cached before the write
	// (0 points): the write's invalidation failed, so it is retried, and
	// this instance does not serve cached answers until it has landed.
	h.Env.RedisProxy.Restore()
	for i := 0; i < 3; i++ {
		if me := getMe(t, h, tok); me.Points.Available != 9 {
			t.Fatalf("Redis back, read %d: %d points, want 9", i, me.Points.Available)
		}
	}
}
