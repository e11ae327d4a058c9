package configs

import (
	"strings"
	"testing"
)

// prodReal is production against real WeChat with the brand's mini-program
// and the secrets production requires, and nothing else of WeChat's set.
var prodReal = []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_AUTH_JWT_KEY=0123456789abcdef0123456789abcdef-prod",
	"JIFEN_ORDERS_WEBHOOK_SECRET=prod-webhook-secret-0123456789", "JIFEN_TASKS_TOKEN_KEY=0123456789abcdef0123456789abcdef-task",
	"JIFEN_TASKS_REVIEW_HOOK_SECRET=review-secret-prod-0123", "JIFEN_WECHAT_MINI_APPID=wx0123456789abcdef", "JIFEN_WECHAT_MINI_SECRET=s"}

// brandOA and brandWeCom are the brand's own official account and WeCom app.
var (
	brandOA = []string{"JIFEN_WECHAT_OFFICIAL_APPID=wxfedcba9876543210", "JIFEN_WECHAT_OFFICIAL_SECRET=oa-secret",
		"JIFEN_TASKS_OFFICIAL_ACCOUNT_TOKEN=oa-token", "JIFEN_TASKS_OFFICIAL_ACCOUNT_AES_KEY=" + strings.Repeat("k", 43)}
	brandWeCom = []string{"JIFEN_WECHAT_WORK_CORP_ID=ww0123456789abcdef", "JIFEN_WECHAT_WORK_SECRET=wecom-secret", "JIFEN_WECHAT_WORK_AGENT_ID=1000005",
		"JIFEN_WECHAT_WORK_CALLBACK_TOKEN=wecom-token", "JIFEN_WECHAT_WORK_CALLBACK_AES_KEY=" + strings.Repeat("w", 43)}
)

