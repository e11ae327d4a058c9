package sim

import (
	"net/http"
	"testing"
)

func TestTemplateLists(t *testing.T) {
	c := newClient(t, nil)
	tok := c.token("wxtl")
	if st, m := c.do("POST", "", "/_sim/templates", `{"kind":"subscribe","template_id":"t2","content":"单号:{{character_string1.DATA}}"}`); st != http.StatusCreated {
		t.Fatalf("add template: %d %v", st, m)
	}
	if st, _ := c.do("POST", "", "/_sim/templates", `{"kind":"other","template_id":"t3","content":"{{thing1.DATA}}"}`); st != http.StatusBadRequest {
		t.Fatalf("bad kind: %d", st)
	}
	c.run([]row{
		{name: "subscribe templates", path: "/_sim/wxaapi/newtmpl/gettemplate?access_token=" + tok, check: func(t *testing.T, m map[string]any) {
			data, _ := m["data"].([]any)
			ids := map[string]string{}
			for _, d := range data {
				d := d.(map[string]any)
				ids[d["priTmplId"].(string)] = d["content"].(string)
			}
			if len(ids) != 2 || ids["t2"] != "单号:{{character_string1.DATA}}" || ids["sim-tmpl-expiry"] == "" {
				t.Errorf("templates %v", m)
			}
		}},
		{name: "official templates", path: "/_sim/cgi-bin/template/get_all_private_template?access_token=" + tok, check: func(t *testing.T, m map[string]any) {
			list, _ := m["template_list"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["template_id"] != "sim-oa-tmpl-expiry" {
				t.Errorf("templates %v", m)
			}
		}},
		{name: "no token", path: "/_sim/wxaapi/newtmpl/gettemplate", wantCode: 41001},
	})
}
