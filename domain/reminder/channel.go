package reminder

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// MessageTemplate is one configured message template (reminder.templates): what
// a channel sends, with {{name}} placeholders in Fields' values and Text.
type MessageTemplate struct {
	Name     string
	Channel  Channel
	WeChatID string            // subscribe / official-account template id
	Page     string            // mini-program page opened from the message
	Fields   map[string]string // subscribe and template messages: field → value
	Text     string            // wecom and robot messages
}

// BuiltinVars are the variables every reminder fills in; campaigns may add
// their own.
var BuiltinVars = []string{"points", "expire_date", "nickname"}

var placeholder = regexp.MustCompile(`\{\{\s*([a-zA-Z0-9_]+)\s*\}\}`)

// Placeholders lists, sorted and distinct, the variables t uses.
func (t MessageTemplate) Placeholders() []string {
	seen := map[string]bool{}
	add := func(s string) {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			seen[m[1]] = true
		}
	}
	add(t.Text)
	for _, v := range t.Fields {
		add(v)
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Unknown returns the placeholders of t that neither the builtin variables
// nor extra define.
func (t MessageTemplate) Unknown(extra map[string]string) []string {
	var out []string
	for _, p := range t.Placeholders() {
		if _, ok := extra[p]; ok {
			continue
		}
		builtin := false
		for _, b := range BuiltinVars {
			builtin = builtin || b == p
		}
		if !builtin {
			out = append(out, p)
		}
	}
	return out
}

// Render fills t for one recipient address.
func (t MessageTemplate) Render(to string, vars map[string]string) Message {
	m := Message{To: to, TemplateID: t.WeChatID, Page: t.Page, Text: renderVars(t.Text, vars)}
	if len(t.Fields) > 0 {
		m.Data = make(map[string]string, len(t.Fields))
		for k, v := range t.Fields {
			m.Data[k] = renderVars(v, vars)
		}
	}
	return m
}

func renderVars(s string, vars map[string]string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		return vars[placeholder.FindStringSubmatch(m)[1]]
	})
}

// Choose picks the first channel of order that can reach r and has a
// template in ts, and returns it with the address to send to. When none
// can, it returns None and why, naming each channel's reason.
//
//   - subscribe: the member has a mini-program openid and a subscription
//     quota left for the template;
//   - template: the member follows the official account (linked by unionid);
//   - wecom: the member has a shop guide;
//   - robot: the member's store group has a robot.
func Choose(r Recipient, order []Channel, ts map[Channel]MessageTemplate) (ch Channel, to, reason string) {
	var why []string
	for _, c := range order {
		t, ok := ts[c]
		if !ok {
			why = append(why, fmt.Sprintf("%s: no template", c))
			continue
		}
		switch c {
		case Subscribe:
			switch {
			case r.OpenID == "":
				why = append(why, "subscribe: no mini-program openid")
			case r.Quota[t.WeChatID] <= 0:
				why = append(why, "subscribe: no subscription quota")
			default:
				return c, r.OpenID, ""
			}
		case Template:
			if r.OfficialOpenID == "" {
				why = append(why, "template: not following the official account")
			} else {
				return c, r.OfficialOpenID, ""
			}
		case WeCom:
			if r.Guide.UserID == "" {
				why = append(why, "wecom: no shop guide")
			} else {
				return c, r.Guide.UserID, ""
			}
		case Robot:
			if r.Guide.RobotKey == "" {
				why = append(why, "robot: no store group robot")
			} else {
				return c, r.Guide.RobotKey, ""
			}
		}
	}
	if len(why) == 0 {
		why = append(why, "no channel configured")
	}
	reason = strings.Join(why, "; ")
	if len(reason) > 200 {
		reason = reason[:200]
	}
	return None, "", reason
}
