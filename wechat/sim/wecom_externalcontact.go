package sim

import (
	"crypto/rand"
	"strings"
)

// WeCom external-contact error codes.
const (
	codeInvalidParameter = 40058
	codeNotExternal      = 84061
)

// ExternalUserID is the simulated WeCom external_userid of the WeChat user
// whose mini-program login code is "sim:<user>:…": externalcontact/get
// answers that user's unionid for it.
func ExternalUserID(user string) string { return "wm-sim-" + user }

// ExternalUserIDWithoutUnionID is the external_userid of the same user as
// a company not linked to the WeChat open platform sees it:
// externalcontact/get answers the contact without a unionid, as WeCom does
// when the company has not bound a WeChat developer id.
func ExternalUserIDWithoutUnionID(user string) string { return "wm-sim-nounion-" + user }

// externalContactGet is GET /cgi-bin/externalcontact/get?external_userid=.
func (s *Server) externalContactGet(req *Request) any {
	user, ok := strings.CutPrefix(req.Param("external_userid"), "wm-sim-")
	if !ok || user == "" {
		return errReply(codeNotExternal, "not external contact")
	}
	contact := map[string]any{"external_userid": "wm-sim-" + user, "name": user, "type": 1, "unionid": "sim-unionid-" + user}
	if bare, ok := strings.CutPrefix(user, "nounion-"); ok {
		contact = map[string]any{"external_userid": "wm-sim-nounion-" + bare, "name": bare, "type": 1}
	}
	return map[string]any{
		"errcode": 0, "errmsg": "ok",
		"external_contact": contact,
		"follow_user":      []any{},
	}
}

// addMsgTemplate is POST /cgi-bin/externalcontact/add_msg_template: a
// customer broadcast that WeCom then asks the sender to confirm. It needs
// chat_type single with 1–10000 external_userid and a text or attachment;
// unknown external userids are answered in fail_list.
func (s *Server) addMsgTemplate(req *Request) any {
	if !req.JSON {
		return errReply(codeDataFormat, "")
	}
	ids, _ := req.Params["external_userid"].([]any)
	text, _ := req.Params["text"].(map[string]any)
	content, _ := text["content"].(string)
	if ct := req.Param("chat_type"); ct != "" && ct != "single" || len(ids) == 0 || len(ids) > 10000 || content == "" {
		return errReply(codeInvalidParameter, "invalid parameter")
	}
	fail := []string{}
	for _, v := range ids {
		if id, _ := v.(string); !strings.HasPrefix(id, "wm-sim-") {
			fail = append(fail, id)
		}
	}
	return map[string]any{"errcode": 0, "errmsg": "ok", "fail_list": fail, "msgid": "msgsim" + rand.Text()[:16]}
}
