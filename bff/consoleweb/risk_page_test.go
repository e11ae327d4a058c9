package consoleweb_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/risk"
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

// TestMemberPageShowsPatternEvidence: a pattern rule's flag shows what it
// saw on the member page: the phone_sequence flag of a farm's member lists
// the sequential numbers bound.
func TestMemberPageShowsPatternEvidence(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	p := risk.DefaultPolicy()
	for i := range p.Rules {
		p.Rules[i].Enabled = p.Rules[i].Name == "phone_sequence"
	}
	if r := s.h.Do("PUT", "/api/v1/console/risk/policy", map[string]any{"version": 1, "rules": p.Rules},
		apptest.Auth(s.h.ConsoleLogin("marketer"))...); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
	var first int64
	for i := 1; i <= 4; i++ {
		tok, _, id := s.h.Login(apptest.UniqueUser(fmt.Sprintf("seqpage%d", i)))
		if first == 0 {
			first = id
		}
		if r := s.h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": s.h.PhoneCode(fmt.Sprintf("1351234000%d", i))}, apptest.Auth(tok)...); r.Status != 200 {
			t.Fatalf("bind: %d %s", r.Status, r.Body)
		}
	}
	a := s.client()
	a.signIn("auditor")
	pg := a.get(fmt.Sprintf("/console/members/%d", first))
	if pg.status != 200 || !strings.Contains(pg.body, `class="risk-evidence"`) || !strings.Contains(pg.body, "phone_sequence") ||
		!strings.Contains(pg.body, "13512340004") {
		t.Fatalf("member page of a farm's member: %d %.4000s", pg.status, pg.body)
	}
}
