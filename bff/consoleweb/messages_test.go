package consoleweb_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
)

// Every refused form names each problem once. web.Describe's message of
// a one-field error already is "field: problem"; the pages added the
// field's problem again ("reason: required (reason: required)").
func TestErrorMessagesAppearOnce(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, _, id := s.h.Login(apptest.UniqueUser("once"))
	m := s.client()
	m.signIn("marketer")
	once := func(what string, p page, status int, msg string) {
		t.Helper()
		if p.status != status || strings.Count(p.body, msg) != 1 {
			t.Errorf("%s: %d, %q appears %d times: %.3000s", what, p.status, msg, strings.Count(p.body, msg), p.body)
		}
	}

	memberPath := fmt.Sprintf("/console/members/%d", id)
	mp := m.get(memberPath)
	csrf := field(t, csrfRe, mp)
	r := m.do("POST", memberPath+"/adjustments", url.Values{"csrf_token": {csrf}, "idempotency_key": {field(t, keyRe, mp)},
		"delta": {"5"}, "reason": {""}})
	once("adjust without a reason", r, http.StatusBadRequest, "reason: required")

	once("audit from=bad", m.get("/console/audit?from=bad"), http.StatusBadRequest, "from: a date YYYY-MM-DD")

	cp := m.get("/console/campaigns/new")
	onceAt := s.h.Clock.Now().Add(5 * time.Minute).In(domain.Shanghai).Format("2006-01-02T15:04")
	form := campaignForm(field(t, csrfRe, cp), map[string]string{"once_at": onceAt, "holdout_permille": "501"})
	r = m.do("POST", "/console/campaigns", form)
	if r.status/100 != 4 || strings.Count(r.body, "<li>holdout_permille:") != 1 {
		t.Errorf("campaign holdout 501: %d, %d items naming holdout_permille: %.3000s", r.status, strings.Count(r.body, "<li>holdout_permille:"), r.body)
	}

	mk := apptest.Auth(s.h.ConsoleLogin("marketer"))
	st := s.h.Do("POST", "/api/v1/console/stores", `{"name":"一次店"}`, mk...)
	if st.Status != 201 {
		t.Fatalf("store: %d %s", st.Status, st.Body)
	}
	store := int64(st.JSON()["store"].(map[string]any)["id"].(float64))
	gp := m.get("/console/guides")
	gform := url.Values{"csrf_token": {field(t, csrfRe, gp)}, "form_key": {field(t, formKeyRe, gp)}, "userid": {"once-g"}, "name": {"小李"},
		"store_id": {fmt.Sprint(store)}, "monthly_budget": {"-1"}}
	r = m.do("POST", "/console/guides", gform)
	if r.status != http.StatusBadRequest || strings.Count(r.body, "monthly_budget") != 1+strings.Count(gp.body, "monthly_budget") {
		t.Errorf("guide budget -1: %d, monthly_budget %d times (the form itself %d): %.3000s", r.status,
			strings.Count(r.body, "monthly_budget"), strings.Count(gp.body, "monthly_budget"), r.body)
	}
}

// The console's own messages are in the page's language: they were
// English on Chinese pages. Service messages of the API stay as the API
// words them, under a heading in the page's language.
func TestConsoleMessagesAreTranslated(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, _, id := s.h.Login(apptest.UniqueUser("zh"))
	m := s.client()
	m.signIn("marketer")
	has := func(what string, p page, status int, want, notWant string) {
		t.Helper()
		if p.status != status || !strings.Contains(p.body, want) || (notWant != "" && strings.Contains(p.body, notWant)) {
			t.Errorf("%s: %d, want %q without %q: %.2000s", what, p.status, want, notWant, mainOf(p.body))
		}
	}
	memberPath := fmt.Sprintf("/console/members/%d", id)
	mp := m.get(memberPath)
	csrf := field(t, csrfRe, mp)
	has("adjust 1.5", m.do("POST", memberPath+"/adjustments", url.Values{"csrf_token": {csrf}, "idempotency_key": {field(t, keyRe, mp)},
		"delta": {"1.5"}, "reason": {"x"}}), http.StatusBadRequest, "delta: 积分须为整数", "a whole number")

	r := m.do("POST", "/console/rules", ruleForm(csrf, map[string]string{"min_amount": "1.234"}))
	has("rule form", r, http.StatusBadRequest, "表单有误", "the form is not valid")
	has("rule form's field", r, http.StatusBadRequest, "conditions.min_amount_fen: 以元为单位的金额，最多两位小数", "an amount in yuan")

	p, err := m.send("POST", "/console/rules", ruleForm(csrf, nil), "Sec-Fetch-Site", "cross-site")
	if err != nil {
		t.Fatal(err)
	}
	has("cross-site POST", p, http.StatusForbidden, "拒绝跨站请求", "cross-origin request refused")
	has("no CSRF token", m.do("POST", "/console/rules", url.Values{"name": {"x"}}), http.StatusForbidden, "表单的安全令牌缺失或已过期", "security token")
	has("404", m.get("/console/nonexistent"), http.StatusNotFound, "页面不存在", "")

	// In English, English.
	m.get("/console/lang/en?next=/console/rules")
	has("rule form in English", m.do("POST", "/console/rules", ruleForm(csrf, map[string]string{"min_amount": "1.234"})),
		http.StatusBadRequest, "an amount in yuan, at most two decimals", "以元为单位")

	// The sign-in throttle, in the sign-in page's language.
	c := s.client()
	token := field(t, csrfRe, c.get("/console/login"))
	for range 5 {
		c.do("POST", "/console/login", url.Values{"csrf_token": {token}, "username": {"auditor"}, "password": {"nope"}})
	}
	has("throttled sign-in", c.do("POST", "/console/login", url.Values{"csrf_token": {token}, "username": {"auditor"}, "password": {"auditor123"}}),
		http.StatusTooManyRequests, "登录失败次数过多，请 60 秒后再试", "too many failed sign-ins")
}
