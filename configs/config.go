// Package configs loads Jifen's configuration: the embedded default.yaml,
// then an optional --config file, then JIFEN_* environment variables, and
// validates the result once, naming the key of anything wrong.
package configs

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/domain/risk"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/domain/tier"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultJWTKey is the development key shipped in default.yaml; production
// mode refuses to start with it.
const DefaultJWTKey = "jifen-dev-key-NOT-FOR-PRODUCTION-0123456789"

// Config is the whole configuration tree. Keys are documented in default.yaml.
type Config struct {
	Server    Server    `yaml:"server"`
	DataDir   string    `yaml:"data_dir"`
	MySQL     MySQL     `yaml:"mysql"`
	Redis     Redis     `yaml:"redis"`
	Auth      Auth      `yaml:"auth"`
	RateLimit RateLimit `yaml:"rate_limit"`
	WeChat    WeChat    `yaml:"wechat"`
	Console   Console   `yaml:"console"`
	Guides    Guides    `yaml:"guides"`
	Engage    Engage    `yaml:"engage"`
	Orders    Orders    `yaml:"orders"`
	Tier      Tier      `yaml:"tier"`
	Referral  Referral  `yaml:"referral"`
	Tasks     Tasks     `yaml:"tasks"`
	Reminder  Reminder  `yaml:"reminder"`
	Members   Members   `yaml:"members"`
	Ledger    Ledger    `yaml:"ledger"`
	Rules     Rules     `yaml:"rules"`
	Lottery   Lottery   `yaml:"lottery"`
	Mall      Mall      `yaml:"mall"`
	Analytics Analytics `yaml:"analytics"`
	Risk      Risk      `yaml:"risk"`
	Clock     Clock     `yaml:"clock"`
}

// Clock shifts the service's clock for demos and staging (keys documented
// in default.yaml); production mode refuses it.
type Clock struct {
	Offset time.Duration `yaml:"offset"`
}

// Analytics configures the daily facts (domain/analytics; keys documented
// in default.yaml).
type Analytics struct {
	FenPerPoint   int64         `yaml:"fen_per_point"`
	Lag           time.Duration `yaml:"lag"`
	SnapshotEvery time.Duration `yaml:"snapshot_every"`
}

// Mall configures the points mall (domain/mall; keys documented in
// default.yaml).
type Mall struct {
	// PickupAnyStore lets a guide verify a pickup code in any store, not
	// only in the item's pickup stores.
	PickupAnyStore bool `yaml:"pickup_any_store"`
	// PayWindow is how long a shopper has to pay the cash part of a
	// points + cash item before the points and the unit go back.
	PayWindow time.Duration `yaml:"pay_window"`
	// GroupCommits is how many groups of concurrent points-only
	// redemptions may commit at once (0: each redemption alone).
	GroupCommits int `yaml:"group_commits"`
	// GroupMax caps the redemptions of one group.
	GroupMax int `yaml:"group_max"`
	// ItemCacheTTL lets a redemption start from an item read this long
	// ago (0: read per redemption).
	ItemCacheTTL time.Duration `yaml:"item_cache_ttl"`
}

// Rules tunes the earning rule engine (domain/rules; keys documented in
// default.yaml).
type Rules struct {
	CacheTTL time.Duration `yaml:"cache_ttl"`
}

// Ledger tunes the points ledger (domain/ledger; keys documented in
// default.yaml).
type Ledger struct {
	GroupCommits int `yaml:"group_commits"`
	GroupMax     int `yaml:"group_max"`
}

// Members configures shopper logins (domain/member; keys documented in
// default.yaml).
type Members struct {
	GroupCommits int `yaml:"group_commits"`
	GroupMax     int `yaml:"group_max"`
}

// Lottery tunes draws (domain/lottery; keys documented in default.yaml).
type Lottery struct {
	GroupCommits     int           `yaml:"group_commits"`
	GroupMax         int           `yaml:"group_max"`
	CampaignCacheTTL time.Duration `yaml:"campaign_cache_ttl"`
	ExpiryPolicy     string        `yaml:"expiry_policy"`
}

// Referral configures invitations (domain/referral; keys documented in
// default.yaml).
type Referral struct {
	Window          time.Duration   `yaml:"window"`
	Rewards         ReferralRewards `yaml:"rewards"`
	DailyCapPoints  int64           `yaml:"daily_cap_points"`
	QRCodePage      string          `yaml:"qrcode_page"`
	QRCodeCheckPath bool            `yaml:"qrcode_check_path"`
	QRCodeTTL       time.Duration   `yaml:"qrcode_cache_ttl"`
	ExpiryPolicy    string          `yaml:"expiry_policy"`
}

// ReferralRewards are the points of each rewarded event.
type ReferralRewards struct {
	PhoneInviter       int64 `yaml:"phone_inviter"`
	PhoneSecondLevel   int64 `yaml:"phone_second_level"`
	FirstOrderInviter  int64 `yaml:"first_order_inviter"`
	FirstOrderSecondLv int64 `yaml:"first_order_second_level"`
}

// Dev defaults of the task center's secrets, refused in production.
const (
	DefaultTaskTokenKey     = "jifen-dev-task-token-key-NOT-FOR-PRODUCTION"
	DefaultReviewHookSecret = "jifen-dev-review-hook-secret-NOT-FOR-PRODUCTION"
)

// Tasks configures the task center (documented in default.yaml).
type Tasks struct {
	TokenKey         Secret          `yaml:"token_key"`
	ReviewHookSecret Secret          `yaml:"review_hook_secret"`
	OfficialAccount  OfficialAccount `yaml:"official_account"`
	ExpiryPolicy     string          `yaml:"expiry_policy"`
}

