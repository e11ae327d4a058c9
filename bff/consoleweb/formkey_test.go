package consoleweb_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain"
)

// sendTwiceAndAgain posts form to path twice at once (a double click) and
// once more afterwards (a POST the browser sends again), and returns the
// three answers.
func sendTwiceAndAgain(t *testing.T, c *client, path string, form url.Values) [3]page {
	t.Helper()
	var out [3]page
	var errs [2]error
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = c.send("POST", path, form)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	out[2] = c.do("POST", path, form)
	return out
}

// Every form that writes is rendered with a key, and a rendering sent
// twice writes once: the copies land where the first did. Sent twice at
// once, the "new rule" form created two identical active rules (which
// then awarded their points twice on every order), the campaign, store
// and guide forms two records each (the guide's copy was told its userid
// existed); an edit sent twice was told someone else had saved meanwhile.
func TestFormsWriteOncePerRendering(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	m := s.client()
	m.signIn("marketer")
	expiring(t, s, "dup", 500, s.h.Clock.Now().AddDate(0, 0, 3), true) // a campaign's audience
	onceAt := s.h.Clock.Now().Add(time.Hour).In(domain.Shanghai).Format("2006-01-02T15:04")
	st := s.h.Do("POST", "/api/v1/console/stores", `{"name":"双击总店"}`, apptest.Auth(s.h.ConsoleLogin("marketer"))...)
	if st.Status != 201 {
		t.Fatalf("store: %d %s", st.Status, st.Body)
	}
	store := fmt.Sprint(int64(st.JSON()["store"].(map[string]any)["id"].(float64)))

	var ruleLoc, campaignLoc string
	for _, c := range []struct {
		name, page, path, table string
		form                    func(csrf string) url.Values
		landed                  func(loc string) bool
		keep                    *string
	}{
		{name: "new rule", page: "/console/rules/new", path: "/console/rules", table: "rules",
			form: func(csrf string) url.Values {
				return ruleForm(csrf, map[string]string{"name": "dup", "kind": "bonus", "points": "7"})
			},
			landed: func(loc string) bool { return locationID.MatchString(loc) }, keep: &ruleLoc},
		{name: "new campaign", page: "/console/campaigns/new", path: "/console/campaigns", table: "reminder_campaigns",
			form: func(csrf string) url.Values {
				return campaignForm(csrf, map[string]string{"once_at": onceAt})
			},
			landed: func(loc string) bool { return strings.HasSuffix(loc, "?done=create") }, keep: &campaignLoc},
		{name: "new store", page: "/console/guides", path: "/console/stores", table: "stores",
			form: func(csrf string) url.Values {
				return url.Values{"csrf_token": {csrf}, "name": {"双击店"}, "robot_key": {""}}
			},
			landed: func(loc string) bool { return loc == "/console/guides?saved=store" }},
		{name: "new guide", page: "/console/guides", path: "/console/guides", table: "guides",
			form: func(csrf string) url.Values {
				return url.Values{"csrf_token": {csrf}, "userid": {"dup-guide"}, "name": {"小双"}, "store_id": {store}, "monthly_budget": {"100"}, "phone": {""}}
			},
			landed: func(loc string) bool { return loc == "/console/guides?saved=guide" }},
	} {
		p := m.get(c.page)
		form := c.form(field(t, csrfRe, p))
		if k := formKeyRe.FindStringSubmatch(p.body); k != nil {
			form.Set("form_key", k[1])
		} else {
			t.Errorf("%s: the form at %s carries no form_key", c.name, c.page)
		}
		before := count(t, s.h, c.table)
		answers := sendTwiceAndAgain(t, m, c.path, form)
		if n := count(t, s.h, c.table) - before; n != 1 {
			t.Errorf("%s sent three times: %d rows in %s, want 1", c.name, n, c.table)
		}
		loc := answers[0].header.Get("Location")
		for i, a := range answers {
			if a.status != http.StatusSeeOther || a.header.Get("Location") != loc || !c.landed(loc) {
				t.Errorf("%s, answer %d: %d %q (the first: %q) %.1000s", c.name, i, a.status, a.header.Get("Location"), loc, a.body)
			}
		}
		if c.keep != nil {
			*c.keep = loc
		}
	}
	if t.Failed() {
		return
	}

	// An edit and an action sent twice: one new version, one schedule, and
	// every answer the first's page.
	id := locationID.FindStringSubmatch(ruleLoc)[1]
	edit := m.get("/console/rules/" + id)
	form := ruleForm(field(t, csrfRe, edit), map[string]string{"name": "dup 2", "kind": "bonus", "points": "8", "version": "1"})
	form.Set("form_key", field(t, formKeyRe, edit))
	for i, a := range sendTwiceAndAgain(t, m, "/console/rules/"+id, form) {
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/rules/"+id+"?saved=2" {
			t.Errorf("edit, answer %d: %d %q %.1000s", i, a.status, a.header.Get("Location"), mainOf(a.body))
		}
	}
	if n := count(t, s.h, "rule_versions"); n != 2 {
		t.Errorf("rule versions after an edit sent three times: %d, want 2", n)
	}
	camp := strings.TrimSuffix(campaignLoc, "?done=create")
	cp := m.get(camp)
	action := url.Values{"csrf_token": {field(t, csrfRe, cp)}, "form_key": {field(t, formKeyRe, cp)}}
	for i, a := range sendTwiceAndAgain(t, m, camp+"/schedule", action) {
		if a.status != http.StatusSeeOther || a.header.Get("Location") != camp+"?done=schedule" {
			t.Errorf("schedule, answer %d: %d %q %s", i, a.status, a.header.Get("Location"), mainOf(a.body))
		}
	}

	// Without its key (a page rendered before keys, a hand-made POST) a
	// form writes nothing and comes back to be sent again.
	p := m.get("/console/rules/new")
	before := count(t, s.h, "rules")
	noKey := ruleForm(field(t, csrfRe, p), map[string]string{"name": "no key"})
	noKey.Del("form_key")
	r := m.do("POST", "/console/rules", noKey)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="rule-errors"`) || !formKeyRe.MatchString(r.body) ||
		!strings.Contains(r.body, `value="no key"`) {
		t.Errorf("a form without its key: %d %.2000s", r.status, r.body)
	}
	if n := count(t, s.h, "rules"); n != before {
		t.Errorf("a form without its key wrote %d rules", n-before)
	}
	// A refused form gives its key back: corrected, the same rendering saves.
	bad := ruleForm(field(t, csrfRe, p), map[string]string{"name": "fixed later", "kind": "fixed"})
	bad.Set("form_key", field(t, formKeyRe, p))
	if r := m.do("POST", "/console/rules", bad); r.status != http.StatusBadRequest {
		t.Fatalf("fixed without points: %d", r.status)
	}
	bad.Set("points", "5")
	if r := m.do("POST", "/console/rules", bad); r.status != http.StatusSeeOther || !locationID.MatchString(r.header.Get("Location")) {
		t.Errorf("the corrected form, same key: %d %q %.1000s", r.status, r.header.Get("Location"), r.body)
	}
}

// mainOf is a page's <main>, where its messages are.
func mainOf(body string) string {
	if i := strings.Index(body, "<main>"); i >= 0 {
		body = body[i:]
	}
	return body
}
