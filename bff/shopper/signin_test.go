package shopper_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

type signinResp struct {
	Date    string `json:"date"`
	Streak  int    `json:"streak"`
	Awarded []struct {
		Title  string `json:"title"`
		Points int64  `json:"points"`
	} `json:"awarded"`
	Balance int64 `json:"balance"`
}

func (r signinResp) total() int64 {
	var t int64
	for _, a := range r.Awarded {
		t += a.Points
	}
	return t
}

type calendarResp struct {
	Month       string `json:"month"`
	SignedDays  []int  `json:"signed_days"`
	Today       string `json:"today"`
	SignedToday bool   `json:"signed_today"`
	Streak      int    `json:"streak"`
	MakeupsLeft int    `json:"makeups_left"`
	MakeupCost  int64  `json:"makeup_cost"`
}

func signIn(t *testing.T, h *apptest.Harness, tok string) signinResp {
	t.Helper()
	r := h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)...)
	if r.Status != http.StatusCreated {
		t.Fatalf("sign in on %s: %d %s", h.Clock.Now().Format(time.DateOnly), r.Status, r.Body)
	}
	var out signinResp
	r.Decode(t, &out)
	return out
}

func calendar(t *testing.T, h *apptest.Harness, tok, month string) calendarResp {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/signin/calendar?month="+month, nil, apptest.Auth(tok)...)
	if r.Status != http.StatusOK {
		t.Fatalf("calendar %s: %d %s", month, r.Status, r.Body)
	}
	var out calendarResp
	r.Decode(t, &out)
	return out
}

func available(t *testing.T, h *apptest.Harness, tok string) int64 {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...)
	if r.Status != http.StatusOK {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	return int64(r.JSON()["points"].(map[string]any)["available"].(float64))
}