func env(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Production against real WeChat refuses every simulator id and secret
// still in place, by key: the official account's, WeCom's and the reminder
// templates' (each would fail against the brand's real accounts).
func TestProductionRefusesTheSimulatorsAccounts(t *testing.T) {
	_, err := Load("", env(prodReal, []string{"JIFEN_TASKS_OFFICIAL_ACCOUNT_TOKEN=oa-token", "JIFEN_TASKS_OFFICIAL_ACCOUNT_AES_KEY=" + strings.Repeat("k", 43),
		"JIFEN_WECHAT_WORK_CALLBACK_TOKEN=wecom-token", "JIFEN_WECHAT_WORK_CALLBACK_AES_KEY=" + strings.Repeat("w", 43)}))
	if err == nil {
		t.Fatal("production against real WeChat started with the simulator's official account and WeCom app")
	}
	for _, key := range []string{"wechat.official.appid", "wechat.official.secret", "wechat.work.corp_id", "wechat.work.secret",
		"reminder.templates.expiry_subscribe.wechat_id", "reminder.templates.expiry_template.wechat_id"} {
		if !strings.Contains(err.Error(), key+": ") {
			t.Errorf("%s is not named: %v", key, err)
		}
	}
	for key, vars := range map[string][]string{
		"wechat.mini.secret":     {"JIFEN_WECHAT_MINI_SECRET=sim-secret"},
		"wechat.official.secret": {"JIFEN_WECHAT_OFFICIAL_SECRET=sim-secret"},
		"wechat.work.secret":     {"JIFEN_WECHAT_WORK_SECRET=sim-work-secret"},
	} {
		_, err := Load("", env(prodReal, brandOA, brandWeCom, vars))
		if err == nil || !strings.Contains(err.Error(), key+": ") {
			t.Errorf("%v: got %v, want %s refused", vars, err, key)
		}
	}
}

// An account that is on needs its secret and its callback's token and
// key: production against real WeChat refuses each left empty, by key.
func TestProductionRequiresTheSecretsOfAnAccountThatIsOn(t *testing.T) {
	for key, v := range map[string]string{
		"wechat.official.secret":       "JIFEN_WECHAT_OFFICIAL_SECRET=",
		"tasks.official_account.token": "JIFEN_TASKS_OFFICIAL_ACCOUNT_TOKEN=",
		"wechat.work.secret":           "JIFEN_WECHAT_WORK_SECRET=",
		"wechat.work.callback_token":   "JIFEN_WECHAT_WORK_CALLBACK_TOKEN=",
		"wechat.work.callback_aes_key": "JIFEN_WECHAT_WORK_CALLBACK_AES_KEY=",
	} {
		_, err := Load("", env(prodReal, brandOA, brandWeCom, []string{"JIFEN_REMINDER_CHANNELS=wecom,robot", v}))
		if err == nil || !strings.Contains(err.Error(), key+": required") {
			t.Errorf("%s: got %v, want %s required", v, err, key)
		}
	}
	if _, err := Load("", env(prodReal, brandOA, brandWeCom, []string{"JIFEN_REMINDER_CHANNELS=wecom,robot"})); err != nil {
		t.Fatalf("the brand's accounts in full: %v", err)
	}
	// The official account's key is for its safe mode only: plaintext
	// pushes need none.
	if _, err := Load("", env(prodReal, brandOA, brandWeCom, []string{"JIFEN_REMINDER_CHANNELS=wecom,robot", "JIFEN_TASKS_OFFICIAL_ACCOUNT_AES_KEY="})); err != nil {
		t.Fatalf("an official account in plaintext mode: %v", err)
	}
	// The callbacks' Token is required in every mode: an empty one would
	// check nobody's signature.
	for key, v := range map[string]string{"tasks.official_account.token": "JIFEN_TASKS_OFFICIAL_ACCOUNT_TOKEN=",
		"wechat.work.callback_token": "JIFEN_WECHAT_WORK_CALLBACK_TOKEN=", "wechat.work.callback_aes_key": "JIFEN_WECHAT_WORK_CALLBACK_AES_KEY="} {
		if _, err := Load("", []string{v}); err == nil || !strings.Contains(err.Error(), key+": required") {
			t.Errorf("embedded, %s: got %v, want %s required", v, err, key)
		}
	}
}

// The official account, WeCom and a reminder channel are off when their
// appid, corp_id or place in reminder.channels is empty: production then
// needs none of their settings and refuses none of the simulator's.
func TestProductionWithChannelsOff(t *testing.T) {
	c, err := Load("", env(prodReal, []string{"JIFEN_WECHAT_OFFICIAL_APPID=", "JIFEN_WECHAT_WORK_CORP_ID=", "JIFEN_REMINDER_CHANNELS=robot",
		"JIFEN_TASKS_OFFICIAL_ACCOUNT_TOKEN=", "JIFEN_TASKS_OFFICIAL_ACCOUNT_AES_KEY="}))
	if err != nil {
		t.Fatal(err)
	}
	if c.OfficialAccountOn() || c.WeComOn() {
		t.Fatalf("official account on %v, WeCom on %v; want both off", c.OfficialAccountOn(), c.WeComOn())
	}
	for _, ch := range []string{"subscribe", "template", "wecom"} {
		if c.ReminderChannelOn(ch) {
			t.Errorf("channel %s on", ch)
		}
	}
	if !c.ReminderChannelOn("robot") {
		t.Error("channel robot off")
	}
	// The brand's own accounts, with the template channels left off until
	// the brand's templates are configured.
	c, err = Load("", env(prodReal, brandOA, brandWeCom, []string{"JIFEN_REMINDER_CHANNELS=wecom,robot"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.OfficialAccountOn() || !c.WeComOn() || !c.ReminderChannelOn("wecom") || c.ReminderChannelOn("template") {
		t.Fatalf("official account %v, WeCom %v, wecom channel %v, template channel %v", c.OfficialAccountOn(), c.WeComOn(),
			c.ReminderChannelOn("wecom"), c.ReminderChannelOn("template"))
	}
}

// The push hook's official account is wechat.official.appid: the key
// tasks.official_account.appid follows it when empty, may repeat it, and is
// refused when it names another account.
func TestOfficialAccountAppIDIsOneKey(t *testing.T) {
	c, err := Load("", env(prodReal, brandOA, brandWeCom, []string{"JIFEN_REMINDER_CHANNELS=wecom,robot"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.OfficialAccountAppID(); got != "wxfedcba9876543210" {
		t.Fatalf("push hook appid %q, want wechat.official.appid", got)
	}
	if c, err := Load("", nil); err != nil || c.OfficialAccountAppID() != "wx-sim-official" {
		t.Fatalf("embedded push hook appid: %v %v", c, err)
	}
	c, err = Load("", env(prodReal, brandOA, brandWeCom, []string{"JIFEN_REMINDER_CHANNELS=wecom,robot", "JIFEN_TASKS_OFFICIAL_ACCOUNT_APPID=wxfedcba9876543210"}))
	if err != nil || c.OfficialAccountAppID() != "wxfedcba9876543210" {
		t.Fatalf("the same appid under both keys: %v", err)
	}
	for _, vars := range [][]string{
		env(prodReal, brandOA, brandWeCom, []string{"JIFEN_REMINDER_CHANNELS=wecom,robot", "JIFEN_TASKS_OFFICIAL_ACCOUNT_APPID=wx1111111111111111"}),
		{"JIFEN_TASKS_OFFICIAL_ACCOUNT_APPID=wx1111111111111111"},
		{"JIFEN_WECHAT_OFFICIAL_APPID=", "JIFEN_TASKS_OFFICIAL_ACCOUNT_APPID=wx1111111111111111"},
	} {
		if _, err := Load("", vars); err == nil || !strings.Contains(err.Error(), "tasks.official_account.appid: ") {
			t.Errorf("%v: got %v, want tasks.official_account.appid refused", vars[len(vars)-1], err)
		}
	}
}
