package sim

import (
	"crypto/rand"
	"encoding/json"
	"time"
)

// Access tokens as WeChat hands them out:
//
//   - One current token per app (host + appid). /cgi-bin/token issues a new
//     one on every call, and the previous one keeps working for
//     tokenGrace only: two systems fetching tokens for one appid keep
//     invalidating each other's (WeChat's 40001 "not latest").
//   - /cgi-bin/stable_token answers the current token while it is valid;
//     force_refresh issues a new one (same grace for the old), at most
//     stableForcePerDay times a day and once every stableForceGap.
//   - /cgi-bin/token counts against a daily quota per appid (45009 when
//     spent); WeCom's gettoken answers the same token while it is valid.
const (
	tokenTTL          = 7200 * time.Second // what WeChat and WeCom answer as expires_in
	tokenGrace        = 5 * time.Minute
	tokenDailyQuota   = 2000
	stableForcePerDay = 20
	stableForceGap    = 30 * time.Second
	codeDailyQuota    = 45009
)

type accessToken struct {
	host     string
	appID    string
	expires  time.Time
	replaced bool // a newer token cut expires short
}

// appTokens is one app's token state.
type appTokens struct {
	current   string
	day       string // Asia/Shanghai day the counters are for
	fetches   int    // /cgi-bin/token calls that day
	forces    int    // stable_token force_refresh calls that day
	lastForce time.Time
}

var shanghai = time.FixedZone("CST", 8*3600)

// app returns the token state of host+appID with its counters on now's
// day. Callers hold s.mu.
func (s *Server) app(host, appID string, now time.Time) *appTokens {
	if s.apps == nil {
		s.apps = map[string]*appTokens{}
	}
	a := s.apps[host+"/"+appID]
	if a == nil {
		a = &appTokens{}
		s.apps[host+"/"+appID] = a
	}
	if d := now.In(shanghai).Format(time.DateOnly); a.day != d {
		a.day, a.fetches, a.forces = d, 0, 0
	}
	return a
}

// token is WeChat's GET /cgi-bin/token.
func (s *Server) token(req *Request) any {
	appID, secret := req.Param("appid"), req.Param("secret")
	if code := s.checkCredentials(req.Param("grant_type"), appID, secret); code != 0 {
		return errReply(code, "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.app(HostWeChat, appID, req.Now)
	if a.fetches >= tokenDailyQuota {
		return errReply(codeDailyQuota, "")
	}
	a.fetches++
	return tokenReply(s.rotate(HostWeChat, appID, req.Now, tokenGrace), tokenTTL)
}

// stableToken is WeChat's POST /cgi-bin/stable_token.
func (s *Server) stableToken(req *Request) any {
	appID, secret := req.Param("appid"), req.Param("secret")
	if !req.JSON {
		return errReply(codeDataFormat, "")
	}
	if code := s.checkCredentials(req.Param("grant_type"), appID, secret); code != 0 {
		return errReply(code, "")
	}
	force, _ := req.Params["force_refresh"].(bool)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.app(HostWeChat, appID, req.Now)
	if force {
		switch {
		case a.forces >= stableForcePerDay:
			return errReply(codeDailyQuota, "")
		case !a.lastForce.IsZero() && req.Now.Sub(a.lastForce) < stableForceGap:
			return errReply(codeRateLimited, "")
		}
		a.forces++
		a.lastForce = req.Now
		return tokenReply(s.rotate(HostWeChat, appID, req.Now, tokenGrace), tokenTTL)
	}
	if t, ok := s.tokens[a.current]; ok && req.Now.Before(t.expires) {
		return tokenReply(a.current, t.expires.Sub(req.Now))
	}
	return tokenReply(s.rotate(HostWeChat, appID, req.Now, tokenGrace), tokenTTL)
}

// checkCredentials is WeChat's check of a token request.
func (s *Server) checkCredentials(grantType, appID, secret string) int {
	switch {
	case grantType != "client_credential":
		return codeInvalidGrant
	case appID == "":
		return codeAppIDMissing
	case secret == "":
		return codeSecretMissing
	}
	return s.checkApp(appID, secret)
}

func tokenReply(tok string, ttl time.Duration) map[string]any {
	return map[string]any{"access_token": tok, "expires_in": int(ttl / time.Second)}
}

// workToken is WeCom's GET /cgi-bin/gettoken: the same token while it is
// valid.
func (s *Server) workToken(req *Request) any {
	corpID, secret := req.Param("corpid"), req.Param("corpsecret")
	switch {
	case corpID == "":
		return errReply(codeAppIDMissing, "corpid missing")
	case secret == "":
		return errReply(codeSecretMissing, "corpsecret missing")
	case secret == "bad":
		return errReply(codeInvalidCredent, "invalid credential")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.app(HostWeCom, corpID, req.Now)
	tok, ttl := a.current, time.Duration(0)
	if t, ok := s.tokens[tok]; ok && req.Now.Before(t.expires) {
		ttl = t.expires.Sub(req.Now)
	} else {
		tok, ttl = s.rotate(HostWeCom, corpID, req.Now, 0), tokenTTL
	}
	reply := tokenReply(tok, ttl)
	reply["errcode"], reply["errmsg"] = 0, "ok"
	return reply
}

// rotate issues host+appID a new current token; the previous one stays
// valid for grace at most. Callers hold s.mu.
func (s *Server) rotate(host, appID string, now time.Time, grace time.Duration) string {
	a := s.app(host, appID, now)
	if old, ok := s.tokens[a.current]; ok {
		if end := now.Add(grace); end.Before(old.expires) {
			old.expires, old.replaced = end, true
			s.tokens[a.current] = old
		}
	}
	tok := rand.Text() + rand.Text()
	s.tokens[tok] = accessToken{host: host, appID: appID, expires: now.Add(tokenTTL)}
	a.current = tok
	return tok
}

// RotateToken issues appID (on host) a new access token, as another system
// fetching one would; the previous one works for grace more.
func (s *Server) RotateToken(host, appID string, grace time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate(host, appID, s.now(), grace)
}

// checkToken returns the appid the token was issued to, or the errcode host
// answers for it.
func (s *Server) checkToken(host, tok string, now time.Time) (appID string, errcode int) {
	if tok == "" {
		return "", codeTokenMissing
	}
	s.mu.Lock()
	t, ok := s.tokens[tok]
	s.mu.Unlock()
	switch {
	case !ok || t.host != host:
		if host == HostWeCom {
			return "", codeInvalidToken
		}
		return "", codeInvalidCredent
	case !now.Before(t.expires) && t.replaced && host == HostWeChat:
		return "", codeInvalidCredent // "not latest"
	case !now.Before(t.expires):
		return "", codeTokenExpired
	}
	return t.appID, 0
}

// ExpireTokens forgets every issued access token.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
	for _, a := range s.apps {
		a.current = ""
	}
}

// rotateRequest is the body of POST /_sim/tokens/expire that rotates one
// app's token instead of forgetting every token.
type rotateRequest struct {
	Host    string `json:"host"`
	AppID   string `json:"appid"`
	GraceMS int    `json:"grace_ms"`
}

func (r *rotateRequest) parse(body []byte) bool {
	return len(body) > 0 && json.Unmarshal(body, r) == nil && r.AppID != ""
}