// Ten days from Monday 2026-11-23 with 11-26 missed and made up on 11-27:
// the streak reconnects, the 3-day bonus, the 7-day double and the 7-day
// cycle apply, and the calendar crosses into December.
func TestSigninTenDaysWithMakeup(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	user := apptest.UniqueUser("ten")
	tok, _, _ := h.Login(user)
	type day struct {
		date          string
		streak        int
		earned, after int64
	}
	steps := []day{
		{"2026-11-23", 1, 10, 10},
		{"2026-11-24", 2, 10, 20},
		{"2026-11-25", 3, 15, 35}, // day 3: +5
		{"2026-11-27", 1, 10, 45}, // 11-26 missed
		{"2026-11-28", 6, 10, 35}, // after the make-up of 11-26 (−20) on 11-27
		{"2026-11-29", 7, 20, 55}, // day 7: base doubled
		{"2026-11-30", 8, 10, 65}, // cycle restarts
		{"2026-12-01", 9, 10, 75},
		{"2026-12-02", 10, 15, 90}, // cycle day 3
	}
	for _, s := range steps {
		d, _ := time.ParseInLocation(time.DateOnly, s.date, apptest.Start.Location())
		h.Clock.Set(d.Add(9 * time.Hour))
		tok, _, _ = h.Login(user) // access tokens last 15 minutes
		got := signIn(t, h, tok)
		if got.Date != s.date || got.Streak != s.streak || got.total() != s.earned || got.Balance != s.after {
			t.Fatalf("%s: got %+v, want streak %d earned %d balance %d", s.date, got, s.streak, s.earned, s.after)
		}
		if s.date == "2026-11-27" {
			r := h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"2026-11-26"}`, apptest.Auth(tok)...)
			if r.Status != http.StatusCreated {
				t.Fatalf("makeup: %d %s", r.Status, r.Body)
			}
			var m signinResp
			r.Decode(t, &m)
			if m.Streak != 4 || m.Balance != 25 || len(m.Awarded) != 0 {
				t.Fatalf("makeup: %+v", m)
			}
			if c := calendar(t, h, tok, ""); c.Streak != 5 || c.MakeupsLeft != 1 || !c.SignedToday {
				t.Fatalf("calendar after makeup: %+v", c)
			}
		}
	}
	if b := available(t, h, tok); b != 90 {
		t.Fatalf("balance %d, want 90", b)
	}
	nov := calendar(t, h, tok, "2026-11")
	if want := []int{23, 24, 25, 26, 27, 28, 29, 30}; !reflect.DeepEqual(nov.SignedDays, want) || nov.Streak != 10 || nov.MakeupsLeft != 2 {
		t.Fatalf("november: %+v", nov)
	}
	dec := calendar(t, h, tok, "")
	if dec.Month != "2026-12" || !reflect.DeepEqual(dec.SignedDays, []int{1, 2}) || !dec.SignedToday || dec.Today != "2026-12-02" {
		t.Fatalf("december: %+v", dec)
	}
	// Redis lost: the same calendars come back from SQL.
	if err := h.Env.Redis.DeleteAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again := calendar(t, h, tok, "2026-11"); !reflect.DeepEqual(again, nov) {
		t.Fatalf("rebuilt november %+v, want %+v", again, nov)
	}
	if again := calendar(t, h, tok, "2026-12"); !reflect.DeepEqual(again, dec) {
		t.Fatalf("rebuilt december %+v, want %+v", again, dec)
	}
	// A missed day breaks the streak.
	h.Clock.Set(h.Clock.Now().Add(48 * time.Hour))
	tok, _, _ = h.Login(user)
	if c := calendar(t, h, tok, ""); c.Streak != 0 || c.SignedToday {
		t.Fatalf("after a gap: %+v", c)
	}
	if got := signIn(t, h, tok); got.Streak != 1 {
		t.Fatalf("after a gap: %+v", got)
	}
}

func TestSigninOncePerDayUnderConcurrentTaps(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	user := apptest.UniqueUser("taps")
	tok, _, _ := h.Login(user)
	var wg sync.WaitGroup
	statuses := make(chan int, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)...)
			if r.Status == http.StatusConflict && r.ErrorCode() != "ALREADY_SIGNED_IN" {
				t.Errorf("409 with %s", r.ErrorCode())
			}
			statuses <- r.Status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != 9 {
		t.Fatalf("statuses %v, want one 201 and nine 409", count)
	}
	if b := available(t, h, tok); b != 10 {
		t.Fatalf("balance %d, want 10 (one award)", b)
	}
	r := h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)...)
	if r.Status != 409 || r.ErrorCode() != "ALREADY_SIGNED_IN" {
		t.Fatalf("again: %d %s", r.Status, r.Body)
	}
	// 23:59:59 is still the same Shanghai day; 00:00 the next.
	h.Clock.Set(time.Date(2026, 11, 23, 23, 59, 59, 0, apptest.Start.Location()))
	tok, _, _ = h.Login(user)
	if r := h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(tok)...); r.Status != 409 {
		t.Fatalf("23:59:59: %d", r.Status)
	}
	h.Clock.Advance(time.Second)
	if got := signIn(t, h, tok); got.Date != "2026-11-24" || got.Streak != 2 {
		t.Fatalf("midnight: %+v", got)
	}
}

func TestSigninMakeupRefusals(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	user := apptest.UniqueUser("makeup")
	// 11-20 signed, today 11-23 signed; 30 points on the account.
	h.Clock.Set(time.Date(2026, 11, 20, 9, 0, 0, 0, apptest.Start.Location()))
	tok, _, id := h.Login(user)
	signIn(t, h, tok)
	h.Clock.Set(apptest.Start)
	tok, _, _ = h.Login(user)
	signIn(t, h, tok)
	other, _, _ := h.LoginJoined(apptest.UniqueUser("makeup-other"), apptest.MonthStart)
	admin := h.ConsoleLogin("admin")
	r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), `{"delta":10,"reason":"seed"}`, append(apptest.Auth(admin), "Idempotency-Key", "seed")...)
	if r.Status != 201 {
		t.Fatalf("seed: %d %s", r.Status, r.Body)
	}
	before := calendar(t, h, tok, "")
	cases := []struct {
		name, body string
		auth       []string
		status     int
		code       string
	}{
		{"future", `{"date":"2026-11-24"}`, apptest.Auth(tok), 422, "RULE_VIOLATION"},
		{"today", `{"date":"2026-11-23"}`, apptest.Auth(tok), 422, "RULE_VIOLATION"},
		{"other month", `{"date":"2026-10-30"}`, apptest.Auth(tok), 422, "RULE_VIOLATION"},
		{"signed day", `{"date":"2026-11-20"}`, apptest.Auth(tok), 409, "ALREADY_SIGNED_IN"},
		{"bad date", `{"date":"2026-11-31"}`, apptest.Auth(tok), 400, "INVALID"},
		{"missing date", `{}`, apptest.Auth(tok), 400, "INVALID"},
		{"wrong type", `{"date":20261121}`, apptest.Auth(tok), 400, "INVALID"},
		{"unknown field", `{"date":"2026-11-21","member_id":1}`, apptest.Auth(tok), 400, "INVALID"},
		{"malformed", `{"date":`, apptest.Auth(tok), 400, "INVALID"},
		{"no token", `{"date":"2026-11-21"}`, nil, 401, "UNAUTHORIZED"},
		{"forged token", `{"date":"2026-11-21"}`, apptest.Auth(tok + "x"), 401, "UNAUTHORIZED"},
		{"console token", `{"date":"2026-11-21"}`, apptest.Auth(admin), 401, "UNAUTHORIZED"},
		{"other member, no points", `{"date":"2026-11-21"}`, apptest.Auth(other), 422, "POINTS_INSUFFICIENT"},
	}
	for _, c := range cases {
		specForbids := c.name == "missing date" || c.name == "wrong type" || c.name == "unknown field" || c.name == "malformed"
		r := h.Send(!specForbids, "POST", "/api/v1/shopper/signin/makeup", c.body, c.auth...)
		if r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
	}
	big := `{"date":"` + string(make([]byte, 2<<20)) + `"}`
	if r := h.DoInvalid("POST", "/api/v1/shopper/signin/makeup", big, apptest.Auth(tok)...); r.Status != 413 {
		t.Errorf("oversized: %d", r.Status)
	}
	if after := calendar(t, h, tok, ""); !reflect.DeepEqual(after, before) {
		t.Fatalf("refusals changed the calendar: %+v → %+v", before, after)
	}
	if b := available(t, h, tok); b != 30 {
		t.Fatalf("refusals changed the balance: %d", b)
	}
	if c := calendar(t, h, other, ""); len(c.SignedDays) != 0 {
		t.Fatalf("the poor member's failed make-up wrote a day: %+v", c)
	}
	// Two make-ups a month, then 422; each costs 20.
	if r := h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"2026-11-22"}`, apptest.Auth(tok)...); r.Status != 201 {
		t.Fatalf("first makeup: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"2026-11-21"}`, apptest.Auth(tok)...); r.Status != 422 || r.ErrorCode() != "POINTS_INSUFFICIENT" {
		t.Fatalf("second makeup with 10 points: %d %s", r.Status, r.Body)
	}
	r = h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", id), `{"delta":100,"reason":"seed"}`, append(apptest.Auth(admin), "Idempotency-Key", "seed2")...)
	if r.Status != 201 {
		t.Fatal(r.Status)
	}
	if r := h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"2026-11-21"}`, apptest.Auth(tok)...); r.Status != 201 {
		t.Fatalf("second makeup: %d %s", r.Status, r.Body)
	}
	c := calendar(t, h, tok, "")
	if c.Streak != 4 || c.MakeupsLeft != 0 || !reflect.DeepEqual(c.SignedDays, []int{20, 21, 22, 23}) {
		t.Fatalf("after two make-ups: %+v", c)
	}
	if r := h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"2026-11-19"}`, apptest.Auth(tok)...); r.Status != 422 || r.ErrorCode() != "RULE_VIOLATION" {
		t.Fatalf("third makeup: %d %s", r.Status, r.Body)
	}
	if b := available(t, h, tok); b != 30-20+100-20 {
		t.Fatalf("balance %d, want 90", b)
	}
	for _, q := range []string{"?month=2026-13", "?month=2026-1", "?month=abc", "?month=2026-11-01"} {
		if r := h.Do("GET", "/api/v1/shopper/signin/calendar"+q, nil, apptest.Auth(tok)...); r.Status != 400 {
			t.Errorf("calendar %s: %d", q, r.Status)
		}
	}
}

