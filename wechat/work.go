package wechat

import (
	"context"
	"fmt"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/work"
	"github.com/silenceper/wechat/v2/work/config"
)

// Work is the WeCom (企业微信) API of one corp application.
type Work struct {
	sdk *work.Work
	caller
}

// NewWork returns the WeCom API of the application agentID of corpID,
// keeping its access token in c.
func NewWork(corpID, secret, agentID string, c cache.Cache, opts ...Option) *Work {
	installClient()
	sdk := work.NewWork(&config.Config{CorpID: corpID, CorpSecret: secret, AgentID: agentID, Cache: c})
	// work.NewWork builds a credential.WorkAccessToken, which has the context
	// variant, but stores it as the narrower AccessTokenHandle.
	handle, ok := sdk.GetContext().AccessTokenHandle.(credential.AccessTokenContextHandle)
	if !ok {
		handle = credential.AccessTokenCompatibleHandle{AccessTokenHandle: sdk.GetContext().AccessTokenHandle}
	}
	// The key credential.WorkAccessToken caches the token under.
	key := fmt.Sprintf("%s_access_token_%s", credential.CacheKeyWorkPrefix, corpID)
	if agentID != "" {
		key += "_" + agentID
	}
	tokens := tokenSource{handle: handle, cache: c, key: key}
	// WeCom's 40001 is a wrong secret, not a stale token.
	return &Work{sdk: sdk, caller: newCaller(tokens, []int64{40014, 42001}, opts)}
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
