// Command jifen is the Jifen service and its operator tools. `jifen --help`
// lists the commands and `jifen <command> --help` each one's flags.
//
// Every command that reads the configuration takes --config FILE; JIFEN_*
// environment variables override the file (see configs/default.yaml), and
// a JIFEN_* variable that names no key is reported on start.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/jifen/jifen/cmd/jifen/app"
	"github.com/jifen/jifen/cmd/jifen/logbuf"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/repo/schema"
	"github.com/jifen/jifen/wechat/sim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exitCode ends a command with a status other than 0 after it has
// reported why itself.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// status turns a subcommand's int result into RunE's error.
func status(code int) error {
	if code == 0 {
		return nil
	}
	return exitCode(code)
}

// run executes the command line args and returns the process exit status:
// 0 on success, 1 when a command failed, 2 for a usage error (unknown
// command or flag, stray arguments).
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	default:
		c, _, _ := root.Find(args)
		if c == nil {
			c = root
		}
		fmt.Fprintf(stderr, "jifen: %v\nRun '%s --help' for usage.\n", err, c.CommandPath())
		return 2
	}
}

// cli holds what the commands share: the output streams and the --config
// flag.
type cli struct {
	stdout, stderr io.Writer
	configPath     string
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	c := &cli{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "jifen",
		Short: "Jifen, the points backend: the HTTP service and its operator tools",
		Long: `Jifen is the points and member-engagement backend of a WeChat retail brand.

With no configuration, serve runs the embedded default (SQLite in ./data, an
in-process Redis and the WeChat simulator). A MySQL DSN (mysql.dsn /
JIFEN_MYSQL_DSN) switches to production mode. Configuration: the embedded
configs/default.yaml, then --config FILE, then JIFEN_* environment variables.`,
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Bare `jifen` prints the help and fails: it is not a command.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(stderr)
			cmd.Help()
			return exitCode(2)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.PersistentFlags().StringVar(&c.configPath, "config", "", "YAML config `file` (overrides the embedded defaults; JIFEN_* variables override it)")
	root.AddCommand(
		c.serveCmd(),
		c.migrateCmd(),
		c.wechatSimCmd(),
		c.helloWorldCmd(),
		c.reconcileCmd(),
		c.dailyCmd("birthdays", "Pay today's birthday bonuses, once per member and year"),
		c.dailyCmd("tier-review", "Run the yearly tier reviews that are due (downgrades)"),
		c.dailyCmd("store-summaries", "Send each store group's robot the daily expiring-points summary"),
		c.dailyCmd("followers-sync", "Copy the official account's follower list into official_followers (also daily in serve)"),
		c.expireCmd(),
		c.analyticsCmd(),
		c.seedCmd(),
		c.hashPasswordCmd(),
		c.healthcheckCmd(),
		c.loadtestCmd(),
		c.versionCmd(),
	)
	return root
}

// config loads the configuration and its logger: JSON slog on stderr, the
// default logger too, which go-redis's and go-sql-driver's own lines go to. It reports JIFEN_* variables that name no key.
func (c *cli) config() (*configs.Config, *slog.Logger, error) {
	log := slog.New(slog.NewJSONHandler(c.stderr, nil))
	slog.SetDefault(log)
	app.LogRedisToSlog()
	app.LogMySQLToSlog()
	environ := os.Environ()
	for _, u := range configs.UnknownEnv(environ) {
		if u.Suggest != "" {
			log.Warn(fmt.Sprintf("unknown environment variable %s ignored; did you mean %s?", u.Name, u.Suggest))
		} else {
			log.Warn(fmt.Sprintf("unknown environment variable %s ignored: it names no configuration key", u.Name))
		}
	}
	cfg, err := configs.Load(c.configPath, environ)
	if err != nil {
		fmt.Fprintln(c.stderr, "jifen:", err)
		return nil, nil, exitCode(1)
	}
	return cfg, log, nil
}

// logEvery is how long serve keeps its info lines before writing them: a
// process killed outright loses at most this much of its access log.
const logEvery = 100 * time.Millisecond

func (c *cli) serveCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP service (embedded SQLite + Redis + WeChat simulator by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := c.config()
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("addr") {
				cfg.Server.Addr = addr
			}
			// One access line a request: written together, not one
			// write(2) each; warnings and errors at once (logbuf).
			lw := logbuf.New(c.stderr, logEvery)
			defer lw.Close()
			log := slog.New(logbuf.Handler(slog.NewJSONHandler(lw, nil), lw))
			slog.SetDefault(log)
			return status(serve(cmd.Context(), cfg, log))
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen `host:port` (overrides server.addr / JIFEN_SERVER_ADDR)")
	return cmd
}

func (c *cli) migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations (idempotent; run before each deploy)",
		Long: "Apply the database migrations not yet recorded in schema_migrations, in version order.\n" +
			"On MySQL a named lock keeps two instances from migrating at once; one that waits\n" +
			"more than a minute for it fails without applying anything.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := c.config()
			if err != nil {
				return err
			}
			st, err := app.OpenStores(cmd.Context(), cfg, true)
			if err != nil {
				fmt.Fprintln(c.stderr, "jifen migrate:", err)
				return exitCode(1)
			}
			defer st.Close()
			fmt.Fprintf(c.stdout, "migrated %s\n", st.Describe)
			return nil
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "List every migration: applied (when) or pending; exit status 1 when any is pending",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := c.config()
			if err != nil {
				return err
			}
			st, err := app.OpenExistingStores(cmd.Context(), cfg)
			if err != nil {
				fmt.Fprintln(c.stderr, "jifen migrate status:", err)
				return exitCode(1)
			}
			defer st.Close()
			states, err := st.DB.MigrationStatus(cmd.Context(), schema.All())
			if err != nil {
				fmt.Fprintln(c.stderr, "jifen migrate status:", err)
				return exitCode(1)
			}
			pending := 0
			for _, s := range states {
				state := "pending"
				switch {
				case s.Unknown:
					state = "applied " + s.AppliedAt.UTC().Format(time.RFC3339) + " (not in this release: a newer one applied it)"
				case s.AppliedAt != nil:
					state = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
				default:
					pending++
				}
				fmt.Fprintf(c.stdout, "%5d  %-48s %s\n", s.Version, s.Name, state)
			}
			fmt.Fprintf(c.stdout, "%d migrations, %d pending (%s)\n", len(states), pending, st.Describe)
			if pending > 0 {
				return exitCode(1)
			}
			return nil
		},
	})
	return cmd
}

