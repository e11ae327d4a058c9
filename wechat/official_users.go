package wechat

import (
	"context"

	"github.com/silenceper/wechat/v2/officialaccount/user"

	"github.com/jifen/jifen/domain/reminder"
)

var _ reminder.FollowerSource = (*Official)(nil)

// FollowerPage lists the official account's followers after the openid
// after (from the start when ""), one cgi-bin/user/get page (up to 10000);
// next is "" after the last page.
func (o *Official) FollowerPage(ctx context.Context, after string) (openids []string, next string, err error) {
	err = o.do(ctx, "user/get", true, func(ctx context.Context, token string) (int64, error) {
		q := withToken(token)
		if after != "" {
			q.Set("next_openid", after)
		}
		var res user.OpenidList
		err := getJSON(ctx, "user/get", endpoint(hostWeChat, "/cgi-bin/user/get", q), &res)
		openids, next = res.Data.OpenIDs, res.NextOpenID
		if res.Count == 0 {
			next = ""
		}
		return errcode(err), err
	})
	return openids, next, err
}

// Follower looks one openid up (cgi-bin/user/info): whether they follow the
// account now and their unionid.
func (o *Official) Follower(ctx context.Context, openid string) (reminder.Follower, error) {
	f := reminder.Follower{OpenID: openid}
	err := o.do(ctx, "user/info", true, func(ctx context.Context, token string) (int64, error) {
		var res user.Info
		err := getJSON(ctx, "user/info", endpoint(hostWeChat, "/cgi-bin/user/info", withToken(token, "openid", openid, "lang", "zh_CN")), &res)
		if err == nil {
			f.UnionID, f.Subscribed = res.UnionID, res.Subscribe == 1
		}
		return errcode(err), err
	})
	return f, err
}

// UnionID implements task.Followers with the user-info API.
func (o *Official) UnionID(ctx context.Context, openid string) (string, error) {
	f, err := o.Follower(ctx, openid)
	return f.UnionID, err
}
