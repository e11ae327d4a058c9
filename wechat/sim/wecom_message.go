package sim

import (
	"fmt"
	"strings"
)

// WeCom app-message codes.
const (
	codeInvalidAgentID = 40056
	codeAllInvalid     = 81013
)

func init() {
	messages[codeInvalidAgentID] = "invalid agentid"
	messages[codeAllInvalid] = "user & party & tag all invalid"
}

// messageSend is WeCom's app message, POST /cgi-bin/message/send: a text
// message ({touser:"a|b", msgtype:"text", agentid, text:{content}}) to corp
// members. Every userid is a corp member except those starting with "bad".
// As WeCom does, unknown members are listed in invaliduser (lower-cased)
// while the others get the message (errcode 0); when nobody is left the
// answer is 81013 with invaliduser filled. agentid must be present (else
// 40056).
func (s *Server) messageSend(req *Request) any {
	if !req.JSON {
		return errReply(codeDataFormat, "")
	}
	if a := req.Param("agentid"); a == "" || a == `""` || a == "0" {
		return errReply(codeInvalidAgentID, "")
	}
	text, _ := req.Params["text"].(map[string]any)
	content, _ := text["content"].(string)
	if req.Param("msgtype") != "text" || content == "" {
		return errReply(codeDataFormat, "")
	}
	var valid, invalid []string
	for _, u := range strings.Split(req.Param("touser"), "|") {
		switch {
		case u == "":
		case strings.HasPrefix(strings.ToLower(u), "bad"):
			invalid = append(invalid, strings.ToLower(u))
		default:
			valid = append(valid, u)
		}
	}
	if len(valid) == 0 {
		r := errReply(codeAllInvalid, "")
		r["invaliduser"] = strings.Join(invalid, "|")
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range valid {
		s.deliver(Delivered{API: "message_send", To: u, Text: content, Time: req.Now})
	}
	return map[string]any{"errcode": 0, "errmsg": "ok", "invaliduser": strings.Join(invalid, "|"),
		"msgid": fmt.Sprintf("sim-msg-%d", req.Now.UnixNano())}
}
