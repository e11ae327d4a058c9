package consoleweb_test

import (
	"fmt"
	"github.com/jifen/jifen/domain/member"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// guideGrants: a store and a guide (budget 1,000) created through the JSON
// API; the guide grants 120 + 80 to a customer bound by the guide's code.
// It returns the store and guide ids.
func guideGrants(t *testing.T, s *site) (store, guide int64) {
	t.Helper()
	mk := apptest.Auth(s.h.ConsoleLogin("marketer"))
	r := s.h.Do("POST", "/api/v1/console/stores", `{"name":"南京西路店"}`, mk...)
	if r.Status != 201 {
		t.Fatalf("store: %d %s", r.Status, r.Body)
	}
	store = int64(r.JSON()["store"].(map[string]any)["id"].(float64))
	userID := apptest.UniqueUser("gw")
	r = s.h.Do("POST", "/api/v1/console/guides", fmt.Sprintf(`{"userid":%q,"name":"小王","store_id":%d,"monthly_budget":1000}`, userID, store), mk...)
	if r.Status != 201 {
		t.Fatalf("guide: %d %s", r.Status, r.Body)
	}
	g := r.JSON()["guide"].(map[string]any)
	guide = int64(g["id"].(float64))
	r = s.h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": s.h.Code(apptest.UniqueUser("gc")), "scene": g["scene"].(string)})
	if r.Status != 200 {
		t.Fatalf("customer: %d %s", r.Status, r.Body)
	}
	member := int64(r.JSON()["member"].(map[string]any)["id"].(float64))
	r = s.h.Do("POST", "/api/v1/guide/login", fmt.Sprintf(`{"code":"sim-wecom:%s:1"}`, userID))
	if r.Status != 200 {
		t.Fatalf("guide login: %d %s", r.Status, r.Body)
	}
	gt := r.JSON()["access_token"].(string)
	for i, pts := range []int{120, 80} {
		r := s.h.Do("POST", "/api/v1/guide/grants", fmt.Sprintf(`{"member_id":%d,"points":%d,"reason":"到店"}`, member, pts),
			append(apptest.Auth(gt), "Idempotency-Key", fmt.Sprint("gg", i))...)
		if r.Status != 201 {
			t.Fatalf("grant: %d %s", r.Status, r.Body)
		}
	}
	return store, guide
}

var guideRowRe = `<tr class="guide-row" data-id="%d">.*?<td class="r num budget">([0-9,]+)</td><td class="r num used">([0-9,]+)</td><td class="r num left">([0-9,]+)</td>`

// The guides page: stores and guides created and edited from its forms
// through the guide service, each guide's budget used this month equal
// to the guide's own /guide/me; the auditor sees no form and is refused.
func TestGuidesAndStoresPage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	store, guide := guideGrants(t, s)
	c := s.client()
	c.signIn("marketer")
	p := c.get("/console/guides")
	row := regexp.MustCompile(fmt.Sprintf(guideRowRe, guide)).FindStringSubmatch(strings.ReplaceAll(p.body, "\n", ""))
	if p.status != 200 || row == nil || row[1] != "1,000" || row[2] != "200" || row[3] != "800" {
		t.Fatalf("guide row %v: %d %.3000s", row, p.status, p.body)
	}
	token := field(t, csrfRe, p)

	// Create a store and a guide from the forms; edit both.
	post := func(path string, form url.Values) page {
		form.Set("csrf_token", token)
		form.Set("form_key", freshKey())
		return c.do("POST", path, form)
	}
	if r := post("/console/stores", url.Values{"name": {"徐家汇店"}, "robot_key": {"k-123"}}); r.status != http.StatusSeeOther {
		t.Fatalf("create store: %d %.1000s", r.status, r.body)
	}
	var stores struct {
		Stores []struct {
			ID          int64
			Name        string
			HasRobotKey bool `json:"has_robot_key"`
		}
	}
	mk := apptest.Auth(s.h.ConsoleLogin("auditor"))
	s.h.Do("GET", "/api/v1/console/stores", nil, mk...).Decode(t, &stores)
	if len(stores.Stores) != 2 || stores.Stores[1].Name != "徐家汇店" || !stores.Stores[1].HasRobotKey {
		t.Fatalf("stores after the form: %+v", stores)
	}
	second := stores.Stores[1].ID
	if r := post(fmt.Sprintf("/console/stores/%d", second), url.Values{"name": {"徐家汇旗舰店"}, "robot_key": {""}}); r.status != http.StatusSeeOther {
		t.Fatalf("edit store: %d %.1000s", r.status, r.body)
	}
	s.h.Do("GET", "/api/v1/console/stores", nil, mk...).Decode(t, &stores)
	if stores.Stores[1].Name != "徐家汇旗舰店" || !stores.Stores[1].HasRobotKey {
		t.Fatalf("a blank robot key must keep the key: %+v", stores.Stores[1])
	}
	if r := post("/console/guides", url.Values{"userid": {"li.lei"}, "name": {"李雷"}, "store_id": {fmt.Sprint(second)}, "monthly_budget": {"500"}, "phone": {"13900001111"}}); r.status != http.StatusSeeOther {
		t.Fatalf("create guide: %d %.1000s", r.status, r.body)
	}
	// The guide's own phone (risk's guide_self_grant) is set from the form;
	// a later edit with the field blank keeps it.
	if r := post(fmt.Sprintf("/console/guides/%d", guide), url.Values{"name": {"小王"}, "store_id": {fmt.Sprint(store)}, "monthly_budget": {"150"}, "status": {"active"}, "phone": {"+86 138 0000 2222"}}); r.status != http.StatusSeeOther {
		t.Fatalf("edit guide: %d %.1000s", r.status, r.body)
	}
	if r := post(fmt.Sprintf("/console/guides/%d", guide), url.Values{"name": {"小王"}, "store_id": {fmt.Sprint(store)}, "monthly_budget": {"150"}, "status": {"active"}, "phone": {""}}); r.status != http.StatusSeeOther {
		t.Fatalf("edit guide, phone blank: %d %.1000s", r.status, r.body)
	}
	var g struct {
		Guide struct {
			MonthlyBudget int64  `json:"monthly_budget"`
			PhoneMasked   string `json:"phone_masked"`
		}
	}
	s.h.Do("GET", fmt.Sprintf("/api/v1/console/guides/%d", guide), nil, mk...).Decode(t, &g)
	if g.Guide.MonthlyBudget != 150 || g.Guide.PhoneMasked != member.MaskPhone("13800002222") {
		t.Fatalf("after the form: %+v", g.Guide)
	}
	if !strings.Contains(c.get("/console/guides").body, `<td class="mono phone">`+member.MaskPhone("13900001111")+`</td>`) {
		t.Fatalf("the new guide's masked phone is not on the page")
	}
	p = c.get("/console/guides?saved=guide")
	row = regexp.MustCompile(fmt.Sprintf(`<tr class="guide-row over" data-id="%d">.*?<td class="r num used">([0-9,]+)</td><td class="r num left">([0-9,]+)</td>`, guide)).FindStringSubmatch(strings.ReplaceAll(p.body, "\n", ""))
	if row == nil || row[1] != "200" || row[2] != "0" || !strings.Contains(p.body, "导购已保存") || !strings.Contains(p.body, "李雷") {
		t.Fatalf("over budget row %v: %.3000s", row, p.body)
	}

	// Refused forms change nothing and name the problem.
	before := count(t, s.h, "guides") + count(t, s.h, "stores")
	for name, f := range map[string]struct {
		path   string
		form   url.Values
		status int
	}{
		"no name":        {"/console/stores", url.Values{"name": {""}}, 400},
		"budget words":   {"/console/guides", url.Values{"userid": {"x1"}, "name": {"x"}, "store_id": {fmt.Sprint(store)}, "monthly_budget": {"很多"}}, 400},
		"negative":       {"/console/guides", url.Values{"userid": {"x2"}, "name": {"x"}, "store_id": {fmt.Sprint(store)}, "monthly_budget": {"-1"}}, 400},
		"no such store":  {"/console/guides", url.Values{"userid": {"x3"}, "name": {"x"}, "store_id": {"999999"}, "monthly_budget": {"1"}}, 400},
		"bad status":     {fmt.Sprintf("/console/guides/%d", guide), url.Values{"name": {"小王"}, "store_id": {fmt.Sprint(store)}, "monthly_budget": {"1"}, "status": {"fired"}}, 400},
		"no such guide":  {"/console/guides/999999", url.Values{"name": {"x"}, "store_id": {fmt.Sprint(store)}, "monthly_budget": {"1"}, "status": {"active"}}, 404},
		"duplicate user": {"/console/guides", url.Values{"userid": {"li.lei"}, "name": {"x"}, "store_id": {fmt.Sprint(store)}, "monthly_budget": {"1"}}, 409},
		"phone letters":  {"/console/guides", url.Values{"userid": {"x4"}, "name": {"x"}, "store_id": {fmt.Sprint(store)}, "monthly_budget": {"1"}, "phone": {"call me"}}, 400},
	} {
		r := post(f.path, f.form)
		if r.status != f.status || !strings.Contains(r.body, `id="guides-error"`) {
			t.Errorf("%s: %d (want %d) %.500s", name, r.status, f.status, r.body)
		}
	}
	if r := c.do("POST", "/console/stores", url.Values{"name": {"无令牌"}}); r.status != http.StatusForbidden {
		t.Errorf("without CSRF: %d", r.status)
	}

	// The auditor sees the numbers and no form; a forged POST is 403.
	a := s.client()
	a.signIn("auditor")
	ap := a.get("/console/guides")
	if ap.status != 200 || strings.Contains(ap.body, `action="/console/guides`) || strings.Contains(ap.body, `action="/console/stores`) {
		t.Fatalf("auditor's page has write forms: %.3000s", ap.body)
	}
	at := field(t, csrfRe, ap)
	for _, path := range []string{"/console/stores", fmt.Sprintf("/console/stores/%d", store), "/console/guides", fmt.Sprintf("/console/guides/%d", guide)} {
		if r := a.do("POST", path, url.Values{"csrf_token": {at}, "name": {"审计改名"}, "userid": {"aud"}, "store_id": {fmt.Sprint(store)}, "monthly_budget": {"9"}, "status": {"active"}}); r.status != http.StatusForbidden {
			t.Errorf("auditor POST %s: %d", path, r.status)
		}
	}
	if after := count(t, s.h, "guides") + count(t, s.h, "stores"); after != before {
		t.Fatalf("refused forms wrote rows: %d → %d", before, after)
	}
	s.h.Do("GET", fmt.Sprintf("/api/v1/console/guides/%d", guide), nil, mk...).Decode(t, &g)
	if g.Guide.MonthlyBudget != 150 {
		t.Fatalf("a refused form changed the budget: %d", g.Guide.MonthlyBudget)
	}
}

func TestBrowserGuidesBudgets(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	s := newSite(t)
	_, guide := guideGrants(t, s)
	browserSignIn(t, ctx, s.srv.URL, "marketer")
	sel := fmt.Sprintf(`#guides tr.guide-row[data-id="%d"]`, guide)
	do(t, ctx, "open the guides", chromedp.Click(chromedp.CSS(`header nav a[href="/console/guides"]`)))
	waitJS(t, ctx, "the guides page", `document.readyState === "complete" && !!document.querySelector(`+strconv.Quote(sel)+`)`)
	if got := text(t, ctx, sel+" td.used"); got != "200" {
		t.Fatalf("used %q", got)
	}
	do(t, ctx, "raise the budget",
		chromedp.SetValue(chromedp.CSS(sel+` input[name=monthly_budget]`), "2000"),
		chromedp.Click(chromedp.CSS(sel+` button`)),
	)
	waitJS(t, ctx, "the saved budget", `document.readyState === "complete" && !!document.querySelector("#saved") && !!document.querySelector(`+strconv.Quote(sel)+`)`)
	if got := text(t, ctx, sel+" td.left"); got != "1,800" {
		t.Fatalf("left after raising the budget: %q", got)
	}
	shot(t, ctx, "18-guides")
}
