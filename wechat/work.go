package wechat

import (
	"context"
	"fmt"

	"github.com/silenceper/wechat/v2/credential"
)

// Work is the WeCom (企业微信) API of one corp application.
type Work struct {
	agentID string
	caller
}

// NewWork returns the WeCom API of the application agentID of corpID,
// keeping its access token in c.
func NewWork(corpID, secret, agentID string, c *RedisCache, opts ...Option) *Work {
	installClient()
	// The key the SDK's credential.WorkAccessToken would use.
	key := fmt.Sprintf("%s_access_token_%s", credential.CacheKeyWorkPrefix, corpID)
	if agentID != "" {
		key += "_" + agentID
	}
	tokens := newTokenSource(c, key, workToken(corpID, secret))
	// WeCom's 40001 is a wrong secret, not a stale token.
	return &Work{agentID: agentID, caller: newCaller(tokens, []int64{40014, 42001}, opts)}
}

// AccessToken returns the application's access token, cached until shortly
// before it expires.
func (w *Work) AccessToken(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	tok, err := w.tokens.get(ctx)
	if err != nil {
		return "", unavailable("gettoken", err)
	}
	return tok, nil
}
