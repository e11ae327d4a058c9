package reminder

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jifen/jifen/domain"
)

// Template messages of official accounts no longer show their first and
// remark fields (WeChat's change of May 2023): a message that fills only
// those arrives empty. Their text goes into the template's keywords.
var hiddenFields = map[string]bool{"first": true, "remark": true}

// CheckFields checks the data keys a configured template fills on its
// channel, without asking WeChat: a subscribe message's keys are keyword
// keys (thing1, date2), and a template message fills keywords, not first
// or remark, which WeChat no longer shows. The error is a field error
// naming prefix + "." + the key.
func CheckFields(prefix string, ch Channel, fields map[string]string) error {
	keys := sortedKeys(fields)
	switch ch {
	case Subscribe:
		for _, k := range keys {
			if _, ok := KeywordKind(k); !ok {
				return domain.FieldError(prefix+"."+k, "not a subscribe keyword: the template's keyword type and number (thing1, date2, character_string3)")
			}
		}
	case Template:
		for _, k := range keys {
			if hiddenFields[k] {
				return domain.FieldError(prefix+"."+k, "WeChat no longer shows first and remark (since May 2023); put the text in the template's keywords (thing1, keyword1, …)")
			}
		}
	}
	return nil
}

// TemplateLister lists an account's templates: template id → the data
// keys of its keywords, in the order its content names them (package
// wechat: the mini-program's subscribe templates, the official account's
// template-message templates).
type TemplateLister interface {
	TemplateKeywords(ctx context.Context) (map[string][]string, error)
}

// CheckTemplates compares every subscribe and template message of ts with
// the account's template of its wechat id, as the channel's lister lists
// them, and returns a problem per template whose id the account does not
// have or whose fields are not exactly the template's keywords (first and
// remark aside). err is a failure to list, not a mismatch.
func CheckTemplates(ctx context.Context, ts []MessageTemplate, lists map[Channel]TemplateLister) (problems []string, err error) {
	listed := map[Channel]map[string][]string{}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	for _, t := range ts {
		l := lists[t.Channel]
		if l == nil || (t.Channel != Subscribe && t.Channel != Template) {
			continue
		}
		if listed[t.Channel] == nil {
			kw, err := l.TemplateKeywords(ctx)
			if err != nil {
				return problems, fmt.Errorf("list the %s templates: %w", t.Channel, err)
			}
			listed[t.Channel] = kw
		}
		kw, ok := listed[t.Channel][t.WeChatID]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: the account has no %s template %q", t.Name, t.Channel, t.WeChatID))
			continue
		}
		want := map[string]bool{}
		for _, k := range kw {
			if !hiddenFields[k] {
				want[k] = true
			}
		}
		var missing, extra []string
		for k := range want {
			if _, ok := t.Fields[k]; !ok {
				missing = append(missing, k)
			}
		}
		for k := range t.Fields {
			if !want[k] {
				extra = append(extra, k)
			}
		}
		if len(missing)+len(extra) > 0 {
			sort.Strings(missing)
			sort.Strings(extra)
			problems = append(problems, fmt.Sprintf("%s: fields do not match the keywords of template %q (%s): missing [%s], not in the template [%s]",
				t.Name, t.WeChatID, strings.Join(kw, " "), strings.Join(missing, " "), strings.Join(extra, " ")))
		}
	}
	return problems, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
