package wechat

import (
	"context"
	"regexp"

	"github.com/silenceper/wechat/v2/util"

	"github.com/jifen/jifen/domain/reminder"
)

var (
	_ reminder.TemplateLister = (*MiniProgram)(nil)
	_ reminder.TemplateLister = (*Official)(nil)
)

// dataKey finds the keywords of a template's content: {{thing1.DATA}}.
var dataKey = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\.DATA\s*\}\}`)

func keywordsOf(content string) []string {
	var out []string
	for _, m := range dataKey.FindAllStringSubmatch(content, -1) {
		out = append(out, m[1])
	}
	return out
}

// TemplateKeywords lists the mini-program's subscribe templates
// (wxaapi/newtmpl/gettemplate): template id → its keywords' data keys.
func (m *MiniProgram) TemplateKeywords(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	err := m.do(ctx, "gettemplate", true, func(ctx context.Context, token string) (int64, error) {
		var res struct {
			util.CommonError
			Data []struct {
				ID      string `json:"priTmplId"`
				Content string `json:"content"`
			} `json:"data"`
		}
		err := getJSON(ctx, "gettemplate", endpoint(hostWeChat, "/wxaapi/newtmpl/gettemplate", withToken(token)), &res)
		for _, t := range res.Data {
			out[t.ID] = keywordsOf(t.Content)
		}
		return errcode(err), err
	})
	return out, err
}

// TemplateKeywords lists the official account's template-message templates
// (cgi-bin/template/get_all_private_template): template id → data keys.
func (o *Official) TemplateKeywords(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	err := o.do(ctx, "get_all_private_template", true, func(ctx context.Context, token string) (int64, error) {
		var res struct {
			util.CommonError
			List []struct {
				ID      string `json:"template_id"`
				Content string `json:"content"`
			} `json:"template_list"`
		}
		err := getJSON(ctx, "get_all_private_template", endpoint(hostWeChat, "/cgi-bin/template/get_all_private_template", withToken(token)), &res)
		for _, t := range res.List {
			out[t.ID] = keywordsOf(t.Content)
		}
		return errcode(err), err
	})
	return out, err
}