// OfficialAccount is the official account's push (server) configuration.
type OfficialAccount struct {
	AppID  string `yaml:"appid"`
	Token  Secret `yaml:"token"`
	AESKey Secret `yaml:"aes_key"`
}

// Engage configures sign-in and leaderboards (documented in
// default.yaml).
type Engage struct {
	Signin       SigninConfig      `yaml:"signin"`
	Leaderboards LeaderboardConfig `yaml:"leaderboards"`
}

type SigninConfig struct {
	BasePoints      int64            `yaml:"base_points"`
	CycleDays       int              `yaml:"cycle_days"`
	Ladder          []SigninStep     `yaml:"ladder"`
	TierPermille    map[string]int64 `yaml:"tier_multipliers_permille"`
	MakeupsPerMonth int              `yaml:"makeups_per_month"`
	MakeupCost      int64            `yaml:"makeup_cost"`
	GroupCommits    int              `yaml:"group_commits"`
	GroupMax        int              `yaml:"group_max"`
	ExpiryPolicy    string           `yaml:"expiry_policy"`
}

type SigninStep struct {
	Day        int   `yaml:"day"`
	Bonus      int64 `yaml:"bonus"`
	Multiplier int64 `yaml:"multiplier_permille"`
}

type LeaderboardConfig struct {
	TTL time.Duration `yaml:"ttl"`
}

// DefaultWebhookSecret is the development order-webhook secret shipped in
// default.yaml; production mode refuses to start with it.
const DefaultWebhookSecret = "jifen-dev-webhook-secret-NOT-FOR-PRODUCTION"

type Orders struct {
	WebhookSecret   Secret        `yaml:"webhook_secret"`
	SignatureWindow time.Duration `yaml:"signature_window"`
	ReturnWindow    time.Duration `yaml:"return_window"`
	ExpiryPolicy    string        `yaml:"expiry_policy"`
	GroupCommits    int           `yaml:"group_commits"`
	GroupMax        int           `yaml:"group_max"`
}

type Tier struct {
	Levels []TierLevel `yaml:"levels"`
}

// Risk configures risk control's starting policy (domain/risk).
type Risk struct {
	// Rules replace the built-in rules of the same name in the policy in
	// force until a marketer saves one (risk.DefaultPolicyWith).
	Rules []RiskRule `yaml:"rules"`
}

// RiskRule is one rule, with the keys of the console's policy JSON.
type RiskRule struct {
	Name        string `yaml:"name"`
	Kind        string `yaml:"kind"`
	Action      string `yaml:"action"`
	Dimension   string `yaml:"dimension"`
	MaxPerHour  int64  `yaml:"max_per_hour"`
	Hold        bool   `yaml:"hold"`
	Enabled     bool   `yaml:"enabled"`
	Distinct    bool   `yaml:"distinct"`
	MaxLength   int    `yaml:"max_length"`
	WindowHours int    `yaml:"window_hours"`
	MaxMinutes  int    `yaml:"max_minutes"`
	MinPoints   int64  `yaml:"min_points"`
	MaxSharePct int    `yaml:"max_share_pct"`
	MinTimes    int    `yaml:"min_times"`
	Span        int64  `yaml:"span"`
	MaxMembers  int    `yaml:"max_members"`
	MinRewards  int    `yaml:"min_rewards"`
}

// DomainRules converts the configured rules (risk.ValidateDefaults checks
// them).
func (r Risk) DomainRules() []risk.Rule {
	out := make([]risk.Rule, len(r.Rules))
	for i, x := range r.Rules {
		out[i] = risk.Rule{Name: x.Name, Kind: x.Kind, Action: risk.Action(x.Action), Dimension: risk.Dimension(x.Dimension),
			MaxPerHour: x.MaxPerHour, Hold: x.Hold, Enabled: x.Enabled, Distinct: x.Distinct, MaxLength: x.MaxLength,
			WindowHours: x.WindowHours, MaxMinutes: x.MaxMinutes, MinPoints: x.MinPoints, MaxSharePct: x.MaxSharePct,
			MinTimes: x.MinTimes, Span: x.Span, MaxMembers: x.MaxMembers, MinRewards: x.MinRewards}
	}
	return out
}

type TierLevel struct {
	Code     string   `yaml:"code"`
	Name     string   `yaml:"name"`
	Growth   int64    `yaml:"growth"`
	Price    int64    `yaml:"price"`
	Benefits []string `yaml:"benefits"`
}