func (c *cli) wechatSimCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "wechat-sim",
		Short: "Run the WeChat/WeCom simulator alone",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewJSONHandler(c.stderr, nil))
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				log.Error("listen (--addr)", "addr", addr, "err", err.Error())
				return exitCode(1)
			}
			return status(serveHTTP(cmd.Context(), log, ln, sim.New(time.Now), 5*time.Second, nil))
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:9090", "listen `host:port`")
	return cmd
}

func (c *cli) reconcileCmd() *cobra.Command {
	var member int64
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Check the ledger invariants of every account; exit 1 on drift",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := c.config()
			if err != nil {
				return err
			}
			return status(reconcile(cmd.Context(), cfg, member, c.stdout, c.stderr))
		},
	}
	cmd.Flags().Int64Var(&member, "member", 0, "check only this member `id`")
	return cmd
}

// dailyCmd hosts one of the once-a-day jobs (daily.go); birthdays also
// takes --day.
func (c *cli) dailyCmd(name, short string) *cobra.Command {
	var day string
	cmd := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := c.config()
			if err != nil {
				return err
			}
			return status(daily(cmd.Context(), cfg, name, day, c.stdout, c.stderr))
		},
	}
	if name == "birthdays" {
		cmd.Flags().StringVar(&day, "day", "", "replay this Asia/Shanghai day (`YYYY-MM-DD`) instead of today")
	}
	return cmd
}

func (c *cli) expireCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "expire",
		Short: "Expire every lot due now, in leased member ranges (resumable; a rerun is a no-op)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := c.config()
			if err != nil {
				return err
			}
			return status(expire(cmd.Context(), cfg, log, c.stdout, c.stderr))
		},
	}
}

func (c *cli) hashPasswordCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "hash-password",
		Short: "Read a console password on stdin, print its bcrypt hash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return status(hashPassword(cmd.InOrStdin(), c.stdout, c.stderr))
		},
	}
}

