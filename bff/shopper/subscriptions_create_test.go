package shopper_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/repo/reminderstore"
)

const subTmpl = "sim-tmpl-expiry" // reminder.templates.expiry_subscribe.wechat_id in default.yaml

func subscriptions(h *apptest.Harness, body any, headers ...string) *apptest.Response {
	return h.Do("POST", "/api/v1/shopper/subscriptions", body, headers...)
}

func quotas(t *testing.T, h *apptest.Harness, member int64) map[string]int64 {
	t.Helper()
	q, err := outboxOf(h).Quotas(context.Background(), member)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestSubscriptionsAcceptGrantsAndRejectDoesNot(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *configs.Config) {
		c.Reminder.Templates["other_subscribe"] = configs.ReminderTemplate{Channel: "subscribe", WeChatID: "sim-tmpl-other",
			Fields: map[string]string{"thing1": "{{points}}"}}
	})
	tok, _, id := h.Login(apptest.UniqueUser("sub"))
	for i, want := range []int64{1, 2} {
		r := subscriptions(h, map[string]any{"results": map[string]string{subTmpl: "accept", "sim-tmpl-other": "reject"}}, apptest.Auth(tok)...)
		if r.Status != http.StatusOK {
			t.Fatalf("report %d: %d %s", i, r.Status, r.Body)
		}
		var out struct{ Granted map[string]int64 }
		r.Decode(t, &out)
		if out.Granted[subTmpl] != want || out.Granted["sim-tmpl-other"] != 0 || len(out.Granted) != 2 {
			t.Fatalf("report %d granted %v, want %s=%d, other=0", i, out.Granted, subTmpl, want)
		}
	}
	for _, answer := range []string{"reject", "ban", "filter"} {
		r := subscriptions(h, map[string]any{"results": map[string]string{subTmpl: answer}}, apptest.Auth(tok)...)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", answer, r.Status, r.Body)
		}
	}
	if q := quotas(t, h, id); q[subTmpl] != 2 || q["sim-tmpl-other"] != 0 {
		t.Fatalf("stored quotas %v, want %s=2 only", q, subTmpl)
	}
}

func TestSubscriptionsBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	tok, _, id := h.Login(apptest.UniqueUser("subbad"))
	many := map[string]string{}
	for i := range 21 {
		many[strings.Repeat("x", i+1)] = "accept"
	}
	cases := []struct {
		name    string
		body    any
		headers []string
		status  int
		code    string
		field   string
	}{
		{"malformed JSON", `{"results":`, apptest.Auth(tok), 400, "INVALID", ""},
		{"not an object", `[1]`, apptest.Auth(tok), 400, "INVALID", ""},
		{"results wrong type", `{"results":"accept"}`, apptest.Auth(tok), 400, "INVALID", "results"},
		{"value wrong type", `{"results":{"sim-tmpl-expiry":1}}`, apptest.Auth(tok), 400, "INVALID", ""},
		{"unknown field", `{"results":{"sim-tmpl-expiry":"accept"},"x":1}`, apptest.Auth(tok), 400, "INVALID", "x"},
		{"empty body", ``, apptest.Auth(tok), 400, "INVALID", ""},
		{"missing results", `{}`, apptest.Auth(tok), 400, "INVALID", "results"},
		{"empty results", `{"results":{}}`, apptest.Auth(tok), 400, "INVALID", "results"},
		{"21 templates", map[string]any{"results": many}, apptest.Auth(tok), 400, "INVALID", "results"},
		{"empty template id", `{"results":{"":"accept"}}`, apptest.Auth(tok), 400, "INVALID", "results"},
		{"template id too long", map[string]any{"results": map[string]string{strings.Repeat("t", 65): "accept"}}, apptest.Auth(tok), 400, "INVALID", "results"},
		{"unconfigured template", `{"results":{"made-up":"accept"}}`, apptest.Auth(tok), 400, "INVALID", "results.made-up"},
		{"unknown answer", `{"results":{"sim-tmpl-expiry":"yes"}}`, apptest.Auth(tok), 400, "INVALID", "results.sim-tmpl-expiry"},
		{"one bad of two", `{"results":{"sim-tmpl-expiry":"accept","made-up":"accept"}}`, apptest.Auth(tok), 400, "INVALID", "results.made-up"},
		{"no token", `{"results":{"sim-tmpl-expiry":"accept"}}`, nil, 401, "UNAUTHORIZED", ""},
		{"forged token", `{"results":{"sim-tmpl-expiry":"accept"}}`, apptest.Auth(tok + "x"), 401, "UNAUTHORIZED", ""},
	}
	// Refused for what the spec cannot say (which templates are configured,
	// how many, auth): the others the spec itself forbids.
	specValid := map[string]bool{"no token": true, "forged token": true, "empty results": true, "21 templates": true,
		"empty template id": true, "template id too long": true, "unconfigured template": true, "one bad of two": true}
	for _, tc := range cases {
		r := h.Send(specValid[tc.name], "POST", "/api/v1/shopper/subscriptions", tc.body, tc.headers...)
		if r.Status != tc.status || r.ErrorCode() != tc.code {
			t.Fatalf("%s: %d %s, want %d %s", tc.name, r.Status, r.Body, tc.status, tc.code)
		}
		if tc.field != "" {
			fields, _ := r.JSON()["error"].(map[string]any)["fields"].(map[string]any)
			if _, ok := fields[tc.field]; !ok {
				t.Fatalf("%s: fields %v, want %q", tc.name, fields, tc.field)
			}
		}
	}
	if q := quotas(t, h, id); len(q) != 0 {
		t.Fatalf("bad input wrote quotas %v", q)
	}
}

func outboxOf(h *apptest.Harness) *reminderstore.Outbox { return &reminderstore.Outbox{DB: h.Env.DB} }