type Server struct {
	Addr            string        `yaml:"addr"`
	BodyLimitBytes  int64         `yaml:"body_limit_bytes"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TrustedProxies are the addresses (IPs or CIDRs) whose X-Forwarded-For
	// and X-Real-IP are believed; from any other peer the client is the
	// peer. Default none: a forged header cannot pick its own rate-limit key.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// MetricsAddr is the admin listener: /metrics for Prometheus and
	// /debug/pprof/ for profiles. It is never the public port: both tell an
	// outsider how the service runs. "off" serves neither.
	MetricsAddr string `yaml:"metrics_addr"`
}

// MetricsOff is server.metrics_addr's value that serves no admin listener.
const MetricsOff = "off"

type MySQL struct {
	DSN Secret `yaml:"dsn"`
	// Pipelined lets group commits send their statements in multi-statement
	// requests (repo.DB.InPipelinedTx); false for a proxy that refuses them.
	Pipelined bool `yaml:"pipelined"`
	// Portable keeps to SQL every MySQL-compatible server takes (TiDB): no
	// pipelines, no JSON_TABLE, no reliance on consecutive ids or READ
	// COMMITTED reads (repo.DB.Portable).
	Portable bool `yaml:"portable"`
}

type Redis struct {
	Addr     string `yaml:"addr"`
	Password Secret `yaml:"password"`
	DB       int    `yaml:"db"`
	Prefix   string `yaml:"prefix"`
	// Timeout bounds every Redis command on the request path (dial, read,
	// write, pool wait); commands are never retried.
	Timeout time.Duration `yaml:"timeout"`
	// BreakerFailures consecutive failures open the circuit for
	// BreakerCooldown: commands then fail at once.
	BreakerFailures int           `yaml:"breaker_failures"`
	BreakerCooldown time.Duration `yaml:"breaker_cooldown"`
	// MeCacheTTL is how long a member's GET /shopper/me answer may stay in
	// Redis (repo/mecache; invalidated by every write to the member's
	// points, tier or profile); 0 reads the database on every /me.
	MeCacheTTL time.Duration `yaml:"me_cache_ttl"`
}

type Auth struct {
	Issuer       string            `yaml:"issuer"`
	AccessTTL    time.Duration     `yaml:"access_ttl"`
	RefreshTTL   time.Duration     `yaml:"refresh_ttl"`
	JWTKid       string            `yaml:"jwt_kid"`
	JWTKey       Secret            `yaml:"jwt_key"`
	PreviousKeys map[string]Secret `yaml:"previous_keys"`
}

type RateLimit struct {
	PerIPPerMinute     int `yaml:"per_ip_per_minute"`
	PerMemberPerMinute int `yaml:"per_member_per_minute"`
}

type WeChat struct {
	Simulator    *bool  `yaml:"simulator"`
	SimulatorURL string `yaml:"simulator_url"`
	// SimulatorRoutes mounts the in-process simulator on the service's
	// port at /_sim/; false keeps it reachable only from inside the process.
	SimulatorRoutes bool `yaml:"simulator_routes"`
	// HTTP bounds every request to WeChat and WeCom, in every mode.
	HTTP WeChatHTTP `yaml:"http"`
	// CallbackBudget bounds the work of one WeCom or official-account
	// callback, so that it is answered before WeChat's 5 s cut-off.
	CallbackBudget time.Duration `yaml:"callback_budget"`
	Mini           App           `yaml:"mini"`
	Official       App           `yaml:"official"`
	Work           WorkApp       `yaml:"work"`
	// Pay is WeChat Pay for the cash part of points + cash mall items.
	Pay WeChatPay `yaml:"pay"`
}

// WeChatPay is a WeChat Pay merchant (API v2, JSAPI orders for the
// mini-program wechat.mini.appid).
type WeChatPay struct {
	MchID string `yaml:"mch_id"`
	// Key is the merchant's 32-character API key (MD5 signatures).
	Key Secret `yaml:"key"`
	// NotifyURL is the public URL of POST /api/v1/hooks/wechat-pay.
	NotifyURL string `yaml:"notify_url"`
}

// PayOn reports whether cash payments are taken: a merchant is configured,
// or the simulator's is used.
func (c *Config) PayOn() bool { return c.WeChat.Pay.MchID != "" || c.UseSimulator() }

// WeChatHTTP are the steps of one WeChat request and how long each may take.
type WeChatHTTP struct {
	ConnectTimeout  time.Duration `yaml:"connect_timeout"`
	TLSTimeout      time.Duration `yaml:"tls_timeout"`
	ResponseTimeout time.Duration `yaml:"response_timeout"`
}

type App struct {
	AppID  string `yaml:"appid"`
	Secret Secret `yaml:"secret"`
}

type WorkApp struct {
	CorpID  string `yaml:"corp_id"`
	Secret  Secret `yaml:"secret"`
	AgentID int    `yaml:"agent_id"`
	// CallbackToken and CallbackAESKey verify and decrypt WeCom's callbacks
	// (/api/v1/hooks/wecom).
	CallbackToken  Secret `yaml:"callback_token"`
	CallbackAESKey Secret `yaml:"callback_aes_key"`
}

// Guides configures the shop guides (domain/guide).
type Guides struct {
	Rebind              string `yaml:"rebind"`
	DailyCapPerCustomer int64  `yaml:"daily_cap_per_customer"`
	PushWindowDays      int    `yaml:"push_window_days"`
	SummaryWindowDays   int    `yaml:"summary_window_days"`
	PushText            string `yaml:"push_text"`
	ExpiryPolicy        string `yaml:"expiry_policy"`
}

type Console struct {
	Users []ConsoleUser `yaml:"users"`
	// DemoUsers lets the embedded default create the demo console users
	// when none is configured (never in production).
	DemoUsers    bool   `yaml:"demo_users"`
	ExpiryPolicy string `yaml:"expiry_policy"`
}

type ConsoleUser struct {
	Username     string `yaml:"username"`
	Role         string `yaml:"role"`
	PasswordHash Secret `yaml:"password_hash"`
}

// ExpiryPolicies reads the expiry policy of every earning source (the
// expiry_policy key of its section) with the ledger's parser.
func (c *Config) ExpiryPolicies() (ledger.ExpiryPolicies, error) {
	keys := map[ledger.Source]struct{ key, value string }{
		ledger.SourceOrders:      {"orders.expiry_policy", c.Orders.ExpiryPolicy},
		ledger.SourceSignin:      {"engage.signin.expiry_policy", c.Engage.Signin.ExpiryPolicy},
		ledger.SourceTasks:       {"tasks.expiry_policy", c.Tasks.ExpiryPolicy},
		ledger.SourceLottery:     {"lottery.expiry_policy", c.Lottery.ExpiryPolicy},
		ledger.SourceReferral:    {"referral.expiry_policy", c.Referral.ExpiryPolicy},
		ledger.SourceGuideGrants: {"guides.expiry_policy", c.Guides.ExpiryPolicy},
		ledger.SourceConsole:     {"console.expiry_policy", c.Console.ExpiryPolicy},
	}
	ps := ledger.ExpiryPolicies{}
	for _, src := range ledger.Sources {
		k := keys[src]
		p, err := ledger.ParseExpiryPolicy(k.key, k.value)
		if err != nil {
			return nil, err
		}
		ps[src] = p
	}
	return ps, nil
}

// Rewards converts the sign-in scheme (signin.Rewards.Validate checks it).
func (c SigninConfig) Rewards() signin.Rewards {
	r := signin.Rewards{Base: c.BasePoints, Cycle: c.CycleDays, TierPermille: c.TierPermille,
		MakeupsPerMonth: c.MakeupsPerMonth, MakeupCost: c.MakeupCost}
	for _, st := range c.Ladder {
		r.Ladder = append(r.Ladder, signin.Step{Day: st.Day, Bonus: st.Bonus, Multiplier: st.Multiplier})
	}
	return r
}

// DomainLevels converts the configured levels.
func (t Tier) DomainLevels() []tier.Level {
	out := make([]tier.Level, 0, len(t.Levels))
	for _, l := range t.Levels {
		out = append(out, tier.Level{Code: l.Code, Name: l.Name, Growth: l.Growth, Price: l.Price, Benefits: l.Benefits})
	}
	return out
}

// Secret is a string that prints as *** so a dumped config leaks nothing.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// simulatorValues are the ids and secrets of the WeChat accounts
// configs/default.yaml ships, which work with the simulator only, by key
// (the reminder templates' ids by "reminder.templates.<name>.wechat_id");
// read once, when a production configuration against real WeChat is
// validated.
var simulatorValues = sync.OnceValue(func() map[string]string {
	var d Config
	if err := decodeStrict(defaultYAML, &d); err != nil {
		panic("configs: default.yaml: " + err.Error())
	}
	v := map[string]string{
		"wechat.mini.appid": d.WeChat.Mini.AppID, "wechat.mini.secret": string(d.WeChat.Mini.Secret),
		"wechat.official.appid": d.WeChat.Official.AppID, "wechat.official.secret": string(d.WeChat.Official.Secret),
		"wechat.work.corp_id": d.WeChat.Work.CorpID, "wechat.work.secret": string(d.WeChat.Work.Secret),
		"tasks.official_account.token": string(d.Tasks.OfficialAccount.Token), "tasks.official_account.aes_key": string(d.Tasks.OfficialAccount.AESKey),
		"wechat.work.callback_token": string(d.WeChat.Work.CallbackToken), "wechat.work.callback_aes_key": string(d.WeChat.Work.CallbackAESKey),
	}
	for name, t := range d.Reminder.Templates {
		if t.WeChatID != "" {
			v["reminder.templates."+name+".wechat_id"] = t.WeChatID
		}
	}
	return v
})

// simulatorTemplateIDs are the template ids of simulatorValues: only the
// simulator lists them, under whatever template name a configuration uses.
func simulatorTemplateIDs() map[string]bool {
	ids := map[string]bool{}
	for k, v := range simulatorValues() {
		if strings.HasPrefix(k, "reminder.templates.") {
			ids[v] = true
		}
	}
	return ids
}

// OfficialAccountOn reports whether an official account is configured:
// wechat.official.appid "" turns it off (no push hook, template reminders
// or follower sync, and none of its settings required).
func (c *Config) OfficialAccountOn() bool { return c.WeChat.Official.AppID != "" }

// OfficialAccountAppID is the account whose pushes the push hook takes:
// wechat.official.appid. tasks.official_account.appid may only repeat it
// (Validate refuses another account): the pushes, the template messages and
// the follower sync fill one official_followers table.
func (c *Config) OfficialAccountAppID() string { return c.WeChat.Official.AppID }

// WeComOn reports whether a WeCom app is configured: wechat.work.corp_id ""
// turns it off (no callback hook, no wecom reminders, guides cannot log in,
// and none of its settings required).
func (c *Config) WeComOn() bool { return c.WeChat.Work.CorpID != "" }

// ReminderChannelOn reports whether reminders and campaigns send on ch:
// it is listed in reminder.channels and its account is configured (the
// official account for template, WeCom for wecom).
func (c *Config) ReminderChannelOn(ch string) bool {
	listed := false
	for _, x := range c.Reminder.Channels {
		listed = listed || x == ch
	}
	switch ch {
	case "template":
		return listed && c.OfficialAccountOn()
	case "wecom":
		return listed && c.WeComOn()
	}
	return listed
}

// Production reports whether Jifen runs on MySQL (not the embedded SQLite).
func (c *Config) Production() bool { return c.MySQL.DSN != "" }

// UseSimulator reports whether WeChat calls go to the simulator.
func (c *Config) UseSimulator() bool {
	if c.WeChat.Simulator != nil {
		return *c.WeChat.Simulator
	}
	return !c.Production()
}

// Load builds the configuration from the embedded defaults, the file at
// path (if not empty) and the environment (os.Environ form).
func Load(path string, environ []string) (*Config, error) {
	var c Config
	if err := decodeStrict(defaultYAML, &c); err != nil {
		return nil, fmt.Errorf("embedded default.yaml: %w", err)
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		if err := decodeStrict(b, &c); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	if err := applyEnv(&c, environ); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func decodeStrict(b []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file decodes to nothing: io.EOF is not an error here.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return explainYAML(b, err)
	}
	return nil
}

// applyEnv overrides scalar keys from JIFEN_<PATH> variables, where PATH is
// the key's yaml path joined by "_" in upper case.
func applyEnv(c *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "JIFEN_") {
			env[k] = v
		}
	}
	return walk(reflect.ValueOf(c).Elem(), "", func(key string, v reflect.Value) error {
		name := envName(key)
		raw, ok := env[name]
		if !ok {
			return nil
		}
		if err := setScalar(v, raw); err != nil {
			return fmt.Errorf("%s (from %s): %w", key, name, err)
		}
		return nil
	})
}

func walk(v reflect.Value, prefix string, fn func(key string, v reflect.Value) error) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(time.Duration(0)) {
			if err := walk(f, key, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(key, f); err != nil {
			return err
		}
	}
	return nil
}

func setScalar(v reflect.Value, raw string) error {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("not a duration: %q (give its unit, e.g. 150ms, 5s, 15m or 720h)", raw)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", raw)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", raw)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		// A list from the environment is comma-separated.
		var list []string
		for _, item := range strings.Split(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list).Convert(v.Type()))
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", raw)
		}
		v.Set(reflect.ValueOf(&b))
	default:
		return fmt.Errorf("cannot be set from the environment; use a config file")
	}
	return nil
}

// Validate checks every key once and names the first wrong one.
func (c *Config) Validate() error {
	var errs []string
	bad := func(key, why string) { errs = append(errs, key+": "+why) }
	if c.Analytics.FenPerPoint < 0 || c.Analytics.FenPerPoint > 10000 {
		bad("analytics.fen_per_point", "must be between 0 and 10000")
	}
	if c.Analytics.Lag < time.Second || c.Analytics.Lag > time.Hour {
		bad("analytics.lag", "must be between 1s and 1h")
	}
	if c.Analytics.SnapshotEvery < time.Minute || c.Analytics.SnapshotEvery > 24*time.Hour {
		bad("analytics.snapshot_every", "must be between 1m and 24h")
	}
	if c.Server.Addr == "" {
		bad("server.addr", "required")
	} else if _, port, err := net.SplitHostPort(c.Server.Addr); err != nil || second(strconv.ParseUint(port, 10, 16)) != nil {
		// "8080" alone failed only at listen, as "missing port in address".
		bad("server.addr", fmt.Sprintf("%q is not host:port (e.g. 127.0.0.1:8080, or :8080 on every interface)", c.Server.Addr))
	}
	if c.Clock.Offset < 0 {
		bad("clock.offset", "must not be negative: the clock only moves forward")
	} else if c.Clock.Offset > 0 && c.Production() {
		bad("clock.offset", "refused in production mode: it is for demos and staging on the embedded default")
	}
	groupCommit(bad, "members", c.Members.GroupCommits, c.Members.GroupMax, 500)
	groupCommit(bad, "ledger", c.Ledger.GroupCommits, c.Ledger.GroupMax, 1000)
	groupCommit(bad, "lottery", c.Lottery.GroupCommits, c.Lottery.GroupMax, 500)
	if c.Lottery.CampaignCacheTTL < 0 || c.Lottery.CampaignCacheTTL > time.Minute {
		bad("lottery.campaign_cache_ttl", "must be from 0 (off) to 1m")
	}
	if c.Server.BodyLimitBytes < 1024 {
		bad("server.body_limit_bytes", "must be at least 1024")
	}
	if c.Server.ShutdownTimeout <= 0 {
		bad("server.shutdown_timeout", "must be positive")
	}
	for _, p := range c.Server.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad("server.trusted_proxies", fmt.Sprintf("%q is not an IP address or CIDR", p))
			}
		}
	}
	if a := c.Server.MetricsAddr; a != MetricsOff {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad("server.metrics_addr", fmt.Sprintf("%q is not host:port or off", a))
		} else if sameListener(a, c.Server.Addr) {
			bad("server.metrics_addr", fmt.Sprintf("%q takes the port of server.addr %q: metrics and profiles never share the public port (serve would stop with \"address already in use\")", a, c.Server.Addr))
		}
	}
	if !c.Production() && c.DataDir == "" {
		bad("data_dir", "required when mysql.dsn is empty")
	}
	// The embedded default takes seconds, so that a client's tests can see a
	// token expire (clients/miniprogram); production keeps a minute's floor.
	minTTL := time.Second
	if c.Production() {
		minTTL = time.Minute
	}
	if c.Auth.AccessTTL < minTTL || c.Auth.AccessTTL > 24*time.Hour {
		bad("auth.access_ttl", "must be between 1m (1s in the embedded mode) and 24h")
	}
	if c.Auth.RefreshTTL < c.Auth.AccessTTL {
		bad("auth.refresh_ttl", "must be at least auth.access_ttl")
	}
	if c.Auth.JWTKid == "" {
		bad("auth.jwt_kid", "required")
	}
	if len(c.Auth.JWTKey) < 32 {
		bad("auth.jwt_key", "must be at least 32 bytes")
	}
	if c.Auth.Issuer == "" {
		bad("auth.issuer", "required")
	}
	if c.Production() && c.Redis.Addr == "" {
		// The in-process Redis is the embedded default's: in production
		// each instance would keep its own, so a logout, a cached GET /me
		// answer or a stock gate on one instance would be unknown to the
		// others.
		bad("redis.addr", "required in production mode (mysql.dsn set): every instance shares one Redis; set JIFEN_REDIS_ADDR")
	}
	if c.Redis.Addr != "" {
		// A redis:// URL or a missing port would only fail at the first
		// dial, and Redis being a cache, serve would run on with every
		// gate closed and /readyz saying "degraded": refused here instead.
		for _, a := range strings.Split(c.Redis.Addr, ",") {
			a = strings.TrimSpace(a)
			if host, port, err := net.SplitHostPort(a); err != nil || host == "" || strings.Contains(host, "/") || second(strconv.ParseUint(port, 10, 16)) != nil {
				bad("redis.addr", fmt.Sprintf("%q is not host:port (no redis:// scheme; several host:port separated by commas for a Redis Cluster)", a))
			}
		}
	}
	if c.Redis.Timeout < 10*time.Millisecond || c.Redis.Timeout > 5*time.Second {
		bad("redis.timeout", "must be from 10ms to 5s")
	}
	if c.Redis.BreakerFailures < 1 || c.Redis.BreakerFailures > 1000 {
		bad("redis.breaker_failures", "must be from 1 to 1000")
	}
	if c.Redis.BreakerCooldown < 100*time.Millisecond || c.Redis.BreakerCooldown > 5*time.Minute {
		bad("redis.breaker_cooldown", "must be from 100ms to 5m")
	}
	if c.Redis.MeCacheTTL != 0 && (c.Redis.MeCacheTTL < time.Second || c.Redis.MeCacheTTL > 24*time.Hour) {
		bad("redis.me_cache_ttl", "must be 0 (off) or from 1s to 24h")
	}
	if c.RateLimit.PerIPPerMinute <= 0 {
		bad("rate_limit.per_ip_per_minute", "must be positive")
	}
	if c.RateLimit.PerMemberPerMinute <= 0 {
		bad("rate_limit.per_member_per_minute", "must be positive")
	}
	if !c.UseSimulator() && (c.WeChat.Mini.AppID == "" || c.WeChat.Mini.Secret == "") {
		bad("wechat.mini.appid", "real WeChat needs wechat.mini.appid and wechat.mini.secret")
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{{"wechat.http.connect_timeout", c.WeChat.HTTP.ConnectTimeout}, {"wechat.http.tls_timeout", c.WeChat.HTTP.TLSTimeout},
		{"wechat.http.response_timeout", c.WeChat.HTTP.ResponseTimeout}} {
		if t.d <= 0 || t.d > time.Minute {
			bad(t.key, "must be more than 0 and at most 1m")
		}
	}
	if b := c.WeChat.CallbackBudget; b <= 0 || b >= 5*time.Second {
		bad("wechat.callback_budget", "must be more than 0 and under 5s (WeChat waits 5s for an answer)")
	}
	c.validatePay(bad)
	aesKey(bad, "wechat.work.callback_aes_key", string(c.WeChat.Work.CallbackAESKey))
	field(bad, c.Guides.Rules().Validate("guides"))
	users := map[string]int{}
	for i, u := range c.Console.Users {
		key := fmt.Sprintf("console.users[%d]", i)
		if u.Username == "" {
			bad(key+".username", "required")
		} else if j, ok := users[u.Username]; ok {
			bad(key+".username", fmt.Sprintf("%q is console.users[%d] already: each user once", u.Username, j))
		} else {
			users[u.Username] = i
		}
		switch u.Role {
		case "admin", "marketer", "auditor":
		default:
			bad(key+".role", "must be admin, marketer or auditor")
		}
		if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
			bad(key+".password_hash", "must be a bcrypt hash (jifen hash-password)")
		}
	}
	c.Reminder.validate(bad)
	if c.Production() {
		if c.WeChat.Simulator == nil && c.WeChat.Mini.AppID == "wx-sim-mini" {
			bad("wechat.simulator", "production mode (mysql.dsn set) needs real wechat.mini credentials, or wechat.simulator: true set explicitly")
		}
		// The in-process simulator serves its controls (fault injection,
		// call records) at /_sim/ on the public port: never in production.
		if c.UseSimulator() && c.WeChat.SimulatorURL == "" {
			bad("wechat.simulator_url", "production mode (mysql.dsn set) with wechat.simulator: true needs a simulator elsewhere (jifen wechat-sim); the in-process one is not run in production")
		}
		if string(c.Auth.JWTKey) == DefaultJWTKey {
			bad("auth.jwt_key", "the default development key is refused in production; set JIFEN_AUTH_JWT_KEY")
		}
		if !c.UseSimulator() {
			c.refuseSimulatorValues(bad)
		}
	}
	r := c.Referral
	field(bad, r.Rules().Validate("referral"))
	if r.QRCodePage == "" || strings.HasPrefix(r.QRCodePage, "/") || len(r.QRCodePage) > 128 {
		bad("referral.qrcode_page", "required, a mini-program path without a leading slash (e.g. pages/index/index)")
	}
	if r.QRCodeTTL < time.Minute {
		bad("referral.qrcode_cache_ttl", "must be at least 1m")
	}
	if len(c.Tasks.TokenKey) < 32 {
		bad("tasks.token_key", "must be at least 32 bytes")
	}
	if len(c.Tasks.ReviewHookSecret) < 16 {
		bad("tasks.review_hook_secret", "must be at least 16 bytes")
	}
	if a := c.Tasks.OfficialAccount.AppID; a != "" && a != c.WeChat.Official.AppID {
		bad("tasks.official_account.appid", fmt.Sprintf("%q is not wechat.official.appid %q: the push hook, the template reminders and the follower sync are one official account; leave it empty (the hook takes wechat.official.appid)", a, c.WeChat.Official.AppID))
	}
	// A callback checked with an empty Token (or, for WeCom, which always
	// encrypts, an empty key) would take anyone's push: required while the
	// account is on, in every mode.
	for _, k := range []struct {
		key, value string
		on         bool
		off        string
	}{
		{"tasks.official_account.token", string(c.Tasks.OfficialAccount.Token), c.OfficialAccountOn(), `wechat.official.appid: ""`},
		{"wechat.work.callback_token", string(c.WeChat.Work.CallbackToken), c.WeComOn(), `wechat.work.corp_id: ""`},
		{"wechat.work.callback_aes_key", string(c.WeChat.Work.CallbackAESKey), c.WeComOn(), `wechat.work.corp_id: ""`},
	} {
		if k.on && k.value == "" {
			bad(k.key, "required while the account is on: set "+envName(k.key)+" to the value in the WeChat/WeCom admin console, or turn the account off ("+k.off+")")
		}
	}
	aesKey(bad, "tasks.official_account.aes_key", string(c.Tasks.OfficialAccount.AESKey))
	if c.Production() {
		if string(c.Tasks.TokenKey) == DefaultTaskTokenKey {
			bad("tasks.token_key", "the default development key is refused in production; set JIFEN_TASKS_TOKEN_KEY")
		}
		if string(c.Tasks.ReviewHookSecret) == DefaultReviewHookSecret {
			bad("tasks.review_hook_secret", "the default development secret is refused in production; set JIFEN_TASKS_REVIEW_HOOK_SECRET")
		}
	}
	e := c.Engage
	field(bad, e.Signin.Rewards().Validate("engage.signin"))
	tiers := map[string]bool{}
	for _, l := range c.Tier.Levels {
		tiers[l.Code] = true
	}
	for t := range e.Signin.TierPermille {
		if !tiers[t] {
			bad("engage.signin.tier_multipliers_permille."+t, "names no tier of tier.levels")
		}
	}
	groupCommit(bad, "engage.signin", e.Signin.GroupCommits, e.Signin.GroupMax, 1000)
	if e.Leaderboards.TTL < time.Second {
		bad("engage.leaderboards.ttl", "must be at least 1s")
	}
	if len(c.Orders.WebhookSecret) < 16 {
		bad("orders.webhook_secret", "must be at least 16 bytes")
	}
	if c.Orders.SignatureWindow < time.Minute || c.Orders.SignatureWindow > time.Hour {
		bad("orders.signature_window", "must be between 1m and 1h")
	}
	if c.Orders.ReturnWindow < 0 || c.Orders.ReturnWindow > 90*24*time.Hour {
		bad("orders.return_window", "must be between 0 and 2160h")
	}
	_, err := c.ExpiryPolicies()
	field(bad, err)
	groupCommit(bad, "orders", c.Orders.GroupCommits, c.Orders.GroupMax, 256)
	if c.Rules.CacheTTL < 0 || c.Rules.CacheTTL > time.Minute {
		bad("rules.cache_ttl", "must be from 0 (off) to 1m")
	}
	field(bad, tier.Validate("tier.levels", c.Tier.DomainLevels()))
	field(bad, risk.ValidateDefaults("risk.rules", c.Risk.DomainRules()))
	if c.Production() && string(c.Orders.WebhookSecret) == DefaultWebhookSecret {
		bad("orders.webhook_secret", "the default development secret is refused in production; set JIFEN_ORDERS_WEBHOOK_SECRET")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// refuseSimulatorValues names every key of a production configuration
// against real WeChat that still holds the simulator's value, for the
// accounts and channels in use: against the brand's real accounts each
// fails (the wrong appid decrypts no push, a made-up template id is
// refused), and the callbacks' token and key, which ship in this
// repository, would let anyone sign a follow or a new WeCom contact. An
// account or channel that is off (OfficialAccountOn, WeComOn,
// ReminderChannelOn) needs none.
func (c *Config) refuseSimulatorValues(bad func(key, why string)) {
	const oaOff, weComOff = "wechat.official.appid: \"\"", "wechat.work.corp_id: \"\""
	check := []struct {
		key, value string
		on         bool
		off        string // how the account is turned off
		// needed: the key must be set while the account is on, here only
		// (the callbacks' Token and keys are required in every mode, in
		// Validate; the official account's AES key is optional, for its
		// plaintext mode)
		needed bool
	}{
		// With wechat.simulator unset the simulator's mini-program appid is
		// refused above, asking for wechat.simulator: true.
		{"wechat.mini.appid", c.WeChat.Mini.AppID, c.WeChat.Simulator != nil, "", false},
		{"wechat.mini.secret", string(c.WeChat.Mini.Secret), true, "", false},
		{"wechat.official.appid", c.WeChat.Official.AppID, c.OfficialAccountOn(), oaOff, false},
		{"wechat.official.secret", string(c.WeChat.Official.Secret), c.OfficialAccountOn(), oaOff, true},
		{"tasks.official_account.token", string(c.Tasks.OfficialAccount.Token), c.OfficialAccountOn(), oaOff, false},
		{"tasks.official_account.aes_key", string(c.Tasks.OfficialAccount.AESKey), c.OfficialAccountOn(), oaOff, false},
		{"wechat.work.corp_id", c.WeChat.Work.CorpID, c.WeComOn(), weComOff, false},
		{"wechat.work.secret", string(c.WeChat.Work.Secret), c.WeComOn(), weComOff, true},
		{"wechat.work.callback_token", string(c.WeChat.Work.CallbackToken), c.WeComOn(), weComOff, false},
		{"wechat.work.callback_aes_key", string(c.WeChat.Work.CallbackAESKey), c.WeComOn(), weComOff, false},
	}
	sim := simulatorValues()
	for _, k := range check {
		if k.on && k.needed && k.value == "" { // no access token without it
			bad(k.key, "required while the account is on: set "+envName(k.key)+" to the value in the WeChat/WeCom admin console, or turn the account off ("+k.off+")")
			continue
		}
		if k.on && k.value != "" && k.value == sim[k.key] {
			why := "the simulator's value is refused in production against real WeChat; set " + envName(k.key) + " to the value in the WeChat/WeCom admin console"
			if k.off != "" {
				why += ", or turn the account off (" + k.off + ")"
			}
			bad(k.key, why)
		}
	}
	ids := simulatorTemplateIDs()
	for _, name := range slices.Sorted(maps.Keys(c.Reminder.Templates)) {
		t := c.Reminder.Templates[name]
		if ids[t.WeChatID] && c.ReminderChannelOn(t.Channel) {
			bad("reminder.templates."+name+".wechat_id", fmt.Sprintf("%q is the simulator's template; set the %s template of the brand's account (and its fields) in a config file, or leave channel %s out of reminder.channels", t.WeChatID, t.Channel, t.Channel))
		}
	}
}

// sameListener says whether two host:port listen addresses would take the
// same port: the same port on the same host, or either on every interface
// (an empty host, 0.0.0.0, ::). localhost is the loopback addresses.
func sameListener(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil {
		return a == b
	}
	if na, err := net.LookupPort("tcp", pa); err == nil {
		if nb, err := net.LookupPort("tcp", pb); err == nil && na != nb {
			return false
		}
	} else if pa != pb {
		return false
	}
	hosts := func(h string) (every bool, ips []netip.Addr) {
		if strings.EqualFold(h, "localhost") {
			return false, []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
		}
		ip, err := netip.ParseAddr(h)
		if err != nil {
			return h == "", nil
		}
		return ip.IsUnspecified(), []netip.Addr{ip.Unmap()}
	}
	everyA, ipsA := hosts(ha)
	everyB, ipsB := hosts(hb)
	if everyA || everyB || strings.EqualFold(ha, hb) {
		return true
	}
	for _, x := range ipsA {
		for _, y := range ipsB {
			if x == y {
				return true
			}
		}
	}
	return false
}

// aesKey checks a callback's EncodingAESKey ("" is none): WeChat and WeCom
// issue 43 base64 characters that decode, with "=" appended, to the 32-byte
// AES key, and the SDK decodes it so at every callback. A key of the right
// length that does not decode would start the service and fail every
// callback.
func aesKey(bad func(key, why string), key, v string) {
	if v == "" {
		return
	}
	if b, err := base64.StdEncoding.DecodeString(v + "="); len(v) != 43 || err != nil || len(b) != 32 {
		bad(key, "must be the EncodingAESKey of the admin console: 43 base64 characters (A–Z, a–z, 0–9, + and /)")
	}
}

// field reports the problem of a domain validator, which names the key.
func field(bad func(key, why string), err error) {
	var de *domain.Error
	switch {
	case err == nil:
	case errors.As(err, &de) && len(de.Fields) > 0:
		for k, why := range de.Fields {
			bad(k, why)
		}
	default:
		bad("configuration", err.Error())
	}
}

// second drops a parsed value, keeping the error.
func second[T any](_ T, err error) error { return err }

// MaxGroupCommits bounds the groups of one path committing at once.
const MaxGroupCommits = 64

// groupCommit checks a path's group commit settings under section: from 0
// (off) to MaxGroupCommits groups at once, each of 1 to maxBatch requests.
func groupCommit(bad func(key, why string), section string, commits, max, maxBatch int) {
	if commits < 0 || commits > MaxGroupCommits {
		bad(section+".group_commits", fmt.Sprintf("must be from 0 (off) to %d", MaxGroupCommits))
	}
	if max < 1 || max > maxBatch {
		bad(section+".group_max", fmt.Sprintf("must be from 1 to %d", maxBatch))
	}
}

// Rules are the guides' rules as domain/guide takes them.
func (g Guides) Rules() guide.Rules {
	return guide.Rules{Rebind: guide.Rebind(g.Rebind), DailyCapPerCustomer: g.DailyCapPerCustomer,
		PushWindowDays: g.PushWindowDays, SummaryWindowDays: g.SummaryWindowDays, PushText: g.PushText}
}

// Rules are the referral rules as domain/referral takes them.
func (r Referral) Rules() referral.Rules {
	return referral.Rules{Window: r.Window, DailyCap: r.DailyCapPoints,
		Phone:      referral.Amounts{Inviter: r.Rewards.PhoneInviter, SecondLevel: r.Rewards.PhoneSecondLevel},
		FirstOrder: referral.Amounts{Inviter: r.Rewards.FirstOrderInviter, SecondLevel: r.Rewards.FirstOrderSecondLv}}
}

// validatePay refuses a half-configured WeChat Pay merchant: without the
// simulator, mch_id, key and notify_url come together (or not at all: no
// cash items); with it, a mch_id and its key come together, and a
// notify_url alone keeps the simulator's merchant.
func (c *Config) validatePay(bad func(key, msg string)) {
	p := c.WeChat.Pay
	set := 0
	for _, v := range []string{p.MchID, string(p.Key), p.NotifyURL} {
		if v != "" {
			set++
		}
	}
	switch {
	case set == 0:
	case !c.UseSimulator() && set < 3:
		bad("wechat.pay.mch_id", "real WeChat Pay needs wechat.pay.mch_id, wechat.pay.key and wechat.pay.notify_url together (all empty: no cash items)")
	case p.MchID != "" && len(p.Key) != 32:
		bad("wechat.pay.key", "must be the merchant's 32-character API key")
	case p.MchID == "" && p.Key != "":
		bad("wechat.pay.mch_id", "required with wechat.pay.key")
	}
	if p.NotifyURL != "" {
		u, err := url.Parse(p.NotifyURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			bad("wechat.pay.notify_url", "must be an absolute http(s) URL of POST /api/v1/hooks/wechat-pay")
		case c.Production() && !c.UseSimulator() && u.Scheme != "https":
			bad("wechat.pay.notify_url", "must be https in production")
		case u.RawQuery != "":
			bad("wechat.pay.notify_url", "must not carry a query (WeChat refuses it)")
		}
	}
	if w := c.Mall.PayWindow; w < time.Minute || w > 2*time.Hour {
		bad("mall.pay_window", "must be from 1m to 2h")
	}
	groupCommit(bad, "mall", c.Mall.GroupCommits, c.Mall.GroupMax, 500)
	if c.Mall.ItemCacheTTL < 0 || c.Mall.ItemCacheTTL > time.Minute {
		bad("mall.item_cache_ttl", "must be from 0 (off) to 1m")
	}
}
