package shopper_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/repo/testenv"
)

// A sign-in made on an instance that cannot reach Redis, after the
// month's calendar was built there, shows on every instance's calendar
// once that instance reaches Redis again: its mark is remembered and sent
// again, not lost for the bitmap's life while a second sign-in is 409.
// Two instances share one database and one Redis; the first one's link to
// Redis is cut.
func TestSigninMarkedWithoutRedisShowsOnTheCalendar(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.WithProxies())
	a := apptest.NewOn(t, env)
	b := a.Instance(env.Instance(t))
	tok, _, _ := a.Login(apptest.UniqueUser("calout"))
	const month = "2026-11"
	for name, h := range map[string]*apptest.Harness{"a": a, "b": b} {
		if c := calendar(t, h, tok, month); c.SignedToday || len(c.SignedDays) != 0 {
			t.Fatalf("calendar on %s before the sign-in: %+v", name, c)
		}
	}

	env.RedisProxy.Cut()
	signIn(t, a, tok)
	env.RedisProxy.Restore()

	start := time.Now()
	for {
		c := calendar(t, b, tok, month)
		if c.SignedToday && slices.Equal(c.SignedDays, []int{23}) {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("calendar on b %v after a's Redis came back: %+v; want today (23) signed", time.Since(start), c)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// a's breaker waits out its cooldown (redis.breaker_cooldown, 5 s), then
	// the mark goes within its retry period.
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("the mark reached b's calendar %v after a's Redis came back; want within the breaker's cooldown and a retry", took)
	}
	if c := calendar(t, a, tok, month); !c.SignedToday || !slices.Equal(c.SignedDays, []int{23}) {
		t.Errorf("calendar on a: %+v", c)
	}
	if r := b.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)...); r.Status != http.StatusConflict {
		t.Errorf("second sign-in: %d %s", r.Status, r.Body)
	}
}
