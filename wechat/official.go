package wechat

import (
	"fmt"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/officialaccount"
	"github.com/silenceper/wechat/v2/officialaccount/config"
)

// Official is the WeChat official account (公众号) API of one app.
type Official struct {
	sdk *officialaccount.OfficialAccount
	caller
}

// NewOfficial returns the API of the official account appID, keeping its
// access token in c (shared by every instance of the service).
func NewOfficial(appID, secret string, c cache.Cache, opts ...Option) *Official {
	installClient()
	sdk := officialaccount.NewOfficialAccount(&config.Config{AppID: appID, AppSecret: secret, Cache: c})
	handle, ok := sdk.GetContext().AccessTokenHandle.(credential.AccessTokenContextHandle)
	if !ok {
		handle = credential.AccessTokenCompatibleHandle{AccessTokenHandle: sdk.GetContext().AccessTokenHandle}
	}
	tokens := tokenSource{
		handle: handle,
		cache:  c,
		// The key credential.DefaultAccessToken caches the token under.
		key: fmt.Sprintf("%s_access_token_%s", credential.CacheKeyOfficialAccountPrefix, appID),
	}
	return &Official{sdk: sdk, caller: newCaller(tokens, []int64{40001, 40014, 42001}, opts)}
}
