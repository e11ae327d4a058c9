package wechat

import (
	"context"
	"errors"

	"github.com/silenceper/wechat/v2/work/externalcontact"
	"github.com/silenceper/wechat/v2/work/oauth"

	"github.com/jifen/jifen/domain/guide"
)

var _ guide.WeCom = (*Work)(nil)

// UserIDFromCode resolves a WeCom OAuth code (auth/getuserinfo) to the corp
// member's userid; "" when the visitor is not a member of the corp (WeCom
// then answers an openid instead).
func (w *Work) UserIDFromCode(ctx context.Context, code string) (string, error) {
	var userID string
	err := w.do(ctx, "getuserinfo", true, func(ctx context.Context, token string) (int64, error) {
		var res oauth.GetUserInfoResponse
		err := getJSON(ctx, "getuserinfo", endpoint(hostWeCom, "/cgi-bin/auth/getuserinfo", withToken(token, "code", code)), &res)
		userID = res.UserID
		return errcode(err), err
	})
	return userID, err
}

// errNotExternal is WeCom's 84061: the userid is no external contact of
// the company (any more).
const errNotExternal = 84061

// ExternalUnionID returns the WeChat unionid of an external contact
// (externalcontact/get); "" when WeCom does not know it: no unionid (the
// company is not linked to the WeChat open platform) or not an external
// contact (84061). Both are answers, not failures: asking again changes
// nothing.
func (w *Work) ExternalUnionID(ctx context.Context, externalUserID string) (string, error) {
	var unionID string
	err := w.do(ctx, "externalcontact/get", true, func(ctx context.Context, token string) (int64, error) {
		var res externalcontact.ExternalUserDetailResponse
		err := getJSON(ctx, "externalcontact/get", endpoint(hostWeCom, "/cgi-bin/externalcontact/get",
			withToken(token, "external_userid", externalUserID)), &res)
		if errcode(err) == errNotExternal {
			return 0, nil
		}
		unionID = res.ExternalContact.UnionID
		return errcode(err), err
	})
	return unionID, err
}

// AddMsgTemplate creates a customer broadcast (externalcontact/add_msg_template)
// from sender to the external contacts; WeCom asks the sender to confirm
// it in the app.
func (w *Work) AddMsgTemplate(ctx context.Context, sender string, externalUserIDs []string, text string) (string, []string, error) {
	var msgID string
	var failed []string
	err := w.do(ctx, "add_msg_template", true, func(ctx context.Context, token string) (int64, error) {
		var res externalcontact.AddMsgTemplateResponse
		err := postJSON(ctx, "add_msg_template", endpoint(hostWeCom, "/cgi-bin/externalcontact/add_msg_template", withToken(token)),
			&externalcontact.AddMsgTemplateRequest{ChatType: "single", ExternalUserID: externalUserIDs, Sender: sender,
				Text: externalcontact.MsgText{Content: text}}, &res)
		msgID, failed = res.MsgID, res.FailList
		return errcode(err), err
	})
	if err == nil && msgID == "" {
		return "", nil, unavailable("add_msg_template", errors.New("answer without msgid"))
	}
	return msgID, failed, err
}
