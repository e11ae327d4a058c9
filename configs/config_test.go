package configs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/risk"
)

func TestDefaultsAreEmbeddedMode(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Production() || !c.UseSimulator() {
		t.Fatalf("default must be the embedded mode with the simulator")
	}
	if c.Server.Addr != "127.0.0.1:8080" || c.Auth.AccessTTL != 15*time.Minute {
		t.Fatalf("defaults not loaded: %+v", c.Server)
	}
}

func TestEnvOverridesAndFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "c.yaml")
	os.WriteFile(f, []byte("server:\n  addr: 0.0.0.0:9000\nredis:\n  prefix: \"brand:\"\n"), 0o600)
	c, err := Load(f, []string{"JIFEN_WECHAT_MINI_APPID=wx123", "JIFEN_AUTH_ACCESS_TTL=10m", "JIFEN_REDIS_DB=3", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Addr != "0.0.0.0:9000" || c.Redis.Prefix != "brand:" {
		t.Fatalf("file not applied: %+v %+v", c.Server, c.Redis)
	}
	if c.WeChat.Mini.AppID != "wx123" || c.Auth.AccessTTL != 10*time.Minute || c.Redis.DB != 3 {
		t.Fatalf("env not applied: %+v", c)
	}
}

func TestInvalidConfigNamesTheKey(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, file string
		env        []string
		want       string
	}{
		{"unknown key", "server:\n  adress: x\n", nil, "adress"},
		{"bad duration env", "", []string{"JIFEN_AUTH_ACCESS_TTL=soon"}, "auth.access_ttl"},
		{"duration env without a unit", "", []string{"JIFEN_REDIS_TIMEOUT=150"}, `redis.timeout (from JIFEN_REDIS_TIMEOUT): not a duration: "150" (give its unit`},
		{"bad int env", "", []string{"JIFEN_REDIS_DB=x"}, "redis.db"},
		{"short key", "", []string{"JIFEN_AUTH_JWT_KEY=short"}, "auth.jwt_key"},
		{"production default key", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_WECHAT_SIMULATOR=true"}, "auth.jwt_key"},
		{"production implicit simulator", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_AUTH_JWT_KEY=0123456789abcdef0123456789abcdef-prod"}, "wechat.simulator"},
		{"production default webhook secret", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_WECHAT_SIMULATOR=true", "JIFEN_AUTH_JWT_KEY=0123456789abcdef0123456789abcdef-prod"}, "orders.webhook_secret"},
		{"no wechat connect timeout", "", []string{"JIFEN_WECHAT_HTTP_CONNECT_TIMEOUT=0s"}, "wechat.http.connect_timeout"},
		{"callback budget past WeChat's 5s", "", []string{"JIFEN_WECHAT_CALLBACK_BUDGET=5s"}, "wechat.callback_budget"},
		{"bad expiry policy", "", []string{"JIFEN_ORDERS_EXPIRY_POLICY=forever"}, "orders.expiry_policy"},
		{"bad sign-in expiry policy", "", []string{"JIFEN_ENGAGE_SIGNIN_EXPIRY_POLICY=days:0"}, "engage.signin.expiry_policy"},
		{"bad guide expiry policy", "", []string{"JIFEN_GUIDES_EXPIRY_POLICY=months:121"}, "guides.expiry_policy"},
		{"empty console expiry policy", "", []string{"JIFEN_CONSOLE_EXPIRY_POLICY="}, "console.expiry_policy"},
		{"tier levels out of order", "tier:\n  levels:\n    - {code: a, name: A, growth: 0}\n    - {code: b, name: B, growth: 0}\n", nil, "tier.levels[1].growth"},
		{"production default task token key", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_WECHAT_SIMULATOR=true"}, "tasks.token_key"},
		{"production default review secret", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_WECHAT_SIMULATOR=true"}, "tasks.review_hook_secret"},
		{"bad official account aes key", "", []string{"JIFEN_TASKS_OFFICIAL_ACCOUNT_AES_KEY=short"}, "tasks.official_account.aes_key"},
		{"official account aes key of 43 non-base64 characters", "", []string{"JIFEN_TASKS_OFFICIAL_ACCOUNT_AES_KEY=" + strings.Repeat("!", 43)}, "tasks.official_account.aes_key"},
		{"WeCom aes key of 43 non-base64 characters", "", []string{"JIFEN_WECHAT_WORK_CALLBACK_AES_KEY=" + strings.Repeat("!", 43)}, "wechat.work.callback_aes_key"},
		{"WeCom aes key with base64 padding inside", "", []string{"JIFEN_WECHAT_WORK_CALLBACK_AES_KEY=" + strings.Repeat("A", 40) + "==="}, "wechat.work.callback_aes_key"},
		{"production real WeChat, the simulator's OA token", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_WECHAT_MINI_APPID=wx0123456789abcdef", "JIFEN_WECHAT_MINI_SECRET=s"}, "tasks.official_account.token"},
		{"production real WeChat, the simulator's OA key", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_WECHAT_MINI_APPID=wx0123456789abcdef", "JIFEN_WECHAT_MINI_SECRET=s"}, "tasks.official_account.aes_key"},
		{"production real WeChat, the simulator's WeCom token", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_WECHAT_MINI_APPID=wx0123456789abcdef", "JIFEN_WECHAT_MINI_SECRET=s"}, "wechat.work.callback_token"},
		{"production real WeChat, the simulator's WeCom key", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_WECHAT_MINI_APPID=wx0123456789abcdef", "JIFEN_WECHAT_MINI_SECRET=s"}, "wechat.work.callback_aes_key"},
		{"production access ttl under a minute", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_AUTH_ACCESS_TTL=2s"}, "auth.access_ttl"},
		{"access ttl under a second", "", []string{"JIFEN_AUTH_ACCESS_TTL=500ms"}, "auth.access_ttl"},
		{"tier price past the points range", "tier:\n  levels:\n    - {code: a, name: A, growth: 0}\n    - {code: b, name: B, growth: 10, price: 9223372036854775807}\n", nil, "tier.levels[1].price"},
		{"duplicate tier code", "tier:\n  levels:\n    - {code: a, name: A, growth: 0}\n    - {code: a, name: B, growth: 10}\n", nil, "tier.levels[1].code"},
		{"referral reward past the points range", "", []string{"JIFEN_REFERRAL_REWARDS_PHONE_INVITER=1000000000001"}, "referral.rewards.phone_inviter"},
		{"negative referral cap", "", []string{"JIFEN_REFERRAL_DAILY_CAP_POINTS=-9223372036854775808"}, "referral.daily_cap_points"},
		{"guide cap past the points range", "", []string{"JIFEN_GUIDES_DAILY_CAP_PER_CUSTOMER=9223372036854775807"}, "guides.daily_cap_per_customer"},
		{"sign-in base past the points range", "", []string{"JIFEN_ENGAGE_SIGNIN_BASE_POINTS=9223372036854775807"}, "engage.signin.base_points"},
		{"sign-in bonus past the points range", "engage:\n  signin:\n    ladder:\n      - {day: 1, bonus: 9223372036854775807}\n", nil, "engage.signin.ladder[0].bonus"},
		{"sign-in tier multiplier past ×100", "engage:\n  signin:\n    tier_multipliers_permille: {gold: 9223372036854775807}\n", nil, "engage.signin.tier_multipliers_permille.gold"},
		{"negative return window", "", []string{"JIFEN_ORDERS_RETURN_WINDOW=-1s"}, "orders.return_window"},
		{"subscribe field that is no keyword", "reminder:\n  templates:\n    expiry_subscribe: {channel: subscribe, wechat_id: t, fields: {first: x}}\n", nil, "reminder.templates.expiry_subscribe.fields.first"},
		{"template message filling first", "reminder:\n  templates:\n    expiry_template: {channel: template, wechat_id: t, fields: {first: x, keyword1: y}}\n", nil, "reminder.templates.expiry_template.fields.first"},
		{"production simulator without its url", "", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_WECHAT_SIMULATOR=true", "JIFEN_AUTH_JWT_KEY=0123456789abcdef0123456789abcdef-prod",
			"JIFEN_ORDERS_WEBHOOK_SECRET=prod-webhook-secret-0123456789", "JIFEN_TASKS_TOKEN_KEY=0123456789abcdef0123456789abcdef-task",
			"JIFEN_TASKS_REVIEW_HOOK_SECRET=review-secret-prod-0123"}, "wechat.simulator_url"},
		{"bad trusted proxy", "", []string{"JIFEN_SERVER_TRUSTED_PROXIES=10.0.0.0/8,proxy.local"}, "server.trusted_proxies"},
		{"referral window past a quarter", "", []string{"JIFEN_REFERRAL_WINDOW=2161h"}, "referral.window"},
		{"unknown rebind rule", "", []string{"JIFEN_GUIDES_REBIND=never"}, "guides.rebind"},
		{"guide push window of a day short", "", []string{"JIFEN_GUIDES_PUSH_WINDOW_DAYS=0"}, "guides.push_window_days"},
		{"too many lottery group commits", "", []string{"JIFEN_LOTTERY_GROUP_COMMITS=65"}, "lottery.group_commits"},
		{"sign-in groups past their cap", "", []string{"JIFEN_ENGAGE_SIGNIN_GROUP_MAX=1001"}, "engage.signin.group_max"},
		{"risk rule window not dividing the day", "risk:\n  rules:\n    - {name: points_laundering, kind: points_laundering, action: spend, dimension: member, enabled: true, max_minutes: 10, min_times: 3, min_points: 100, window_hours: 5}\n", nil, "risk.rules[0].window_hours"},
		{"risk rule of no kind", "risk:\n  rules:\n    - {name: a, kind: b, action: spend, dimension: member}\n", nil, "risk.rules[0].kind"},
		{"risk rule twice", "risk:\n  rules:\n    - {name: phone_sequence, kind: phone_sequence, action: phone_bind, dimension: phone, span: 10, max_members: 3, window_hours: 24}\n    - {name: phone_sequence, kind: phone_sequence, action: phone_bind, dimension: phone, span: 10, max_members: 3, window_hours: 24}\n", nil, "risk.rules[1].name"},
		{"bad role", "console:\n  users:\n    - {username: a, role: boss, password_hash: $2a$10$x}\n", nil, "console.users[0].role"},
		{"password hash of the bcrypt prefix only", "console:\n  users:\n    - {username: a, role: admin, password_hash: \"$2a$10$x\"}\n", nil, "console.users[0].password_hash"},
		{"password hash of a bad cost", "console:\n  users:\n    - {username: a, role: admin, password_hash: \"" + strings.Replace(testHash, "$04$", "$99$", 1) + "\"}\n", nil, "console.users[0].password_hash"},
		{"console user twice", "console:\n  users:\n    - {username: a, role: admin, password_hash: \"" + testHash + "\"}\n    - {username: a, role: auditor, password_hash: \"" + testHash + "\"}\n", nil, "console.users[1].username"},
		{"metrics on the public port", "", []string{"JIFEN_SERVER_ADDR=127.0.0.1:8080", "JIFEN_SERVER_METRICS_ADDR=127.0.0.1:8080"}, "server.metrics_addr"},
		{"metrics on the public port of every interface", "", []string{"JIFEN_SERVER_ADDR=:8080", "JIFEN_SERVER_METRICS_ADDR=127.0.0.1:8080"}, "server.metrics_addr"},
		{"metrics on every interface of the public port", "", []string{"JIFEN_SERVER_ADDR=10.0.0.5:8080", "JIFEN_SERVER_METRICS_ADDR=0.0.0.0:8080"}, "server.metrics_addr"},
		{"metrics on the public port by name", "", []string{"JIFEN_SERVER_ADDR=localhost:8080", "JIFEN_SERVER_METRICS_ADDR=127.0.0.1:8080"}, "server.metrics_addr"},
		// Redis addresses that could never be dialled: serve used to start
		// "degraded" on them, every draw and redemption 503.
		// Production with each instance on its own in-process Redis: a
		// logout on one was unknown to the others. It used to start.
		{"production without redis", "", []string{"JIFEN_MYSQL_DSN=root@tcp(db:3306)/jifen"}, "redis.addr: required in production mode"},
		{"listen port alone", "", []string{"JIFEN_SERVER_ADDR=8080"}, `server.addr: "8080" is not host:port`},
		{"redis url", "", []string{"JIFEN_REDIS_ADDR=redis://127.0.0.1:6379"}, `redis.addr: "redis://127.0.0.1:6379" is not host:port`},
		{"redis without a port", "", []string{"JIFEN_REDIS_ADDR=redis"}, "redis.addr"},
		{"redis cluster seed without a port", "", []string{"JIFEN_REDIS_ADDR=r1:7001, r2"}, `redis.addr: "r2"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
				os.WriteFile(path, []byte(tc.file), 0o600)
			}
			_, err := Load(path, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// testHash is bcrypt("a-long-password") at the minimum cost.
const testHash = "$2a$04$fevUVSlUaRojoVB8AIo1veUgw3j26BC9MR4OtvLF1ABONWLMEDowO"

// Console users of distinct names and real bcrypt hashes, and an admin
// listener on another port (or another address of the same port), load.
func TestConsoleUsersAndMetricsAddrAccepted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.yaml")
	os.WriteFile(path, []byte("console:\n  users:\n    - {username: a, role: admin, password_hash: \""+testHash+"\"}\n"+
		"    - {username: b, role: auditor, password_hash: \""+testHash+"\"}\n"), 0o600)
	for _, env := range [][]string{
		{"JIFEN_SERVER_ADDR=127.0.0.1:8080", "JIFEN_SERVER_METRICS_ADDR=127.0.0.1:9464"},
		{"JIFEN_SERVER_ADDR=10.0.0.5:8080", "JIFEN_SERVER_METRICS_ADDR=127.0.0.1:8080"},
		{"JIFEN_SERVER_ADDR=[::1]:8080", "JIFEN_SERVER_METRICS_ADDR=127.0.0.1:8080"},
	} {
		c, err := Load(path, env)
		if err != nil {
			t.Fatalf("%v: %v", env, err)
		}
		if len(c.Console.Users) != 2 {
			t.Fatalf("users: %+v", c.Console.Users)
		}
	}
}

// TestEmbeddedAccessTTLMayBeSeconds: the embedded default takes an access
// token of a few seconds, so that clients' tests (clients/miniprogram) see a
// token expire and refresh it; production keeps the one-minute floor.
func TestEmbeddedAccessTTLMayBeSeconds(t *testing.T) {
	c, err := Load("", []string{"JIFEN_AUTH_ACCESS_TTL=2s"})
	if err != nil || c.Auth.AccessTTL != 2*time.Second {
		t.Fatalf("embedded 2s access ttl: %v %v", c, err)
	}
}

func TestProductionWithExplicitSimulatorStarts(t *testing.T) {
	c, err := Load("", []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379", "JIFEN_WECHAT_SIMULATOR=true", "JIFEN_WECHAT_SIMULATOR_URL=http://sim:9090",
		"JIFEN_AUTH_JWT_KEY=0123456789abcdef0123456789abcdef-prod", "JIFEN_ORDERS_WEBHOOK_SECRET=prod-webhook-secret-0123456789",
		"JIFEN_TASKS_TOKEN_KEY=0123456789abcdef0123456789abcdef-task", "JIFEN_TASKS_REVIEW_HOOK_SECRET=review-secret-prod-0123"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Production() || !c.UseSimulator() {
		t.Fatal("want production with simulator")
	}
	if got := c.MySQL.DSN.String(); got != "***" {
		t.Fatalf("secret printed as %q", got)
	}
}

// No proxy is trusted by default; the environment gives a comma-separated
// list.
func TestTrustedProxies(t *testing.T) {
	c, err := Load("", nil)
	if err != nil || len(c.Server.TrustedProxies) != 0 {
		t.Fatalf("default trusted proxies %v (%v); want none", c.Server.TrustedProxies, err)
	}
	c, err = Load("", []string{"JIFEN_SERVER_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.5"})
	if err != nil || strings.Join(c.Server.TrustedProxies, "|") != "10.0.0.0/8|192.168.1.5" {
		t.Fatalf("trusted proxies from the environment: %v (%v)", c.Server.TrustedProxies, err)
	}
}

func TestMySQLPipelinedByDefaultAndSwitchable(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.MySQL.Pipelined {
		t.Fatal("mysql.pipelined must default to true")
	}
	c, err = Load("", []string{"JIFEN_MYSQL_PIPELINED=false"})
	if err != nil {
		t.Fatal(err)
	}
	if c.MySQL.Pipelined {
		t.Fatal("JIFEN_MYSQL_PIPELINED=false not applied")
	}
}

// The embedded risk.rules are the built-in pattern rules as they are:
// default.yaml and risk.DefaultPolicy say the same.
func TestRiskDefaultsAreTheBuiltInPolicy(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Risk.Rules) != 5 {
		t.Fatalf("%d configured risk rules, want the 5 pattern rules of #24", len(c.Risk.Rules))
	}
	if got, want := risk.DefaultPolicyWith(c.Risk.DomainRules()), risk.DefaultPolicy(); !reflect.DeepEqual(got, want) {
		t.Fatalf("configured policy\n%+v\nbuilt-in\n%+v", got, want)
	}
}

// The reminder jobs' schedules and quiet hours are checked with the rest
// of the configuration: a value serve cannot run is an invalid
// configuration naming the key and what is wrong with the value, not a
// failure to build the service.
func TestReminderSchedulesAreCheckedWithTheConfiguration(t *testing.T) {
	cases := []struct {
		env, file string
		want      string
	}{
		{"JIFEN_REMINDER_QUIET_HOURS=00:00-24:00", "", `reminder.quiet_hours: "24:00" is not a time of day (00:00 to 23:59; a window to midnight ends at 00:00)`},
		{"JIFEN_REMINDER_QUIET_HOURS=21:60-09:00", "", `reminder.quiet_hours: "21:60" is not a time of day`},
		{"JIFEN_REMINDER_QUIET_HOURS=21:00", "", `reminder.quiet_hours: must be "HH:MM-HH:MM", e.g. "21:00-09:00"`},
		{"JIFEN_REMINDER_QUIET_HOURS=9-21", "", `reminder.quiet_hours: "9" is not HH:MM`},
		{"JIFEN_REMINDER_QUIET_HOURS=09:00-09:00", "", `reminder.quiet_hours: covers the whole day`},
		{"JIFEN_REMINDER_EXPIRY_CRON=0 0 31 2 *", "", `reminder.expiry_cron: never fires`},
		{"JIFEN_REMINDER_RELEASE_CRON=61 * * * *", "", `reminder.release_cron: not a cron expression`},
		{"JIFEN_REMINDER_AUTO_CRON=0 10 30 2 *", "", `reminder.auto_cron: never fires`},
		{"JIFEN_REMINDER_FOLLOWERS_SYNC_CRON=daily", "", `reminder.followers_sync_cron: not a cron expression`},
		{"", "reminder:\n  throttle_per_minute: {sms: 10}\n", `reminder.throttle_per_minute.sms: unknown channel "sms"`},
		{"", "reminder:\n  throttle_per_minute: {subscribe: -5}\n", `reminder.throttle_per_minute.subscribe: must be 0 (no limit) or more`},
	}
	for _, tc := range cases {
		var env []string
		if tc.env != "" {
			env = []string{tc.env}
		}
		path := ""
		if tc.file != "" {
			path = filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(path, []byte(tc.file), 0o600)
		}
		_, err := Load(path, env)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "map[") {
			t.Errorf("%s%s: got %v, want an error saying %q", tc.env, tc.file, err, tc.want)
		}
	}
	for _, ok := range []string{"21:00-09:00", "00:00-23:59", "08:30-12:00", ""} {
		if _, err := Load("", []string{"JIFEN_REMINDER_QUIET_HOURS=" + ok}); err != nil {
			t.Errorf("quiet hours %q: %v", ok, err)
		}
	}
}

// A mistake in a config file is reported by its key path, with what the
// key takes: yaml.v3's own words named a Go type ("field adr not found in
// type configs.Server", "cannot unmarshal !!int `5` into time.Duration")
// and left the operator to find the key.
func TestConfigFileMistakesNameTheKeyAndTheFix(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, file, want string }{
		{"typo", "server:\n  adr: 127.0.0.1:9000\n", "line 2: server.adr: unknown key (did you mean server.addr?)"},
		{"section typo", "servr:\n  addr: x\n", "line 1: servr: unknown key (did you mean server?)"},
		{"duration without a unit", "redis:\n  timeout: 5\n", `line 2: redis.timeout: "5" is not a duration: give its unit`},
		{"word for a number", "server:\n  body_limit_bytes: lots\n", `line 2: server.body_limit_bytes: "lots" is not a whole number`},
		{"word for a boolean", "reminder:\n  jobs: sometimes\n", `line 2: reminder.jobs: "sometimes" is not true or false`},
		{"key in a list", "tier:\n  levels:\n    - {code: a, nam: b, growth: 0}\n", "line 3: tier.levels[0].nam: unknown key"},
		{"value for a section", "server: 5\n", `line 1: server: takes the keys of a section`},
	} {
		f := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".yaml")
		if err := os.WriteFile(f, []byte(c.file), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(f, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "configs.") {
			t.Errorf("%s: %v names a Go type", c.name, err)
		}
	}
}

// The invalid-configuration line lists its keys in the same order on every
// start (the templates' and auto templates' problems came in map order), so
// two runs can be compared and a fix seen.
func TestInvalidConfigurationReadsTheSameEveryTime(t *testing.T) {
	env := []string{"JIFEN_MYSQL_DSN=root@tcp(x)/y", "JIFEN_REDIS_ADDR=redis:6379"}
	_, first := Load("", env)
	if first == nil {
		t.Fatal("the simulator's settings in production: no error")
	}
	for i := 0; i < 30; i++ {
		if _, err := Load("", env); err == nil || err.Error() != first.Error() {
			t.Fatalf("run %d:\n%v\nrun 0:\n%v", i+1, err, first)
		}
	}
}
