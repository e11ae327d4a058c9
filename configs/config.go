// Package configs loads Jifen's configuration: the embedded default.yaml,
// then an optional --config file, then JIFEN_* environment variables, and
// validates the result once, naming the key of anything wrong.
package configs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
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
	Reminder  Reminder  `yaml:"reminder"`
}

type Server struct {
	Addr            string        `yaml:"addr"`
	BodyLimitBytes  int64         `yaml:"body_limit_bytes"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

type MySQL struct {
	DSN Secret `yaml:"dsn"`
}

type Redis struct {
	Addr     string `yaml:"addr"`
	Password Secret `yaml:"password"`
	DB       int    `yaml:"db"`
	Prefix   string `yaml:"prefix"`
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
	Simulator    *bool   `yaml:"simulator"`
	SimulatorURL string  `yaml:"simulator_url"`
	Mini         App     `yaml:"mini"`
	Official     App     `yaml:"official"`
	Work         WorkApp `yaml:"work"`
}

type App struct {
	AppID  string `yaml:"appid"`
	Secret Secret `yaml:"secret"`
}

type WorkApp struct {
	CorpID  string `yaml:"corp_id"`
	Secret  Secret `yaml:"secret"`
	AgentID int    `yaml:"agent_id"`
}

type Console struct {
	Users []ConsoleUser `yaml:"users"`
}

type ConsoleUser struct {
	Username     string `yaml:"username"`
	Role         string `yaml:"role"`
	PasswordHash Secret `yaml:"password_hash"`
}

// Secret is a string that prints as *** so a dumped config leaks nothing.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
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
		return err
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
		name := "JIFEN_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
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
			return fmt.Errorf("not a duration: %q", raw)
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
	if c.Server.Addr == "" {
		bad("server.addr", "required")
	}
	if c.Server.BodyLimitBytes < 1024 {
		bad("server.body_limit_bytes", "must be at least 1024")
	}
	if c.Server.ShutdownTimeout <= 0 {
		bad("server.shutdown_timeout", "must be positive")
	}
	if !c.Production() && c.DataDir == "" {
		bad("data_dir", "required when mysql.dsn is empty")
	}
	if c.Auth.AccessTTL < time.Minute || c.Auth.AccessTTL > 24*time.Hour {
		bad("auth.access_ttl", "must be between 1m and 24h")
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
	if c.RateLimit.PerIPPerMinute <= 0 {
		bad("rate_limit.per_ip_per_minute", "must be positive")
	}
	if c.RateLimit.PerMemberPerMinute <= 0 {
		bad("rate_limit.per_member_per_minute", "must be positive")
	}
	if !c.UseSimulator() && (c.WeChat.Mini.AppID == "" || c.WeChat.Mini.Secret == "") {
		bad("wechat.mini.appid", "real WeChat needs wechat.mini.appid and wechat.mini.secret")
	}
	for i, u := range c.Console.Users {
		key := fmt.Sprintf("console.users[%d]", i)
		if u.Username == "" {
			bad(key+".username", "required")
		}
		switch u.Role {
		case "admin", "marketer", "auditor":
		default:
			bad(key+".role", "must be admin, marketer or auditor")
		}
		if !strings.HasPrefix(string(u.PasswordHash), "$2") {
			bad(key+".password_hash", "must be a bcrypt hash (jifen hash-password)")
		}
	}
	c.Reminder.validate(bad)
	if c.Production() {
		if c.WeChat.Simulator == nil && c.WeChat.Mini.AppID == "wx-sim-mini" {
			bad("wechat.simulator", "production mode (mysql.dsn set) needs real wechat.mini credentials, or wechat.simulator: true set explicitly")
		}
		if string(c.Auth.JWTKey) == DefaultJWTKey {
			bad("auth.jwt_key", "the default development key is refused in production; set JIFEN_AUTH_JWT_KEY")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}
