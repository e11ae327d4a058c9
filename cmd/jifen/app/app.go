// Package app wires Jifen together by hand: configuration → stores →
// services → router. It is the only place that knows the concrete types;
// cmd/jifen calls it for `serve`, and the HTTP tests call it so they run
// exactly what production runs.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/crypto/bcrypt"

	"github.com/jifen/jifen/bff"
	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/consoleweb"
	guideweb "github.com/jifen/jifen/bff/guide"
	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/bff/shopper"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/adjustment"
	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/birthday"
	"github.com/jifen/jifen/domain/checkout"
	"github.com/jifen/jifen/domain/formkey"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/leaderboard"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/lottery"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/domain/risk"
	"github.com/jifen/jifen/domain/ruleadmin"
	"github.com/jifen/jifen/domain/rules"
	"github.com/jifen/jifen/domain/session"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/domain/task"
	"github.com/jifen/jifen/domain/tier"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/analyticsstore"
	"github.com/jifen/jifen/repo/auditstore"
	"github.com/jifen/jifen/repo/boardstore"
	"github.com/jifen/jifen/repo/checkoutstore"
	"github.com/jifen/jifen/repo/formkeystore"
	"github.com/jifen/jifen/repo/guidestore"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/lotterystore"
	"github.com/jifen/jifen/repo/mallstore"
	"github.com/jifen/jifen/repo/mecache"
	"github.com/jifen/jifen/repo/memberstore"
	"github.com/jifen/jifen/repo/orderstore"
	"github.com/jifen/jifen/repo/referralstore"
	"github.com/jifen/jifen/repo/reminderstore"
	"github.com/jifen/jifen/repo/riskstore"
	"github.com/jifen/jifen/repo/rulestore"
	"github.com/jifen/jifen/repo/schema"
	"github.com/jifen/jifen/repo/sessionstore"
	"github.com/jifen/jifen/repo/signinstore"
	"github.com/jifen/jifen/repo/taskstore"
	"github.com/jifen/jifen/repo/tierstore"
	"github.com/jifen/jifen/wechat"
	"github.com/jifen/jifen/wechat/sim"
)

// The capabilities the services require of each other, checked by the
// compiler: a missing lock or unit of work is a build error, not a silent
// no-op.
var (
	_ domain.UnitOfWork      = (*repo.DB)(nil)
	_ signin.Ledger          = (*ledger.Service)(nil)
	_ ledger.Store           = (*ledgerstore.Store)(nil)
	_ reminder.DispatchStore = (*reminderstore.Outbox)(nil)
	_ orders.Store           = (*orderstore.Store)(nil)
	_ orders.Members         = (*memberstore.Store)(nil)
	_ orders.RuleEngine      = (*rules.Service)(nil)
	_ orders.Points          = (*ledger.Service)(nil)
	_ orders.Growth          = (*tier.Service)(nil)
	_ tier.Store             = (*tierstore.Store)(nil)
	_ rules.Usage            = (*rulestore.Store)(nil)
	_ rules.Budget           = (*rulestore.Store)(nil)
	_ referral.Store         = (*referralstore.Store)(nil)
	_ lottery.Store          = (*lotterystore.Store)(nil)
	_ lottery.Points         = (*ledger.Service)(nil)
	_ signin.Store           = (*signinstore.Store)(nil)
	_ signin.Cards           = (*signinstore.Store)(nil)
	_ mall.Cards             = (*signin.Service)(nil)
	_ signin.Tiers           = (*tier.Service)(nil)
)

// Stores are the opened backends.
type Stores struct {
	DB    *repo.DB
	Redis *repo.Redis
	// RedisMerges is the client's pipeline merger (its Stats are in
	// /metrics; nil when the stores were put together by hand).
	RedisMerges *repo.Coalescer
	// Describe names the backends for the startup line.
	Describe string
	closers  []func()
	// inProcess is the embedded default's Redis (nil with a real one).
	inProcess *miniredis.Miniredis
}

// AdvanceRedis moves the in-process Redis's clock forward by d, as
// /_sim/clock moves the service's: keys kept until an instant of the
// service's time (a /me answer until the first points expire) go when it
// passes. A real Redis keeps its own time; nothing is done then.
func (s *Stores) AdvanceRedis(d time.Duration) {
	if s.inProcess != nil {
		s.inProcess.FastForward(d)
	}
}

