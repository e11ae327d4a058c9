package configs

import (
	"strings"
	"testing"
)

// WeChat Pay (issue #18): the embedded default takes cash through the
// simulator's merchant; real WeChat needs the merchant whole or not at all.
func TestWeChatPaySettings(t *testing.T) {
	c, err := Load("", nil)
	if err == nil && (c.Mall.GroupCommits != 2 || c.Mall.GroupMax != 64) {
		t.Errorf("mall group commit default: %d groups of %d, want 2 of 64", c.Mall.GroupCommits, c.Mall.GroupMax)
	}
	if err != nil || !c.PayOn() || c.Mall.PayWindow.Minutes() != 15 {
		t.Fatalf("embedded default: pay on %v, window %s (%v)", c != nil && c.PayOn(), c.Mall.PayWindow, err)
	}
	real := []string{"JIFEN_WECHAT_SIMULATOR=false", "JIFEN_WECHAT_MINI_APPID=wxreal", "JIFEN_WECHAT_MINI_SECRET=s"}
	c, err = Load("", real)
	if err != nil || c.PayOn() {
		t.Fatalf("real WeChat without a merchant: pay on %v (%v); want off", c != nil && c.PayOn(), err)
	}
	key := "JIFEN_WECHAT_PAY_KEY=" + strings.Repeat("k", 32)
	whole := append(append([]string{}, real...), "JIFEN_WECHAT_PAY_MCH_ID=1230000000", key,
		"JIFEN_WECHAT_PAY_NOTIFY_URL=https://jifen.example.com/api/v1/hooks/wechat-pay")
	if c, err = Load("", whole); err != nil || !c.PayOn() {
		t.Fatalf("whole merchant: %v", err)
	}
	for name, c := range map[string]struct {
		env  []string
		want string
	}{
		"no notify_url":    {append(append([]string{}, real...), "JIFEN_WECHAT_PAY_MCH_ID=1230000000", key), "wechat.pay.mch_id"},
		"no key":           {append(append([]string{}, real...), "JIFEN_WECHAT_PAY_MCH_ID=1", "JIFEN_WECHAT_PAY_NOTIFY_URL=https://x/y"), "wechat.pay.mch_id"},
		"short key":        {append(append([]string{}, whole...), "JIFEN_WECHAT_PAY_KEY=short"), "wechat.pay.key"},
		"relative url":     {append(append([]string{}, whole...), "JIFEN_WECHAT_PAY_NOTIFY_URL=/hooks"), "wechat.pay.notify_url"},
		"url with a query": {append(append([]string{}, whole...), "JIFEN_WECHAT_PAY_NOTIFY_URL=https://x/y?a=1"), "wechat.pay.notify_url"},
		"key, no mch_id":   {[]string{key}, "wechat.pay.mch_id"},
		"window too long":  {[]string{"JIFEN_MALL_PAY_WINDOW=3h"}, "mall.pay_window"},
		"negative groups":  {[]string{"JIFEN_MALL_GROUP_COMMITS=-1"}, "mall.group_commits"},
		"too many groups":  {[]string{"JIFEN_MALL_GROUP_COMMITS=65"}, "mall.group_commits"},
		"empty groups":     {[]string{"JIFEN_MALL_GROUP_MAX=0"}, "mall.group_max"},
		"groups too big":   {[]string{"JIFEN_MALL_GROUP_MAX=501"}, "mall.group_max"},
		"item cache long":  {[]string{"JIFEN_MALL_ITEM_CACHE_TTL=2m"}, "mall.item_cache_ttl"},
	} {
		if _, err := Load("", c.env); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a refusal naming %s", name, err, c.want)
		}
	}
}
