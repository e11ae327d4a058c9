package sim

import (
	"crypto/rand"
	"time"
)

// tokenTTL is what WeChat and WeCom answer as expires_in.
const tokenTTL = 7200 * time.Second

type accessToken struct {
	host    string
	appID   string
	expires time.Time
}

// token is WeChat's GET /cgi-bin/token.
func (s *Server) token(req *Request) any {
	appID, secret := req.Param("appid"), req.Param("secret")
	switch {
	case req.Param("grant_type") != "client_credential":
		return errReply(codeInvalidGrant, "")
	case appID == "":
		return errReply(codeAppIDMissing, "")
	case secret == "":
		return errReply(codeSecretMissing, "")
	case secret == "bad":
		return errReply(codeInvalidSecret, "")
	}
	return map[string]any{
		"access_token": s.issueToken(HostWeChat, appID, req.Now),
		"expires_in":   int(tokenTTL / time.Second),
	}
}

// workToken is WeCom's GET /cgi-bin/gettoken.
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
	return map[string]any{
		"errcode":      0,
		"errmsg":       "ok",
		"access_token": s.issueToken(HostWeCom, corpID, req.Now),
		"expires_in":   int(tokenTTL / time.Second),
	}
}

func (s *Server) issueToken(host, appID string, now time.Time) string {
	tok := rand.Text() + rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = accessToken{host: host, appID: appID, expires: now.Add(tokenTTL)}
	return tok
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
}