// tickInProcess makes the in-process Redis's keys expire as a real
// Redis's do: miniredis only ages them when told to (FastForward).
func tickInProcess(mr *miniredis.Miniredis, every time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	return func() { close(done) }
}

// Close closes the stores in reverse order of opening.
func (s *Stores) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// OpenExistingStores is OpenStores for a command that reads what serve
// wrote (reconcile, expire, analytics, the daily jobs, migrate status): on
// the embedded default it refuses a data_dir with no database in it,
// rather than make an empty one and report it clean.
func OpenExistingStores(ctx context.Context, cfg *configs.Config) (*Stores, error) {
	if !cfg.Production() {
		path := filepath.Join(cfg.DataDir, "jifen.db")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			abs, _ := filepath.Abs(path)
			return nil, fmt.Errorf("no embedded database at %s: run this where serve runs, or point data_dir (JIFEN_DATA_DIR) at serve's", abs)
		}
	}
	return OpenStores(ctx, cfg, false)
}

// OpenStores opens MySQL or the embedded SQLite file, and Redis or an
// in-process one. The embedded SQLite database is migrated on open; MySQL
// is migrated by `jifen migrate` (or here too when migrate is true).
func OpenStores(ctx context.Context, cfg *configs.Config, migrate bool) (*Stores, error) {
	s := &Stores{}
	var parts []string
	if cfg.Production() {
		db, err := repo.OpenMySQLContext(ctx, string(cfg.MySQL.DSN))
		if err != nil {
			return nil, err
		}
		if !cfg.MySQL.Pipelined {
			db.DisablePipelining()
		}
		if cfg.MySQL.Portable {
			db.Portable()
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
	s.RedisMerges = &repo.Coalescer{}
	ro := repo.RedisOptions{Password: string(cfg.Redis.Password), DB: cfg.Redis.DB, Timeout: cfg.Redis.Timeout,
		BreakerFailures: cfg.Redis.BreakerFailures, BreakerCooldown: cfg.Redis.BreakerCooldown, Coalescer: s.RedisMerges}
	if cfg.Redis.Addr != "" {
		ro.Addrs = strings.Split(cfg.Redis.Addr, ",")
		c := repo.NewRedisClient(ro)
		s.closers = append(s.closers, func() { c.Close() })
		s.Redis = &repo.Redis{C: c, Prefix: cfg.Redis.Prefix}
		parts = append(parts, "Redis "+cfg.Redis.Addr)
	} else {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			s.Close()
			return nil, fmt.Errorf("in-process redis: %w", err)
		}
		// The in-process Redis cannot hang on its own: a tight deadline
		// would only measure this process's load and open the breaker under it.
		ro.Addrs, ro.Timeout = []string{mr.Addr()}, max(ro.Timeout, 2*time.Second)
		c := repo.NewRedisClient(ro)
		s.closers = append(s.closers, mr.Close, tickInProcess(mr, time.Second), func() { c.Close() })
		s.Redis = &repo.Redis{C: c, Prefix: cfg.Redis.Prefix}
		s.inProcess = mr
		parts = append(parts, "in-process Redis")
	}
	s.Describe = strings.Join(parts, " + ")
	return s, nil
}

// App is the wired service.
type App struct {
	Handler http.Handler
	// Admin serves /metrics and /debug/pprof/ on server.metrics_addr.
	Admin    http.Handler
	Members  *member.Service
	Sessions *session.Service
	Tokens   *auth.Tokens
	Ledger   *ledger.Service
	Adjust   *adjustment.Service
	Guides   *guide.Service
	Signin   *signin.Service
	Boards   *leaderboard.Service
	Lottery  *lottery.Service
	Rules    *rules.Service
	Orders   *orders.Service
	Tiers    *tier.Service
	Birthday *birthday.Service
	Referral *referral.Service
	Tasks    *task.Service
	Mall     *mall.Service
	// Analytics builds the daily facts (issue #24).
	Analytics *analytics.Service
	Checkout  *checkout.Service
	// Risk is risk control: velocity flags and holds (issue #24).
	Risk *risk.Service
	Sim  *sim.Server // nil unless the in-process simulator is used
	// Clock is the service's "now" (clock.offset and /_sim/clock move it):
	// one-shot commands read it too, so they see the day serve sees.
	Clock    domain.Clock
	Reminder *Reminder

	denylist *sessionstore.Denylist
}

// Start runs what every serving instance runs beside its requests,
// whatever reminder.jobs says, until ctx ends: the copy to Redis of the
// logouts whose copy failed on some instance (sessionstore.Denylist.Run).
// wait returns once it has stopped.
func (a *App) Start(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.denylist.Run(ctx)
	}()
	return func() { <-done }
}