// A make-up fills a day since the member joined, never one before: a
// member who joined on the 23rd cannot buy the streak of the 20th–22nd.
func TestSigninMakeupOnlySinceJoining(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	user := apptest.UniqueUser("makeup-new")
	tok, _, id := h.Login(user) // joins on 11-23
	earn(t, h, id, 100)
	h.Clock.Set(apptest.Start.Add(2 * 24 * time.Hour)) // 11-25
	tok, _, _ = h.Login(user)
	r := h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"2026-11-22"}`, apptest.Auth(tok)...)
	if r.Status != 422 || r.ErrorCode() != "RULE_VIOLATION" || !strings.Contains(string(r.Body), "2026-11-23") {
		t.Fatalf("make-up of the day before joining: %d %s, want 422 RULE_VIOLATION naming 2026-11-23", r.Status, r.Body)
	}
	if b := available(t, h, tok); b != 100 {
		t.Fatalf("the refused make-up charged: balance %d, want 100", b)
	}
	for _, day := range []string{"2026-11-23", "2026-11-24"} {
		if r := h.Do("POST", "/api/v1/shopper/signin/makeup", `{"date":"`+day+`"}`, apptest.Auth(tok)...); r.Status != 201 {
			t.Fatalf("make-up of %s, since joining: %d %s", day, r.Status, r.Body)
		}
	}
}
