// Package app wires Jifen together by hand: configuration → stores →
// services → router. It is the only place that knows the concrete types;
// cmd/jifen calls it for `serve`, and the HTTP tests call it so they run
// exactly what production runs.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"github.com/jifen/jifen/bff"
	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/shopper"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/adjustment"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/session"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/auditstore"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/memberstore"
	"github.com/jifen/jifen/repo/schema"
	"github.com/jifen/jifen/repo/sessionstore"
	"github.com/jifen/jifen/wechat"
	"github.com/jifen/jifen/wechat/sim"
)

// Stores are the opened backends.
type Stores struct {
	DB    *repo.DB
	Redis *repo.Redis
	// Describe names the backends for the startup line.
	Describe string
	closers  []func()
}

// Close closes the stores in reverse order of opening.
func (s *Stores) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// OpenStores opens MySQL or the embedded SQLite file, and Redis or an
// in-process one. The embedded SQLite database is migrated on open; MySQL
// is migrated by `jifen migrate` (or here too when migrate is true).
func OpenStores(ctx context.Context, cfg *configs.Config, migrate bool) (*Stores, error) {
	s := &Stores{}
	var parts []string
	if cfg.Production() {
		db, err := repo.OpenMySQL(string(cfg.MySQL.DSN))
		if err != nil {
			return nil, err
		}
		s.DB = db
		parts = append(parts, "MySQL")
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
		path := filepath.Join(cfg.DataDir, "jifen.db")
		db, err := repo.OpenSQLite(path)
		if err != nil {
			return nil, err
		}
		s.DB = db
		migrate = true
		parts = append(parts, "SQLite "+path)
	}
	s.closers = append(s.closers, func() { s.DB.Close() })
	if migrate {
		if _, err := s.DB.Migrate(ctx, schema.All()); err != nil {
			s.Close()
			return nil, err
		}
	}
	if cfg.Redis.Addr != "" {
		c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: strings.Split(cfg.Redis.Addr, ","), Password: string(cfg.Redis.Password), DB: cfg.Redis.DB})
		s.closers = append(s.closers, func() { c.Close() })
		s.Redis = &repo.Redis{C: c, Prefix: cfg.Redis.Prefix}
		parts = append(parts, "Redis "+cfg.Redis.Addr)
	} else {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			s.Close()
			return nil, fmt.Errorf("in-process redis: %w", err)
		}
		c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{mr.Addr()}})
		s.closers = append(s.closers, mr.Close, func() { c.Close() })
		s.Redis = &repo.Redis{C: c, Prefix: cfg.Redis.Prefix}
		parts = append(parts, "in-process Redis")
	}
	s.Describe = strings.Join(parts, " + ")
	return s, nil
}

// App is the wired service.
type App struct {
	Handler  http.Handler
	Members  *member.Service
	Sessions *session.Service
	Tokens   *auth.Tokens
	Ledger   *ledger.Service
	Adjust   *adjustment.Service
	Sim      *sim.Server // nil unless the in-process simulator is used
	Reminder *Reminder
}

// Options are what differs between serve and tests.
type Options struct {
	Clock  domain.Clock
	Logger *slog.Logger
	// SimulatorURL is where WeChat calls go when the simulator is used. Empty:
	// cfg.WeChat.SimulatorURL, else http://<server.addr> (the in-process one).
	SimulatorURL string
	// InstallTransport sets the process-global WeChat HTTP client. Tests set
	// it once per process and pass false.
	InstallTransport bool
}

