package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/miniprogram/auth"
	"github.com/silenceper/wechat/v2/util"

	"github.com/jifen/jifen/domain/member"
)

// MiniProgram is the WeChat mini-program API of one app.
type MiniProgram struct {
	appID, secret string
	caller
}

var _ member.MiniProgram = (*MiniProgram)(nil)

// NewMiniProgram returns the API of the mini-program appID, keeping its
// access token in c (shared by every instance of the service).
func NewMiniProgram(appID, secret string, c *RedisCache, opts ...Option) *MiniProgram {
	installClient()
	tokens := newTokenSource(c, fmt.Sprintf("%s_access_token_%s", credential.CacheKeyMiniProgramPrefix, appID), stableToken(appID, secret))
	return &MiniProgram{appID: appID, secret: secret, caller: newCaller(tokens, []int64{40001, 40014, 42001}, opts)}
}

// Code2Session exchanges a wx.login code for the user's identity
// (auth.code2Session). The request is built here, not by the SDK, whose
// Code2Session puts the code into the URL unescaped: a code with "&x=y"
// would add a parameter.
func (m *MiniProgram) Code2Session(ctx context.Context, code string) (member.WeChatSession, error) {
	var sess member.WeChatSession
	gotKey := false // a real answer carries one; it is dropped here
	err := m.do(ctx, "code2session", false, func(ctx context.Context, _ string) (int64, error) {
		var res auth.ResCode2Session
		err := getJSON(ctx, "jscode2session", endpoint(hostWeChat, "/sns/jscode2session", url.Values{
			"appid": {m.appID}, "secret": {m.secret}, "js_code": {code}, "grant_type": {"authorization_code"}}), &res)
		sess = member.WeChatSession{OpenID: res.OpenID, UnionID: res.UnionID}
		gotKey = res.SessionKey != ""
		return errcode(err), err
	})
	if err != nil {
		return member.WeChatSession{}, err
	}
	if sess.OpenID == "" || !gotKey {
		return member.WeChatSession{}, unavailable("code2session", errors.New("answer without openid or session_key"))
	}
	return sess, nil
}

// PhoneNumber resolves a getPhoneNumber code to the user's phone number
// without country code (phonenumber.getPhoneNumber).
func (m *MiniProgram) PhoneNumber(ctx context.Context, code string) (string, error) {
	var phone string
	err := m.do(ctx, "getuserphonenumber", true, func(ctx context.Context, token string) (int64, error) {
		var res auth.GetPhoneNumberResponse
		err := postJSON(ctx, "getuserphonenumber", endpoint(hostWeChat, "/wxa/business/getuserphonenumber", withToken(token)),
			map[string]string{"code": code}, &res)
		phone = res.PhoneInfo.PurePhoneNumber
		return errcode(err), err
	})
	if err != nil {
		return "", err
	}
	if phone == "" {
		return "", unavailable("getuserphonenumber", errors.New("answer without purePhoneNumber"))
	}
	return phone, nil
}

// errcode is the WeChat errcode in an SDK error decoded by
// util.DecodeWithError, 0 for any other error.
func errcode(err error) int64 {
	var ce *util.CommonError
	if errors.As(err, &ce) {
		return ce.ErrCode
	}
	return 0
}
