package consoleweb_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// referralHistory: member a invites two members who bind their phones
// (a earns the invite reward twice); returns a's id.
func referralHistory(t *testing.T, s *site) int64 {
	t.Helper()
	tok, _, a := s.h.Login(apptest.UniqueUser("refa"))
	var ov struct{ Code string }
	s.h.Do("GET", "/api/v1/shopper/referral", nil, apptest.Auth(tok)...).Decode(t, &ov)
	for i, phone := range []string{"13800001111", "13800002222"} {
		r := s.h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": s.h.Code(fmt.Sprint("refb", i)), "invite_code": ov.Code})
		if r.Status != 200 {
			t.Fatalf("invitee login: %d %s", r.Status, r.Body)
		}
		inv := r.JSON()["access_token"].(string)
		if r := s.h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": s.h.PhoneCode(phone)}, apptest.Auth(inv)...); r.Status != 200 {
			t.Fatalf("bind phone: %d %s", r.Status, r.Body)
		}
	}
	return a
}

// The tasks, tiers and referral pages show what the JSON API and the
// configuration hold, to any role; the report's numbers are the API's.
func TestTasksTiersAndReferralPages(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	mk := apptest.Auth(s.h.ConsoleLogin("marketer"))
	if r := s.h.Do("POST", "/api/v1/console/tasks", `{"type":"browse","title":"逛新品页","period":"daily","target":2,"reward_points":1500,"min_seconds":15,"page":"/pages/new"}`, mk...); r.Status != 201 {
		t.Fatalf("create task: %d %s", r.Status, r.Body)
	}
	a := referralHistory(t, s)
	c := s.client()
	c.signIn("auditor")

	tasks := c.get("/console/tasks")
	if tasks.status != 200 || !regexp.MustCompile(`逛新品页</td><td>浏览页面</td><td>每日</td>\s*<td class="r num target">2</td><td class="r num reward">1,500</td>`).MatchString(tasks.body) {
		t.Fatalf("tasks page: %d %.3000s", tasks.status, tasks.body)
	}
	tiers := c.get("/console/tiers")
	for _, l := range s.h.Config.Tier.DomainLevels() {
		row := regexp.MustCompile(fmt.Sprintf(`<tr class="tier-row" data-code="%s">\s*<td class="mono">%s</td><td>%s</td><td class="r num growth">(¥[0-9,]+\.00)</td>`,
			l.Code, l.Code, regexp.QuoteMeta(l.Name))).FindStringSubmatch(tiers.body)
		if row == nil {
			t.Fatalf("tier %s missing: %.3000s", l.Code, tiers.body)
		}
		if want := fmt.Sprintf("¥%d.00", l.Growth); strings.ReplaceAll(row[1], ",", "") != want {
			t.Errorf("tier %s growth %s, want %s", l.Code, row[1], want)
		}
	}

	var rep struct {
		Top []struct {
			MemberID int64 `json:"member_id"`
			Invites  int64
			Points   int64
		} `json:"top_inviters"`
	}
	s.h.Do("GET", "/api/v1/console/referrals/report", nil, mk...).Decode(t, &rep)
	if len(rep.Top) != 1 || rep.Top[0].MemberID != a || rep.Top[0].Invites != 2 {
		t.Fatalf("API report: %+v", rep)
	}
	refs := c.get("/console/referrals")
	row := regexp.MustCompile(fmt.Sprintf(`data-id="%d">\s*<td>1</td>.*?<td class="r num invites">([0-9,]+)</td><td class="r num points">([0-9,]+)</td>`, a)).FindStringSubmatch(refs.body)
	if row == nil || row[1] != "2" || strings.ReplaceAll(row[2], ",", "") != fmt.Sprint(rep.Top[0].Points) {
		t.Fatalf("referral page row %v, API %+v: %.3000s", row, rep.Top[0], refs.body)
	}
	if !strings.Contains(refs.body, "没有待复核的邀请") {
		t.Errorf("flagged section: %.3000s", refs.body)
	}
	for path, want := range map[string]int{"/console/referrals?limit=x": 400, "/console/referrals?limit=0": 400, "/console/tasks?cursor=-1": 400} {
		if r := c.get(path); r.status != want {
			t.Errorf("%s: %d, want %d", path, r.status, want)
		}
	}
	for _, path := range []string{"/console/tasks", "/console/tiers", "/console/referrals"} {
		if r := s.client().get(path); r.status != http.StatusSeeOther {
			t.Errorf("%s without a session: %d", path, r.status)
		}
	}
}

func TestBrowserTasksTiersAndReferrals(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	if r := s.h.Do("POST", "/api/v1/console/tasks", `{"type":"share","title":"分享商品","period":"weekly","target":3,"reward_points":20}`,
		apptest.Auth(s.h.ConsoleLogin("marketer"))...); r.Status != 201 {
		t.Fatalf("create task: %d %s", r.Status, r.Body)
	}
	referralHistory(t, s)
	browserSignIn(t, ctx, s.srv.URL, "marketer")
	for _, p := range []struct{ nav, wait, shot string }{
		{"/console/tasks", "#tasks tr.task-row", "15-tasks"},
		{"/console/tiers", "#tiers tr.tier-row", "16-tiers"},
		{"/console/referrals", "#top-inviters tr.inviter-row", "17-referrals"},
	} {
		do(t, ctx, "open "+p.nav, chromedp.Click(chromedp.CSS(`header nav a[href="`+p.nav+`"]`)), chromedp.WaitVisible(chromedp.CSS(p.wait)))
		shot(t, ctx, p.shot)
	}
}