// New builds the services and the router on the given stores.
func New(cfg *configs.Config, st *Stores, opt Options) (*App, error) {
	if opt.Clock == nil {
		opt.Clock = domain.SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	a := &App{}
	var simHandler http.Handler
	if cfg.UseSimulator() {
		url := opt.SimulatorURL
		if url == "" {
			url = cfg.WeChat.SimulatorURL
		}
		if url == "" {
			a.Sim = sim.New(opt.Clock.Now)
			simHandler = a.Sim
			url = "http://" + cfg.Server.Addr
		}
		if opt.InstallTransport {
			if err := wechat.UseSimulator(url); err != nil {
				return nil, fmt.Errorf("wechat.simulator_url: %w", err)
			}
		}
	}
	wcCache := wechat.NewRedisCache(st.Redis.C, st.Redis.Prefix+"wx:")
	mini := wechat.NewMiniProgram(cfg.WeChat.Mini.AppID, string(cfg.WeChat.Mini.Secret), wcCache)

	keys := map[string][]byte{cfg.Auth.JWTKid: []byte(cfg.Auth.JWTKey)}
	for kid, k := range cfg.Auth.PreviousKeys {
		if kid != cfg.Auth.JWTKid {
			keys[kid] = []byte(k)
		}
	}
	a.Tokens = &auth.Tokens{Issuer: cfg.Auth.Issuer, Kid: cfg.Auth.JWTKid, Keys: keys, TTL: cfg.Auth.AccessTTL, Clock: opt.Clock}
	memberStore := &memberstore.Store{DB: st.DB}
	auditStore := &auditstore.Store{DB: st.DB}
	a.Members = &member.Service{Store: memberStore, WeChat: mini, Tx: st.DB, Clock: opt.Clock}
	a.Ledger = &ledger.Service{Store: &ledgerstore.Store{DB: st.DB}, Tx: st.DB, Clock: opt.Clock}
	a.Adjust = &adjustment.Service{Ledger: a.Ledger, Members: memberStore, Audit: auditStore, Tx: st.DB, Clock: opt.Clock}
	a.Sessions = &session.Service{Store: &sessionstore.Store{DB: st.DB}, Tx: st.DB, Clock: opt.Clock, TTL: cfg.Auth.RefreshTTL}

	if err := wireReminder(cfg, st, opt, a, mini); err != nil {
		return nil, err
	}

	users, err := consoleUsers(cfg, opt.Logger)
	if err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.Handler = bff.NewRouter(bff.Deps{
		Logger:    opt.Logger,
		BodyLimit: cfg.Server.BodyLimitBytes,
		Redis:     st.Redis.C,
		RedisKey:  st.Redis.Prefix,
		PerIP:     cfg.RateLimit.PerIPPerMinute,
		PerMember: cfg.RateLimit.PerMemberPerMinute,
		Tokens:    a.Tokens,
		Shopper:   &shopper.Handlers{Members: a.Members, Sessions: a.Sessions, Tokens: a.Tokens, Ledger: a.Ledger},
		Console: console.New(users, &console.Handlers{Tokens: a.Tokens, Members: memberStore, Ledger: a.Ledger,
			Adjust: a.Adjust, Audit: auditStore}),
		Ready: func(ctx context.Context) error {
			if err := st.DB.Ping(ctx); err != nil {
				return errors.New("database: " + err.Error())
			}
			if err := st.Redis.C.Ping(ctx).Err(); err != nil {
				return errors.New("redis: " + err.Error())
			}
			return nil
		},
		Registry:  reg,
		Simulator: simHandler,
	})
	return a, nil
}

// DemoConsoleUsers are created in the embedded default when no console user
// is configured, so a new user can try the console at once. Production mode
// never gets them.
var DemoConsoleUsers = []struct{ Username, Password, Role string }{
	{"admin", "admin123", "admin"},
	{"marketer", "marketer123", "marketer"},
	{"auditor", "auditor123", "auditor"},
}

func consoleUsers(cfg *configs.Config, log *slog.Logger) ([]console.User, error) {
	var users []console.User
	for _, u := range cfg.Console.Users {
		users = append(users, console.User{Username: u.Username, Role: u.Role, PasswordHash: []byte(u.PasswordHash)})
	}
	if len(users) > 0 || cfg.Production() {
		return users, nil
	}
	for _, d := range DemoConsoleUsers {
		h, err := bcrypt.GenerateFromPassword([]byte(d.Password), bcrypt.MinCost)
		if err != nil {
			return nil, err
		}
		users = append(users, console.User{Username: d.Username, Role: d.Role, PasswordHash: h})
	}
	log.Info("embedded mode: demo console users admin/admin123, marketer/marketer123, auditor/auditor123")
	return users, nil
}
