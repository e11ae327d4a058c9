package wechat

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/officialaccount"
	"github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/util"
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

// textErrcode finds the errcode in SDK errors made with fmt.Errorf
// ("… errcode=43004 , errmsg=…"), as the official account's template send
// and user info return them, instead of a *util.CommonError.
var textErrcode = regexp.MustCompile(`errcode=(-?\d+)\s*,\s*errmsg=(.*)$`)

// typed turns such an error into a *util.CommonError, so errcode and
// sendError see WeChat's code; other errors are returned unchanged.
func typed(api string, err error) error {
	if err == nil || errcode(err) != 0 {
		return err
	}
	m := textErrcode.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	code, perr := strconv.ParseInt(m[1], 10, 64)
	if perr != nil || code == 0 {
		return err
	}
	return util.NewCommonError(api, code, m[2])
}