// Options are what differs between serve and tests.
type Options struct {
	Clock  domain.Clock
	Logger *slog.Logger
	// SimulatorURL is where WeChat calls go when the simulator is used. Empty:
	// cfg.WeChat.SimulatorURL, else http://<server.addr> (the in-process one,
	// served by `jifen serve`).
	SimulatorURL string
	// StoreNotifier delivers the guides' daily store summaries to the
	// stores' group robots (nil: App.Guides.SendStoreSummaries cannot send).
	StoreNotifier guide.StoreNotifier
}

// New builds the services and the router on the given stores.
func New(cfg *configs.Config, st *Stores, opt Options) (*App, error) {
	// Without a clock from the caller (tests bring a fake one) the service
	// runs on the wall clock, shifted by clock.offset outside production;
	// the in-process simulator's /_sim/clock moves it further.
	var movable *domain.OffsetClock
	var wall domain.Clock // the wall clock when the service's may be moved: the order system signs by it
	if opt.Clock == nil {
		movable = domain.NewOffsetClock(domain.SystemClock{}, cfg.Clock.Offset)
		opt.Clock, wall = movable, domain.SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	a := &App{Clock: opt.Clock}
	// The rows' own timestamps (updated_at) read the same clock as the
	// services, so a moved clock never writes a row updated before it was
	// created.
	st.DB.UseClock(opt.Clock.Now)
	// Every subcommand builds the service here, so every one of them sends
	// its WeChat calls where serve does, through the same timeouts. The
	// client is process-wide: the last App built decides.
	httpCfg := wechat.HTTPConfig{ConnectTimeout: cfg.WeChat.HTTP.ConnectTimeout, TLSTimeout: cfg.WeChat.HTTP.TLSTimeout,
		ResponseTimeout: cfg.WeChat.HTTP.ResponseTimeout}
	var simHandler http.Handler
	if cfg.UseSimulator() {
		httpCfg.SimulatorURL = opt.SimulatorURL
		if httpCfg.SimulatorURL == "" {
			httpCfg.SimulatorURL = cfg.WeChat.SimulatorURL
		}
		if httpCfg.SimulatorURL == "" {
			a.Sim = sim.New(opt.Clock.Now)
			httpCfg.SimulatorURL = "http://" + cfg.Server.Addr
			// configs.Validate refuses production without simulator_url;
			// the controls never reach a production port regardless.
			if cfg.WeChat.SimulatorRoutes && !cfg.Production() {
				simHandler = a.Sim
				if movable != nil {
					simHandler = clockControl{clock: movable, next: a.Sim, advanced: st.AdvanceRedis}
				}
			} else {
				httpCfg.SimulatorHandler = a.Sim
			}
		}
	}
	if err := wechat.Configure(httpCfg); err != nil {
		return nil, fmt.Errorf("wechat.simulator_url: %w", err)
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
	// GET /me's answers in Redis, dropped by every unit of work that
	// changes a member's points, tier or profile (in every process that
	// writes: jobs and seed too).
	var meCache shopper.MeCache
	if cfg.Redis.MeCacheTTL > 0 {
		c := &mecache.Cache{Redis: st.Redis, TTL: cfg.Redis.MeCacheTTL, Namespace: meNamespace(cfg), Now: opt.Clock.Now}
		st.DB.OnTouch(c.Invalidate)
		meCache = c
	}
	memberStore := &memberstore.Store{DB: st.DB}
	auditStore := &auditstore.Store{DB: st.DB}
	a.Members = &member.Service{Store: memberStore, WeChat: mini, Tx: st.DB, Clock: opt.Clock,
		GroupCommit: batch.Settings{Committers: cfg.Members.GroupCommits, Max: cfg.Members.GroupMax}}
	expiry, err := cfg.ExpiryPolicies()
	if err != nil {
		return nil, err
	}
	ledgerStore := &ledgerstore.Store{DB: st.DB}
	a.Ledger = &ledger.Service{Store: ledgerStore, Tx: st.DB, Clock: opt.Clock, Expiry: expiry,
		GroupCommit: batch.Settings{Committers: cfg.Ledger.GroupCommits, Max: cfg.Ledger.GroupMax}}
	// Console adjustments are ledger writes: grouped with the ledger's settings.
	a.Adjust = &adjustment.Service{Ledger: a.Ledger, Members: memberStore, Audit: auditStore, Tx: st.DB, Clock: opt.Clock,
		GroupCommit: batch.Settings{Committers: cfg.Ledger.GroupCommits, Max: cfg.Ledger.GroupMax}}
	// Without a WeCom app (wechat.work.corp_id "") work is nil: no wecom
	// reminders, no callback hook, and the guides' WeCom calls say so.
	var work *wechat.Work
	var guideWeCom guide.WeCom = weComOff{}
	if cfg.WeComOn() {
		work = wechat.NewWork(cfg.WeChat.Work.CorpID, string(cfg.WeChat.Work.Secret), strconv.Itoa(cfg.WeChat.Work.AgentID), wcCache)
		guideWeCom = work
	}
	var storeNotifier guide.StoreNotifier = wechat.RobotSender{}
	if opt.StoreNotifier != nil {
		storeNotifier = opt.StoreNotifier
	}
	a.Guides = &guide.Service{Repo: &guidestore.Store{DB: st.DB}, Audit: auditStore, Members: memberStore, Ledger: a.Ledger, Adjust: a.Adjust,
		WeCom: guideWeCom, Notifier: storeNotifier, Tx: st.DB, Clock: opt.Clock, Rules: cfg.Guides.Rules()}
	a.Members.Hooks.Registered = append(a.Members.Hooks.Registered, member.RegisteredHook{One: a.Guides.OnRegistered, Many: a.Guides.OnRegisteredMany})
	a.Lottery = &lottery.Service{Store: lotterystore.New(st.DB, ledgerStore), Gate: &lotterystore.Gate{R: st.Redis},
		Points: a.Ledger, Audit: auditStore, Tx: st.DB, Clock: opt.Clock, CampaignTTL: cfg.Lottery.CampaignCacheTTL,
		GroupCommit: batch.Settings{Committers: cfg.Lottery.GroupCommits, Max: cfg.Lottery.GroupMax}}
	ruleStore := rulestore.New(st.DB)
	a.Rules = &rules.Service{Store: ruleStore, Usage: ruleStore, Budget: ruleStore, Tx: st.DB, Clock: opt.Clock, CacheTTL: cfg.Rules.CacheTTL}
	ruleAdmin := &ruleadmin.Service{Rules: a.Rules, Audit: auditStore, Tx: st.DB, Clock: opt.Clock}
	tierStore := &tierstore.Store{DB: st.DB, Members: memberStore}
	a.Tiers = &tier.Service{Levels: cfg.Tier.DomainLevels(), Store: tierStore, Ledger: a.Ledger, Tx: st.DB, Clock: opt.Clock}
	a.Guides.Tiers = a.Tiers
	a.Orders = &orders.Service{Store: orderstore.New(st.DB, tierStore, ledgerStore, memberStore), Members: memberStore, Rules: a.Rules, Ledger: a.Ledger,
		Tier: a.Tiers, Tx: st.DB, Clock: opt.Clock, ReturnWindow: cfg.Orders.ReturnWindow,
		GroupCommit: batch.Settings{Committers: cfg.Orders.GroupCommits, Max: cfg.Orders.GroupMax}}
	a.Birthday = &birthday.Service{Members: memberStore, Store: tierStore, Rules: a.Rules, Ledger: a.Ledger, Tier: a.Tiers, Tx: st.DB, Clock: opt.Clock}
	// Orders paid before the member existed are applied when they register
	// (by openid) or bind their phone, inside that transaction.
	a.Members.Hooks.Registered = append(a.Members.Hooks.Registered, member.RegisteredHook{One: a.Orders.Registered, Many: a.Orders.RegisteredMany})
	a.Members.Hooks.PhoneBound = append(a.Members.Hooks.PhoneBound, a.Orders.MatchMember)
	denylist := &sessionstore.Denylist{DB: st.DB, Redis: st.Redis, Clock: opt.Clock, Log: opt.Logger}
	a.denylist = denylist
	a.Sessions = &session.Service{Store: &sessionstore.Store{DB: st.DB}, Tx: st.DB, Clock: opt.Clock, TTL: cfg.Auth.RefreshTTL,
		Denylist: denylist, AccessTTL: cfg.Auth.AccessTTL}
	// A shopper's login starts its session in the login's own unit of work.
	a.Members.Sessions = func(ctx context.Context, ids []int64) ([]member.Session, error) {
		started, err := a.Sessions.Issue(ctx, auth.Shopper, ids...)
		if err != nil {
			return nil, err
		}
		out := make([]member.Session, len(started))
		for i, st := range started {
			out[i] = member.Session{Refresh: st.Raw, ID: st.SID}
		}
		return out, nil
	}

	a.Boards = &leaderboard.Service{Cache: &boardstore.Cache{R: st.Redis}, Profiles: &boardstore.Profiles{DB: st.DB},
		Clock: opt.Clock, TTL: cfg.Engage.Leaderboards.TTL}
	signinStore := signinstore.New(st.DB, ledgerStore)
	a.Boards.Register(boardstore.PointsWeek(st.DB))
	a.Boards.Register(boardstore.SigninStreak(signinStore))
	a.Signin = &signin.Service{Store: signinStore, Cache: &signinstore.Calendar{R: st.Redis}, Tx: st.DB, Ledger: a.Ledger,
		Clock: opt.Clock, Rewards: cfg.Engage.Signin.Rewards(), Tiers: a.Tiers, Streaks: a.Boards, Points: a.Boards, Cards: signinStore,
		Joined: func(ctx context.Context, id int64) (time.Time, error) {
			m, err := a.Members.Get(ctx, id)
			if err != nil {
				return time.Time{}, err
			}
			return m.CreatedAt, nil
		},
		GroupCommit: batch.Settings{Committers: cfg.Engage.Signin.GroupCommits, Max: cfg.Engage.Signin.GroupMax}}

	refStore := &referralstore.Store{DB: st.DB}
	rc := cfg.Referral
	a.Referral = &referral.Service{Store: refStore, Members: &referralstore.Members{DB: st.DB}, Points: a.Ledger, Board: a.Boards,
		QR: &referralstore.QRCache{R: st.Redis, TTL: rc.QRCodeTTL}, WeChat: mini, Tx: st.DB, Clock: opt.Clock, Page: rc.QRCodePage, UncheckedPage: !rc.QRCodeCheckPath, Log: opt.Logger,
		Rules: rc.Rules()}
	a.Members.Hooks.Registered = append(a.Members.Hooks.Registered, member.RegisteredHook{One: a.Referral.OnRegistered, Many: a.Referral.OnRegisteredMany})
	a.Members.Hooks.PhoneBound = append(a.Members.Hooks.PhoneBound, a.Referral.OnPhoneBound)
	// The inviter is rewarded inside the transaction that records the
	// invitee's first paid order.
	a.Orders.OnFirstPaidMany = append(a.Orders.OnFirstPaidMany, a.Referral.OnFirstPaidOrders)
	// It is taken back inside the refund's transaction when the order is
	// fully refunded within its return window.
	a.Orders.OnFullyRefunded = append(a.Orders.OnFullyRefunded, a.Referral.OnOrderRefunded)
	a.Orders.LoadFirstPaid = append(a.Orders.LoadFirstPaid, a.Referral.LoadFirstPaid)
	a.Boards.Register(leaderboard.Func{BoardName: referral.BoardName,
		ScoresOf: func(ctx context.Context, _ time.Time) (map[int64]int64, error) { return refStore.InviteCounts(ctx) }})
	a.Tasks = &task.Service{Store: &taskstore.Store{DB: st.DB}, Audit: auditStore, Tx: st.DB, Ledger: a.Ledger, Members: memberStore,
		Clock: opt.Clock, TokenKey: []byte(cfg.Tasks.TokenKey)}
	if cfg.UseSimulator() {
		a.Tasks.Followers = wechat.SimFollowers{}
	}
	var official *wechat.Official
	if cfg.OfficialAccountOn() {
		official = wechat.NewOfficial(cfg.WeChat.Official.AppID, string(cfg.WeChat.Official.Secret), wcCache)
		if !cfg.UseSimulator() {
			a.Tasks.Followers = official // the user-info API resolves followers' unionids
		}
	}
	mallStore := mallstore.New(st.DB, ledgerStore)
	a.Mall = &mall.Service{Store: mallStore, Reports: mallStore, Gate: &mallstore.Gate{R: st.Redis}, Points: a.Ledger,
		Tiers: a.Tiers, Audit: auditStore, Tx: st.DB, Clock: opt.Clock, Stores: pickupStores(&guidestore.Store{DB: st.DB}),
		TierCodes: tierCodes(cfg.Tier.DomainLevels()), GroupCommit: batch.Settings{Committers: cfg.Mall.GroupCommits, Max: cfg.Mall.GroupMax},
		ItemTTL: cfg.Mall.ItemCacheTTL, Cards: a.Signin}
	payHook := wirePay(cfg, st, a, memberStore)
	a.Checkout = &checkout.Service{Store: &checkoutstore.Store{DB: st.DB}, Points: a.Ledger, Members: memberStore,
		Audit: auditStore, Tx: st.DB, Clock: opt.Clock}
	a.Orders.Checkout = a.Checkout
	a.Risk = &risk.Service{Store: &riskstore.Store{DB: st.DB, Defaults: cfg.Risk.DomainRules()}, Counter: &riskstore.Counter{R: st.Redis},
		Members: &riskstore.Members{DB: st.DB}, Grants: &riskstore.Grants{DB: st.DB},
		Journal: &riskstore.Journal{DB: st.DB}, Phones: &riskstore.Phones{DB: st.DB}, Referrals: &riskstore.Referrals{DB: st.DB},
		Payments: &riskstore.Payments{DB: st.DB}, Audit: auditStore, Tx: st.DB, Clock: opt.Clock, Log: opt.Logger}
	a.Referral.Rings = a.Risk
	a.Guides.Watch = a.Risk // guide_budget_burn: every grant that committed // referral_ring: the loops of invitations referral refuses
	if err := wireReminder(cfg, st, opt, a, mini, work, official); err != nil {
		return nil, err
	}
	analyticsStore := &analyticsstore.Store{DB: st.DB}
	a.Analytics = &analytics.Service{Store: analyticsStore, MemberFacts: analyticsStore, Growth: analyticsStore, Reach: analyticsStore, Clock: opt.Clock,
		Lag: cfg.Analytics.Lag, FenPerPoint: cfg.Analytics.FenPerPoint, FirstTier: firstTier(a.Tiers)}
	a.Reminder.Scheduler.Jobs = append(a.Reminder.Scheduler.Jobs, analyticsJob(a.Analytics, cfg.Analytics.SnapshotEvery, opt.Logger))

	users, err := consoleUsers(cfg, opt.Logger)
	if err != nil {
		return nil, err
	}

	formKeys := &formkey.Service{Store: &formkeystore.Store{DB: st.DB}, Clock: opt.Clock}
	co := console.New(users, &console.Handlers{Tokens: a.Tokens, Members: a.Members, Ledger: a.Ledger,
		Directory: &member.Directory{Store: memberStore}, Tiers: a.Tiers, Signin: a.Signin,
		Adjust: a.Adjust, Audit: &audit.Trail{Store: auditStore}, Guides: a.Guides, Lottery: a.Lottery, Rules: a.Rules, RuleAdmin: ruleAdmin,
		Referrals: a.Referral, Tasks: a.Tasks, Campaigns: a.Reminder.Campaigns, Mall: a.Mall, Analytics: a.Analytics,
		Checkout: a.Checkout, Risk: a.Risk, Throttle: &console.Throttle{Redis: st.Redis.C, Prefix: st.Redis.Prefix, Clock: opt.Clock},
		FormKeys: formKeys})
	pages, err := consoleweb.New(&consoleweb.Handlers{API: co, Tokens: a.Tokens, Sessions: a.Sessions, Clock: opt.Clock, Secure: cfg.Production(),
		FormKeys: formKeys})
	if err != nil {
		return nil, err
	}

	// WeChat's callbacks: timestamps within 5 minutes, each nonce once,
	// answered within the budget.
	guard := &hooks.CallbackGuard{Clock: opt.Clock, Window: 5 * time.Minute, Nonces: &repo.Nonces{R: st.Redis},
		Budget: cfg.WeChat.CallbackBudget}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerMetrics(reg, a, st)
	a.Admin = bff.NewAdminHandler(reg)
	a.Handler = bff.NewRouter(bff.Deps{
		Logger:         opt.Logger,
		BodyLimit:      cfg.Server.BodyLimitBytes,
		TrustedProxies: cfg.Server.TrustedProxies,
		Redis:          st.Redis.C,
		RedisKey:       st.Redis.Prefix,
		DenyKeys:       denylist.RedisKeys,
		PerIP:          cfg.RateLimit.PerIPPerMinute,
		PerMember:      cfg.RateLimit.PerMemberPerMinute,
		Tokens:         a.Tokens,
		Sessions:       a.Sessions,
		Shopper: &shopper.Handlers{Members: a.Members, Sessions: a.Sessions, Tokens: a.Tokens, Ledger: a.Ledger,
			Signin: a.Signin, Boards: a.Boards, Lottery: a.Lottery, Orders: a.Orders, Tiers: a.Tiers, Birthdays: a.Birthday,
			Referrals: a.Referral, Task: a.Tasks, Subscriptions: a.Reminder.Subscriptions, Mall: a.Mall, Risk: a.Risk,
			MeCache: meCache},
		Console:    co,
		ConsoleWeb: pages,
		Guide:      &guideweb.Handlers{Guides: a.Guides, Tokens: a.Tokens, Mall: a.Mall, PickupAnyStore: cfg.Mall.PickupAnyStore},
		WeComHook:  weComHook(cfg, a.Guides, guard),
		Hooks:      &hooks.Handlers{Orders: a.Orders, Checkout: a.Checkout, Risk: a.Risk, Secret: []byte(cfg.Orders.WebhookSecret), Window: cfg.Orders.SignatureWindow, Clock: opt.Clock, Wall: wall},
		Reviews:    &hooks.Reviews{Tasks: a.Tasks, Secret: []byte(cfg.Tasks.ReviewHookSecret), Clock: opt.Clock, Wall: wall},
		OAHook:     oaHook(cfg, a.Tasks, a.Reminder, guard),
		PayHook:    payHook,
		// Without the database nothing works: not ready. Without Redis the
		// service runs degraded (limits open, caches read from SQL, draws
		// and mall redemptions 503) and stays in the load balancer: every
		// instance shares the one Redis, and taking them all out would turn
		// a cache outage into a full one.
		Ready: func(ctx context.Context) (map[string]string, error) {
			if err := st.DB.Ping(ctx); err != nil {
				return nil, errors.New("database: " + err.Error())
			}
			if err := st.Redis.C.Ping(ctx).Err(); err != nil {
				return map[string]string{"redis": err.Error()}, nil
			}
			return nil, nil
		},
		Registry:  reg,
		Simulator: simHandler,
	})
	if a.Sim != nil {
		// The in-process simulator delivers pay notifications to this
		// service in process, wherever notify_url points.
		a.Sim.DeliverPayNotifications("", a.Handler)
	}
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
	if len(users) > 0 || cfg.Production() || !cfg.Console.DemoUsers {
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

// firstTier is the code of the lowest tier level ("" with none configured).
func firstTier(t *tier.Service) string {
	if len(t.Levels) == 0 {
		return ""
	}
	return t.Levels[0].Code
}

// meAnswerVersion names the shape of GET /me's answer; change it with the
// answer's fields so a deploy never serves answers cached by the old code.
const meAnswerVersion = "2" // 2: the cached value carries the instant it holds until

// meNamespace separates cached /me answers by their shape and the tier
// levels configured (their names are in the answer).
func meNamespace(cfg *configs.Config) string {
	h := sha256.New()
	for _, l := range cfg.Tier.DomainLevels() {
		fmt.Fprintf(h, "%s\x00%s\x00", l.Code, l.Name)
	}
	return meAnswerVersion + hex.EncodeToString(h.Sum(nil)[:4])
}

// pickupStores tells the mall which stores exist: those guides work in.
func pickupStores(r *guidestore.Store) mall.StoresFunc {
	return func(ctx context.Context, id int64) (bool, error) {
		_, err := r.StoreByID(ctx, id)
		if domain.ErrorCode(err) == domain.NotFound {
			return false, nil
		}
		return err == nil, err
	}
}

// tierCodes are the configured tier codes, lowest first.
func tierCodes(levels []tier.Level) []string {
	codes := make([]string, 0, len(levels))
	for _, l := range levels {
		codes = append(codes, l.Code)
	}
	return codes
}
