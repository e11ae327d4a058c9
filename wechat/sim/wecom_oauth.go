package sim

import "strings"

// codeWeComInvalidCode is WeCom's answer to a bad or used OAuth code.
const codeWeComInvalidCode = 40029

// getUserInfo is WeCom's GET /cgi-bin/auth/getuserinfo?access_token=&code=.
// Code "sim-wecom:<userid>:<nonce>" is the corp member userid; code
// "sim-wecom-ext:<openid>:<nonce>" is a visitor outside the corp. A code
// works once.
func (s *Server) getUserInfo(req *Request) any {
	code := req.Param("code")
	parts := strings.SplitN(code, ":", 3)
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" || (parts[0] != "sim-wecom" && parts[0] != "sim-wecom-ext") {
		return errReply(codeWeComInvalidCode, "")
	}
	s.mu.Lock()
	used, _ := s.usedCodes.get(code)
	s.usedCodes.put(code, true)
	s.mu.Unlock()
	if used {
		return errReply(codeWeComInvalidCode, "invalid code, code has been used")
	}
	if parts[0] == "sim-wecom-ext" {
		return map[string]any{"errcode": 0, "errmsg": "ok", "openid": parts[1]}
	}
	return map[string]any{"errcode": 0, "errmsg": "ok", "userid": parts[1], "user_ticket": ""}
}
