package app

import (
	"context"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/task"
)

// oaHook is the official account's push hook, nil (not mounted) without an
// official account: its token and key are then not configured, and a hook
// checking an empty token would take anyone's signature.
func oaHook(cfg *configs.Config, tasks *task.Service, r *Reminder, guard *hooks.CallbackGuard) *hooks.OfficialAccount {
	if !cfg.OfficialAccountOn() {
		return nil
	}
	oa := cfg.Tasks.OfficialAccount
	return &hooks.OfficialAccount{Tasks: tasks, Followers: oaFollowers(r), AppID: cfg.OfficialAccountAppID(),
		Token: string(oa.Token), AESKey: string(oa.AESKey), Guard: guard}
}

// weComHook is the WeCom app's callback hook, nil (not mounted) without a
// WeCom app, for the same reason.
func weComHook(cfg *configs.Config, guides *guide.Service, guard *hooks.CallbackGuard) *hooks.WeCom {
	if !cfg.WeComOn() {
		return nil
	}
	w := cfg.WeChat.Work
	return &hooks.WeCom{Guides: guides, CorpID: w.CorpID, Token: string(w.CallbackToken), AESKey: string(w.CallbackAESKey), Guard: guard}
}

// weComOff is the guides' WeCom when no WeCom app is configured: every call
// is refused as a setting to fix, not sent to WeCom with an empty corp id.
type weComOff struct{}

func (weComOff) err() error {
	return domain.Errorf(domain.Misconfigured, "no WeCom app is configured (wechat.work.corp_id is empty)")
}

func (w weComOff) UserIDFromCode(context.Context, string) (string, error)  { return "", w.err() }
func (w weComOff) ExternalUnionID(context.Context, string) (string, error) { return "", w.err() }
func (w weComOff) AddMsgTemplate(context.Context, string, []string, string) (string, []string, error) {
	return "", nil, w.err()
}