func serve(ctx context.Context, cfg *configs.Config, log *slog.Logger) int {
	if !cfg.Production() {
		// One serve per embedded data_dir, before anything opens it.
		release, warn, err := lockDataDir(cfg.DataDir)
		if err != nil {
			log.Error("data_dir", "err", err.Error())
			return 1
		}
		if warn != "" {
			log.Warn(warn)
		}
		defer release()
	}
	st, err := app.OpenStores(ctx, cfg, false)
	if err != nil {
		log.Error("open stores", "err", err.Error())
		return 1
	}
	// MySQL is migrated by `jifen migrate`, not by serve (the embedded
	// SQLite file is migrated on open): a database without this release's
	// tables stops serve here, not in every request and job.
	if cfg.Production() {
		if err := app.CheckMigrated(ctx, st.DB); err != nil {
			st.Close()
			log.Error("database not migrated", "err", err.Error())
			return 1
		}
	}
	if err := app.CheckRedisSettings(ctx, cfg, st); err != nil {
		st.Close()
		log.Error("redis settings", "err", err.Error())
		return 1
	}
	a, err := app.New(cfg, st, app.Options{Logger: log})
	if err != nil {
		st.Close()
		log.Error("build app", "err", err.Error())
		return 1
	}
	wc := "real WeChat"
	if cfg.UseSimulator() {
		wc = "WeChat simulator"
		if a.Sim != nil {
			wc = "in-process WeChat simulator at /_sim/"
		}
	}
	mode := "production mode"
	if !cfg.Production() {
		mode = "EMBEDDED MODE: for trying Jifen and for tests, NOT for production"
	}
	// Both ports before the banner and the jobs: a port serve cannot have
	// stops it at once, with that cause alone (not after the banner, with
	// the jobs failing against the stores it closed).
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		st.Close()
		log.Error("listen (server.addr)", "addr", cfg.Server.Addr, "err", err.Error())
		return 1
	}
	var adminLn net.Listener
	if cfg.Server.MetricsAddr != configs.MetricsOff {
		if adminLn, err = net.Listen("tcp", cfg.Server.MetricsAddr); err != nil {
			ln.Close()
			st.Close()
			log.Error("listen for metrics (server.metrics_addr)", "addr", cfg.Server.MetricsAddr, "err", err.Error())
			return 1
		}
	}
	if cfg.Reminder.Jobs {
		go a.Reminder.Scheduler.Loop(ctx, cfg.Reminder.DispatchEvery)
	}
	a.Start(ctx)
	log.Info(fmt.Sprintf("jifen %s listening on http://%s — %s + %s — %s", buildVersion().Version, cfg.Server.Addr, st.Describe, wc, mode))
	// The templates are checked once the port answers: the in-process
	// simulator is served on it.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	failed := make(chan struct{})
	check := func() {
		if !checkTemplates(ctx, a, log) {
			close(failed)
			stop()
		}
	}
	if adminLn != nil {
		defer serveAdmin(log, adminLn, a.Admin)()
	}
	code := serveHTTP(ctx, log, ln, a.Handler, cfg.Server.ShutdownTimeout, st.Close, check)
	select {
	case <-failed:
		return 1
	default:
		return code
	}
}

// checkTemplates compares the configured subscribe and template messages
// with the templates WeChat lists for the accounts: a template WeChat does
// not have, or fields that are not its keywords, stop serve (the messages
// would arrive empty or be refused). WeChat not answering is only logged,
// so an outage does not keep the service down.
func checkTemplates(ctx context.Context, a *app.App, log *slog.Logger) bool {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	problems, err := a.Reminder.CheckTemplates(ctx)
	for _, p := range problems {
		log.Error("message template does not match WeChat's", "problem", p)
	}
	if err != nil {
		log.Warn("message templates not checked: WeChat did not answer", "err", err.Error())
	}
	return len(problems) == 0
}

// A client has this long to send a whole request (headers and body), and
// an idle keep-alive connection is closed after idleTimeout: a client that
// trickles a body a byte at a time holds a connection and its goroutine
// for no longer than that. There is no write timeout: a CSV export or a
// CPU profile streams for as long as it takes.
const (
	requestReadTimeout = 30 * time.Second
	idleTimeout        = 2 * time.Minute
)

// newHTTPServer is the server of both listeners.
func newHTTPServer(h http.Handler, readTimeout time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: min(10*time.Second, readTimeout), ReadTimeout: readTimeout, IdleTimeout: idleTimeout}
}

// serveAdmin serves /metrics and /debug/pprof/ on their own listener until
// the returned stop is called. (serve listens on it first: a port that
// cannot be had is an error, since an operator who configured metrics
// expects them.)
func serveAdmin(log *slog.Logger, ln net.Listener, h http.Handler) (stop func()) {
	// No write timeout: a CPU profile streams for its ?seconds=.
	srv := newHTTPServer(h, requestReadTimeout)
	go func() { _ = srv.Serve(ln) }()
	log.Info("metrics and profiles", "addr", "http://"+ln.Addr().String()+"/metrics")
	return func() { _ = srv.Close() }
}

// serveHTTP serves h on ln until ctx ends, lets in-flight requests finish,
// then runs closeStores. Each of started runs once the port listens.
func serveHTTP(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler, grace time.Duration, closeStores func(), started ...func()) int {
	srv := newHTTPServer(h, requestReadTimeout)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	for _, f := range started {
		go f()
	}
	code := 0
	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing in-flight requests")
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		if err := srv.Shutdown(sctx); err != nil {
			log.Error("shutdown", "err", err.Error())
			code = 1
		}
		cancel()
	case err := <-done:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve", "err", err.Error())
			code = 1
		}
	}
	if closeStores != nil {
		closeStores()
	}
	log.Info("stopped")
	return code
}
