package app

import (
	"context"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/repo/mallstore"
	"github.com/jifen/jifen/repo/memberstore"
	"github.com/jifen/jifen/wechat"
	"github.com/jifen/jifen/wechat/sim"
)

// PayNotifyPath is where WeChat Pay posts its notifications.
const PayNotifyPath = "/api/v1/hooks/wechat-pay"

// wirePay gives the mall WeChat Pay for points + cash items when a
// merchant is configured or the simulator is used (its merchant and, with
// no notify_url, this server's address), and returns the notification hook
// (without a merchant it answers 404).
func wirePay(cfg *configs.Config, st *Stores, a *App, members *memberstore.Store) *hooks.WeChatPay {
	if !cfg.PayOn() {
		return &hooks.WeChatPay{Mall: a.Mall}
	}
	pc := cfg.WeChat.Pay
	mch, key, notifyURL := pc.MchID, string(pc.Key), pc.NotifyURL
	if mch == "" {
		mch, key = sim.DefaultMchID, sim.DefaultMchKey
	}
	if notifyURL == "" {
		notifyURL = "http://" + cfg.Server.Addr + PayNotifyPath
	}
	payer := wechat.NewPay(cfg.WeChat.Mini.AppID, mch, key, notifyURL)
	a.Mall.Cash = &mall.Cash{Payments: &mallstore.Payments{DB: st.DB}, Payer: payer, Holds: a.Ledger, Window: cfg.Mall.PayWindow,
		OpenIDs: mall.OpenIDFunc(func(ctx context.Context, memberID int64) (string, error) {
			m, err := members.ByID(ctx, memberID)
			if err != nil {
				return "", err
			}
			return m.OpenID, nil
		})}
	return &hooks.WeChatPay{Mall: a.Mall, Verify: payer}
}
