package wechat

import (
	"fmt"

	"github.com/silenceper/wechat/v2/credential"
)

// Official is the WeChat official account (公众号) API of one app.
type Official struct {
	caller
}

// NewOfficial returns the API of the official account appID, keeping its
// access token in c (shared by every instance of the service).
func NewOfficial(appID, secret string, c *RedisCache, opts ...Option) *Official {
	installClient()
	tokens := newTokenSource(c, fmt.Sprintf("%s_access_token_%s", credential.CacheKeyOfficialAccountPrefix, appID), stableToken(appID, secret))
	return &Official{caller: newCaller(tokens, []int64{40001, 40014, 42001}, opts)}
}
