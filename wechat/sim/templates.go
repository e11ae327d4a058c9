package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
)

// Template kinds: a mini-program's subscribe templates and an official
// account's template-message templates.
const (
	TemplateSubscribe = "subscribe"
	TemplateOfficial  = "official"
)

// Template is one template of an account, as its list API shows it: the
// content names each keyword as {{key.DATA}}.
type Template struct {
	Kind    string `json:"kind"`
	ID      string `json:"template_id"`
	Title   string `json:"title"`
	Content string `json:"content"`
}

// defaultTemplates are the templates of Jifen's default configuration
// (configs/default.yaml), present on every simulator.
var defaultTemplates = []Template{
	{Kind: TemplateSubscribe, ID: "sim-tmpl-expiry", Title: "积分过期提醒", Content: "积分说明:{{thing1.DATA}}\n过期时间:{{date2.DATA}}\n"},
	{Kind: TemplateOfficial, ID: "sim-oa-tmpl-expiry", Title: "积分过期提醒", Content: "积分说明：{{thing1.DATA}}\n过期时间：{{date2.DATA}}"},
}

// AddTemplate adds (or replaces) a template the list APIs return.
func (s *Server) AddTemplate(t Template) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addTemplate(t)
}

func (s *Server) addTemplate(t Template) {
	if s.templates == nil {
		s.templates = map[string]Template{}
		for _, d := range defaultTemplates {
			s.templates[d.Kind+"|"+d.ID] = d
		}
	}
	if t.ID != "" {
		s.templates[t.Kind+"|"+t.ID] = t
	}
}

func (s *Server) templatesOf(kind string) []Template {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addTemplate(Template{})
	var out []Template
	for _, t := range s.templates {
		if t.Kind == kind {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// subscribeTemplates is the mini-program's GET /wxaapi/newtmpl/gettemplate:
// {"errcode":0,"errmsg":"ok","data":[{"priTmplId","title","content","example","type":2}]}.
func (s *Server) subscribeTemplates(*Request) any {
	data := []map[string]any{}
	for _, t := range s.templatesOf(TemplateSubscribe) {
		data = append(data, map[string]any{"priTmplId": t.ID, "title": t.Title, "content": t.Content, "example": "", "type": 2})
	}
	return map[string]any{"errcode": 0, "errmsg": "ok", "data": data}
}

// officialTemplates is the official account's GET
// /cgi-bin/template/get_all_private_template:
// {"template_list":[{"template_id","title","primary_industry","deputy_industry","content","example"}]}.
func (s *Server) officialTemplates(*Request) any {
	list := []map[string]any{}
	for _, t := range s.templatesOf(TemplateOfficial) {
		list = append(list, map[string]any{"template_id": t.ID, "title": t.Title, "primary_industry": "IT科技",
			"deputy_industry": "互联网|电子商务", "content": t.Content, "example": ""})
	}
	return map[string]any{"template_list": list}
}

// serveTemplates serves GET /_sim/templates (every template) and POST
// /_sim/templates {"kind":"subscribe"|"official","template_id","title","content"}.
func (s *Server) serveTemplates(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, append(s.templatesOf(TemplateSubscribe), s.templatesOf(TemplateOfficial)...))
	case http.MethodPost:
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
		dec.DisallowUnknownFields()
		var t Template
		if err := dec.Decode(&t); err != nil || (t.Kind != TemplateSubscribe && t.Kind != TemplateOfficial) ||
			t.ID == "" || !strings.Contains(t.Content, ".DATA}}") {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"kind":"subscribe"|"official","template_id","content":"…{{thing1.DATA}}…"}`})
			return
		}
		s.AddTemplate(t)
		writeJSON(w, http.StatusCreated, t)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	}
}
