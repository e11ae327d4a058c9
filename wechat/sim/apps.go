package sim

import "strings"

// WeChat knows each app's secret. The simulator learns an appid's secret
// the first time a call names it (/cgi-bin/token, stable_token,
// jscode2session), unless RegisterApp named it before; from then on any
// other secret is 40125 (invalid appsecret), as WeChat answers a secret
// that was mistyped or reset on the platform. An appid that does not start
// with "wx" is 40013 (invalid appid). The secret "bad" is always 40125 and
// never learned.

// RegisterApp makes secret the only one appID accepts from now on.
func (s *Server) RegisterApp(appID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	s.secrets[appID] = secret
}

// checkApp is WeChat's check of an appid and its secret, both present. It
// returns 0 or the errcode.
func (s *Server) checkApp(appID, secret string) int {
	switch {
	case !strings.HasPrefix(appID, "wx"):
		return codeInvalidAppID
	case secret == "bad":
		return codeInvalidSecret
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	known, ok := s.secrets[appID]
	switch {
	case !ok:
		s.secrets[appID] = secret
	case known != secret:
		return codeInvalidSecret
	}
	return 0
}
