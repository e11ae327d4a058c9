package reminder

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type listerFunc func(ctx context.Context) (map[string][]string, error)

func (f listerFunc) TemplateKeywords(ctx context.Context) (map[string][]string, error) { return f(ctx) }

var _ TemplateLister = listerFunc(nil)

func TestCheckTemplates(t *testing.T) {
	lists := map[Channel]TemplateLister{
		Subscribe: listerFunc(func(context.Context) (map[string][]string, error) {
			return map[string][]string{"sub": {"thing1", "date2"}}, nil
		}),
		Template: listerFunc(func(context.Context) (map[string][]string, error) {
			return map[string][]string{"oa": {"first", "keyword1", "keyword2", "remark"}}, nil
		}),
	}
	tests := []struct {
		name string
		t    MessageTemplate
		want string // "" for no problem
	}{
		{"subscribe matches", MessageTemplate{Channel: Subscribe, WeChatID: "sub", Fields: map[string]string{"thing1": "a", "date2": "b"}}, ""},
		{"subscribe misses a keyword", MessageTemplate{Channel: Subscribe, WeChatID: "sub", Fields: map[string]string{"thing1": "a"}}, "missing [date2]"},
		{"unknown template", MessageTemplate{Channel: Subscribe, WeChatID: "nope", Fields: map[string]string{"thing1": "a"}}, `no subscribe template "nope"`},
		{"old template, keywords filled", MessageTemplate{Channel: Template, WeChatID: "oa", Fields: map[string]string{"keyword1": "a", "keyword2": "b"}}, ""},
		{"old template, a key it lacks", MessageTemplate{Channel: Template, WeChatID: "oa", Fields: map[string]string{"keyword1": "a", "keyword2": "b", "thing3": "c"}}, "not in the template [thing3]"},
		{"wecom is not checked", MessageTemplate{Channel: WeCom, Text: "x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.t.Name = "n"
			problems, err := CheckTemplates(context.Background(), []MessageTemplate{tt.t}, lists)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == "" && len(problems) != 0:
				t.Fatalf("problems %v, want none", problems)
			case tt.want != "" && (len(problems) != 1 || !strings.Contains(problems[0], tt.want)):
				t.Fatalf("problems %v, want one naming %q", problems, tt.want)
			}
		})
	}
	down := map[Channel]TemplateLister{Subscribe: listerFunc(func(context.Context) (map[string][]string, error) { return nil, errors.New("timeout") })}
	if _, err := CheckTemplates(context.Background(), []MessageTemplate{{Channel: Subscribe, WeChatID: "sub"}}, down); err == nil {
		t.Fatal("WeChat not answering: no error")
	}
}

func TestCheckFieldsRefusesFirstAndRemark(t *testing.T) {
	if err := CheckFields("t", Template, map[string]string{"keyword1": "a", "remark": "b"}); err == nil || !strings.Contains(err.Error(), "t.remark") {
		t.Fatalf("remark: %v", err)
	}
	if err := CheckFields("t", Template, map[string]string{"keyword1": "a", "thing2": "b"}); err != nil {
		t.Fatalf("keywords: %v", err)
	}
}
