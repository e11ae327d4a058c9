package consoleweb_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// TestMemberPageShowsRiskControl: the member page says there is no flag,
// then, once a reviewer holds the member, shows the hold and its reason —
// what the JSON API's /members/{id}/risk answers.
func TestMemberPageShowsRiskControl(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, _, id := s.h.Login(apptest.UniqueUser("riskpage"))
	a := s.client()
	a.signIn("auditor")
	path := fmt.Sprintf("/console/members/%d", id)
	if p := a.get(path); p.status != 200 || !strings.Contains(p.body, `id="risk"`) || !strings.Contains(p.body, "无风控标记") || strings.Contains(p.body, `id="risk-hold"`) {
		t.Fatalf("member page before any flag: %d %.2000s", p.status, p.body)
	}
	if r := s.h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/hold", id), map[string]string{"reason": "同一设备多账号"},
		apptest.Auth(s.h.ConsoleLogin("marketer"))...); r.Status >= 300 {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	p := a.get(path)
	if p.status != 200 || !strings.Contains(p.body, `id="risk-hold"`) || !strings.Contains(p.body, "同一设备多账号") || !strings.Contains(p.body, "marketer") {
		t.Fatalf("member page of a held member: %d %.3000s", p.status, p.body)
	}
}
