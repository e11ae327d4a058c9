package consoleweb_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/ledger"
)

// lotteryHistory creates a campaign (20 points a draw, one free a day, a
// stocked prize and a miss, pity after 2) and has two members
// draw twice each.
func lotteryHistory(t *testing.T, s *site) int64 {
	t.Helper()
	r := s.h.Do("POST", "/api/v1/console/lottery/campaigns", `{"name":"周末抽奖","starts_at":"2026-11-23T00:00:00+08:00",
		"ends_at":"2026-12-23T00:00:00+08:00","cost_points":20,"free_per_day":1,"limit_daily":3,"pity_after":2,
		"consolation_name":"安慰积分","consolation_points":2,
		"prizes":[{"name":"5积分","kind":"points","points":5,"weight":90,"stock":50,"per_member_limit":5},
		{"name":"谢谢参与","kind":"nothing","weight":10}]}`, apptest.Auth(s.h.ConsoleLogin("marketer"))...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := int64(r.JSON()["campaign"].(map[string]any)["id"].(float64))
	for i := 0; i < 2; i++ {
		tok, _, mid := s.h.Login(apptest.UniqueUser("lotweb"))
		if _, err := s.h.App.Ledger.Earn(context.Background(), ledger.EarnInput{MemberID: mid, Points: 100, Key: fmt.Sprint("seed-", mid),
			Ref: ledger.Ref{Type: "seed", ID: fmt.Sprint(mid)}}); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"a", "b"} {
			r := s.h.Do("POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", id), nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
			if r.Status != 201 {
				t.Fatalf("draw: %d %s", r.Status, r.Body)
			}
		}
	}
	return id
}

// The lottery page shows the campaign's rules, its prizes with weights,
// stock and units won, and the draw statistics — the JSON API's numbers.
func TestBrowserLotteryPageShowsTheAPIsFigures(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	id := lotteryHistory(t, s)
	auditor := s.h.ConsoleLogin("auditor")
	var camp struct {
		Campaign struct {
			Prizes []struct {
				ID, Weight, Won int64
				Stock           *int64
			}
		}
	}
	s.h.Do("GET", fmt.Sprintf("/api/v1/console/lottery/campaigns/%d", id), nil, apptest.Auth(auditor)...).Decode(t, &camp)
	var st struct {
		Draws, Members int64
		Free           int64 `json:"free_draws"`
		Spent          int64 `json:"points_spent"`
		ByPrize        []struct {
			PrizeID     int64 `json:"prize_id"`
			Draws, Pity int64
		} `json:"by_prize"`
	}
	s.h.Do("GET", fmt.Sprintf("/api/v1/console/lottery/campaigns/%d/stats", id), nil, apptest.Auth(auditor)...).Decode(t, &st)
	if st.Draws != 4 || st.Spent != 40 {
		t.Fatalf("API stats %+v", st)
	}

	browserSignIn(t, ctx, s.srv.URL, "auditor")
	do(t, ctx, "the lottery list and the campaign",
		chromedp.Navigate(s.srv.URL+"/console/lottery"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#lotteries tr[data-id="%d"] a`, id))),
		chromedp.WaitVisible(chromedp.CSS("#lottery-prizes")),
	)
	shot(t, ctx, "13-lottery")
	num := func(sel string) string { return strings.ReplaceAll(text(t, ctx, sel), ",", "") }
	for sel, want := range map[string]int64{"#stat-draws": st.Draws, "#stat-members": st.Members, "#stat-free": st.Free, "#stat-spent": st.Spent} {
		if got := num(sel); got != fmt.Sprint(want) {
			t.Errorf("%s: page %q, API %d", sel, got, want)
		}
	}
	drawn := map[int64]int64{}
	for _, p := range st.ByPrize {
		drawn[p.PrizeID] = p.Draws
	}
	for _, p := range camp.Campaign.Prizes {
		row := fmt.Sprintf(`#lottery-prizes tr.prize[data-id="%d"]`, p.ID)
		if got := num(row + " td.weight"); got != fmt.Sprint(p.Weight) {
			t.Errorf("prize %d weight: page %q, API %d", p.ID, got, p.Weight)
		}
		if p.Stock != nil {
			if got := num(row + " td.stock"); got != fmt.Sprint(*p.Stock) {
				t.Errorf("prize %d stock: page %q, API %d", p.ID, got, *p.Stock)
			}
			if got := num(row + " td.won"); got != fmt.Sprint(p.Won) {
				t.Errorf("prize %d won: page %q, API %d", p.ID, got, p.Won)
			}
		}
		if got := num(row + " td.draws"); got != fmt.Sprint(drawn[p.ID]) {
			t.Errorf("prize %d drawn: page %q, API %d", p.ID, got, drawn[p.ID])
		}
	}
	if got := text(t, ctx, "#lottery-pity"); got != "连续 2 次未中奖后必中" {
		t.Errorf("pity shown %q", got)
	}
}

func TestLotteryPagesRefuseUnknownCampaigns(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	c.signIn("marketer")
	if r := c.get("/console/lottery/999999"); r.status != http.StatusNotFound {
		t.Fatalf("unknown campaign: %d", r.status)
	}
	if r := c.get("/console/lottery"); r.status != 200 || !strings.Contains(r.body, "还没有抽奖活动") {
		t.Fatalf("empty list: %d %.500s", r.status, r.body)
	}
	if r := s.client().get("/console/lottery"); r.status != http.StatusSeeOther {
		t.Fatalf("without a session: %d", r.status)
	}
}
