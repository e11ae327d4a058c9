package consoleweb_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The members export: UTF-8 with a BOM, a header, every member by id with
// the masked phone, in the page's language; a session is required.
func TestMembersCSV(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ids := []int64{shopper(t, s, "13912345678"), shopper(t, s, "13887654321")}
	c := s.client()
	c.signIn("auditor")
	if p := c.get("/console/members"); !strings.Contains(p.body, `id="members-csv"`) {
		t.Fatal("the members page has no export link")
	}
	r := c.get("/console/members.csv")
	if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(r.body, "\uFEFF会员号,") {
		t.Fatalf("members CSV: %d %v %.300q", r.status, r.header, r.body)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(ids) || rows[1][0] != fmt.Sprint(ids[0]) || rows[2][0] != fmt.Sprint(ids[1]) {
		t.Fatalf("rows %v, want members %v", rows, ids)
	}
	if rows[1][2] != "139****5678" || strings.Contains(r.body, "13912345678") {
		t.Fatalf("phone not masked: %v", rows[1])
	}
	c.get("/console/lang/en?next=/console/members")
	if en := c.get("/console/members.csv"); !strings.HasPrefix(en.body, "\uFEFFMember id,") {
		t.Errorf("English header: %.100q", en.body)
	}
	if r := s.client().get("/console/members.csv"); r.status != http.StatusSeeOther {
		t.Errorf("without a session: %d", r.status)
	}
}
