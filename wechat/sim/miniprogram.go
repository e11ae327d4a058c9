package sim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
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
	used, _ := s.usedCodes.get(code)
	s.usedCodes.put(code, true)
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

// phoneCodeTTL is how long WeChat accepts a getPhoneNumber code.
const phoneCodeTTL = 5 * time.Minute

// phoneCode is one getPhoneNumber code the simulator knows.
type phoneCode struct {
	issued time.Time
	used   bool
}

// PhoneCode issues a getPhoneNumber code for phone (11 digits), as the
// mini-program's button hands one to the shopper: valid for five minutes
// from issued (now when zero), once. The code is
// "sim-phone:<phone>:<random>".
func (s *Server) PhoneCode(phone string, issued time.Time) string {
	if issued.IsZero() {
		issued = s.now()
	}
	code := "sim-phone:" + phone + ":" + rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phoneCodes.put(code, &phoneCode{issued: issued})
	return code
}

// getUserPhoneNumber is POST /wxa/business/getuserphonenumber. As WeChat
// documents it, a code works once and for five minutes; a used, expired or
// unknown code is 40029. A code written by hand ("sim-phone:<11 digits>",
// with anything after another ':') counts as issued at its first use.
func (s *Server) getUserPhoneNumber(req *Request) any {
	if !req.JSON {
		return errReply(codeDataFormat, "")
	}
	code := req.Param("code")
	rest, ok := strings.CutPrefix(code, "sim-phone:")
	phone, _, _ := strings.Cut(rest, ":")
	if !ok || !isDigits(phone, 11) {
		return errReply(codeInvalidCode, "")
	}
	s.mu.Lock()
	pc, _ := s.phoneCodes.get(code)
	if pc == nil {
		pc = &phoneCode{issued: req.Now}
		s.phoneCodes.put(code, pc)
	}
	stale := pc.used || !req.Now.Before(pc.issued.Add(phoneCodeTTL))
	pc.used = true
	s.mu.Unlock()
	if stale {
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

// servePhoneCodes is POST /_sim/phone_codes {"phone","issued_at"}: a new
// getPhoneNumber code (PhoneCode), {"code"}.
func (s *Server) servePhoneCodes(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		return
	}
	var in struct {
		Phone    string    `json:"phone"`
		IssuedAt time.Time `json:"issued_at"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || !isDigits(in.Phone, 11) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "phone_codes: want {\"phone\": 11 digits, \"issued_at\": optional RFC 3339}"})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"code": s.PhoneCode(in.Phone, in.IssuedAt)})
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
