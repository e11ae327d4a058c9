package console_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// The members route: a shopper who logs in (joins) and signs in on the
// first day is one new and one active member without a tier; nobody
// ordered, so every repurchase cohort is empty; CSV has a BOM; bad input
// and other audiences are refused.
func TestAnalyticsMembersOverHTTP(t *testing.T) {
	h := apptest.New(t)
	auditor := h.ConsoleLogin("auditor")
	shopper, _, _ := h.Login(apptest.UniqueUser("am"))
	if r := h.Do("POST", "/api/v1/shopper/signin", nil, apptest.Auth(shopper)...); r.Status != 201 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	h.Clock.Set(h.Clock.Now().Add(10 * time.Minute)) // past analytics.lag
	if _, err := h.App.Analytics.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	day := apptest.Start.Format("2006-01-02")
	r := h.Do("GET", "/api/v1/console/analytics/members?from="+day+"&to="+day, nil, apptest.Auth(auditor)...)
	if r.Status != 200 {
		t.Fatalf("members: %d %s", r.Status, r.Body)
	}
	var out struct {
		Days []struct {
			Day    string
			New    int64            `json:"new_members"`
			Active int64            `json:"active_members"`
			ByTier map[string]int64 `json:"active_by_tier"`
		}
		Repurchase []struct {
			Window   int `json:"window_days"`
			From     string
			Redeemed struct {
				Buyers int64
			}
			NotRedeemed struct {
				Buyers int64
			} `json:"not_redeemed"`
		}
	}
	r.Decode(t, &out)
	if len(out.Days) != 1 || out.Days[0].New != 1 || out.Days[0].Active != 1 || out.Days[0].ByTier["normal"] != 1 || len(out.Days[0].ByTier) != 1 {
		t.Fatalf("days = %+v", out.Days)
	}
	if len(out.Repurchase) != 2 || out.Repurchase[0].Window != 30 || out.Repurchase[1].Window != 90 ||
		out.Repurchase[0].Redeemed.Buyers != 0 || out.Repurchase[0].NotRedeemed.Buyers != 0 {
		t.Fatalf("repurchase = %+v", out.Repurchase)
	}
	r = h.Do("GET", "/api/v1/console/analytics/members?format=csv&from="+day+"&to="+day, nil, apptest.Auth(auditor)...)
	if r.Status != 200 || !bytes.Equal(r.Body, []byte("\ufeffday,new_members,tier,active_members\n"+day+",1,normal,1\n")) {
		t.Fatalf("csv: %d %q", r.Status, r.Body)
	}
	if r := h.Send(false, "GET", "/api/v1/console/analytics/members?format=xml", nil, apptest.Auth(auditor)...); r.Status != 400 || r.Fields()["format"] == nil {
		t.Errorf("format=xml: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/analytics/members?from=2026-12-01&to=2026-11-01", nil, apptest.Auth(auditor)...); r.Status != 400 {
		t.Errorf("to before from: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/analytics/members", nil, apptest.Auth(shopper)...); r.Status != 401 && r.Status != 403 {
		t.Errorf("a shopper token: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/analytics/members", nil); r.Status != 401 {
		t.Errorf("no token: %d %s", r.Status, r.Body)
	}
}

// The growth route: no referrals and no draws give a zero funnel and zero
// lottery days (the figures are checked in repo/analyticsstore); CSV has a
// BOM; bad input and other audiences are refused.
func TestAnalyticsGrowthOverHTTP(t *testing.T) {
	h := apptest.New(t)
	auditor := h.ConsoleLogin("auditor")
	shopper, _, _ := h.Login(apptest.UniqueUser("ag"))
	r := h.Do("GET", "/api/v1/console/analytics/growth?from=2026-12-01&to=2026-12-03", nil, apptest.Auth(auditor)...)
	var out struct {
		Referral map[string]int64
		Lottery  struct {
			CostPoints int64 `json:"cost_points"`
			Days       []struct{ Day string }
		}
	}
	r.Decode(t, &out)
	if r.Status != 200 || len(out.Referral) != 6 || out.Referral["binds"] != 0 || len(out.Lottery.Days) != 3 || out.Lottery.Days[2].Day != "2026-12-03" {
		t.Fatalf("growth: %d %s", r.Status, r.Body)
	}
	r = h.Do("GET", "/api/v1/console/analytics/growth?format=csv&from=2026-12-01&to=2026-12-01", nil, apptest.Auth(auditor)...)
	if r.Status != 200 || !bytes.HasPrefix(r.Body, []byte("\ufeffday,metric,value\n,referral_codes_shared,0\n")) ||
		!bytes.Contains(r.Body, []byte("2026-12-01,lottery_cost_points,0\n")) {
		t.Fatalf("csv: %d %q", r.Status, r.Body)
	}
	if r := h.Send(false, "GET", "/api/v1/console/analytics/growth?format=xml", nil, apptest.Auth(auditor)...); r.Status != 400 || r.Fields()["format"] == nil {
		t.Errorf("format=xml: %d %s", r.Status, r.Body)
	}
	if r := h.Send(true, "GET", "/api/v1/console/analytics/growth?from=2026-02-30", nil, apptest.Auth(auditor)...); r.Status != 400 || r.Fields()["from"] == nil {
		t.Errorf("from=2026-02-30: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/analytics/growth", nil, apptest.Auth(shopper)...); r.Status != 401 && r.Status != 403 {
		t.Errorf("a shopper token: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/analytics/growth", nil); r.Status != 401 {
		t.Errorf("no token: %d %s", r.Status, r.Body)
	}
}
