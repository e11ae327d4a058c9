package sim

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// jscode2session is the mini-program login, GET /sns/jscode2session.
func (s *Server) jscode2session(req *Request) any {
	code := req.Param("js_code")
	switch {
	case req.Param("appid") == "":
		return errReply(codeAppIDMissing, "")
	case req.Param("secret") == "":
		return errReply(codeSecretMissing, "")
	case req.Param("grant_type") != "authorization_code":
		return errReply(codeInvalidGrant, "")
	case code == "":
		return errReply(codeCodeMissing, "")
	}
	if c := s.checkApp(req.Param("appid"), req.Param("secret")); c != 0 {
		return errReply(c, "")
	}
	user, ok := loginUser(code)
	if !ok {
		return errReply(codeInvalidCode, "")
	}
	s.mu.Lock()
	used := s.usedCodes[code]
	s.usedCodes[code] = true
	s.mu.Unlock()
	if used {
		return errReply(codeCodeUsed, "")
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	// A user "name~person" is another mini-program account of person: its
	// own openid, person's unionid (the same human under two accounts).
	union := user
	if _, person, ok := strings.Cut(user, "~"); ok && person != "" {
		union = person
	}
	return map[string]any{
		"openid":      "sim-openid-" + user,
		"unionid":     "sim-unionid-" + union,
		"session_key": base64.StdEncoding.EncodeToString(key),
	}
}

// loginUser reads the user out of a login code "sim:<user>:<nonce>".
func loginUser(code string) (string, bool) {
	parts := strings.SplitN(code, ":", 3)
	if len(parts) != 3 || parts[0] != "sim" || parts[1] == "" || parts[2] == "" {
		return "", false
	}
	return parts[1], true
}

// getUserPhoneNumber is POST /wxa/business/getuserphonenumber.
func (s *Server) getUserPhoneNumber(req *Request) any {
	if !req.JSON {
		return errReply(codeDataFormat, "")
	}
	phone, ok := strings.CutPrefix(req.Param("code"), "sim-phone:")
	if !ok || !isDigits(phone, 11) {
		return errReply(codeInvalidCode, "")
	}
	return map[string]any{
		"errcode": 0,
		"errmsg":  "ok",
		"phone_info": map[string]any{
			"phoneNumber":     phone,
			"purePhoneNumber": phone,
			"countryCode":     "86",
			"watermark": map[string]any{
				"timestamp": req.Now.Unix(),
				"appid":     req.AppID,
			},
		},
	}
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
