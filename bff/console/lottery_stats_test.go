package console_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/ledger"
)

// lotteryDraws creates a campaign whose one prize always comes out (20
// points a draw, one free a day) and has n members draw twice each: the
// free draw and a paid one.
func lotteryDraws(t *testing.T, h *apptest.Harness, n int) (campaignID, prizeID int64) {
	t.Helper()
	r := h.Do("POST", "/api/v1/console/lottery/campaigns", `{"name":"统计抽奖","starts_at":"2026-11-23T00:00:00+08:00",
		"ends_at":"2026-12-23T00:00:00+08:00","cost_points":20,"free_per_day":1,"limit_daily":3,"pity_after":2,
		"prizes":[{"name":"5积分","kind":"points","points":5,"weight":100,"stock":50}]}`, apptest.Auth(h.ConsoleLogin("marketer"))...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var out struct {
		Campaign struct {
			ID     int64
			Prizes []struct{ ID int64 }
		}
	}
	r.Decode(t, &out)
	for i := 0; i < n; i++ {
		tok, _, mid := h.Login(apptest.UniqueUser("stat"))
		if _, err := h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: mid, Points: 100, Key: fmt.Sprint("seed-", mid),
			Ref: ledger.Ref{Type: "seed", ID: fmt.Sprint(mid)}}); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"a", "b"} {
			r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", out.Campaign.ID), nil,
				append(apptest.Auth(tok), "Idempotency-Key", key)...)
			if r.Status != 201 {
				t.Fatalf("draw: %d %s", r.Status, r.Body)
			}
		}
	}
	return out.Campaign.ID, out.Campaign.Prizes[0].ID
}

func TestLotteryStatsOverHTTP(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	id, prize := lotteryDraws(t, h, 2)
	auditor := h.ConsoleLogin("auditor")
	r := h.Do("GET", fmt.Sprintf("/api/v1/console/lottery/campaigns/%d/stats", id), nil, apptest.Auth(auditor)...)
	if r.Status != 200 {
		t.Fatalf("stats: %d %s", r.Status, r.Body)
	}
	var st struct {
		Draws, Members int64
		Free           int64 `json:"free_draws"`
		Spent          int64 `json:"points_spent"`
		ByPrize        []struct {
			PrizeID     int64 `json:"prize_id"`
			Draws, Pity int64
		} `json:"by_prize"`
	}
	r.Decode(t, &st)
	if st.Draws != 4 || st.Members != 2 || st.Free != 2 || st.Spent != 40 || len(st.ByPrize) != 1 ||
		st.ByPrize[0].PrizeID != prize || st.ByPrize[0].Draws != 4 || st.ByPrize[0].Pity != 0 {
		t.Fatalf("stats %s", r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/lottery/campaigns/999999/stats", nil, apptest.Auth(auditor)...); r.Status != 404 {
		t.Errorf("unknown campaign: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/lottery/campaigns/abc/stats", nil, apptest.Auth(auditor)...); r.Status != 404 { // PathID: no such id
		t.Errorf("bad id: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/console/lottery/campaigns/%d/stats", id), nil); r.Status != 401 {
		t.Errorf("no token: %d %s", r.Status, r.Body)
	}
}
