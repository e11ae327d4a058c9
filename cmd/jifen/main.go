// Command jifen is the Jifen service and its operator tools.
//
//	jifen serve        run the HTTP service (embedded SQLite + Redis + WeChat simulator by default)
//	jifen migrate      apply database migrations (idempotent)
//	jifen wechat-sim   run the WeChat/WeCom simulator alone
//	jifen reconcile    check every ledger invariant (--member ID for one member)
//	jifen birthdays    pay today's birthday bonuses (--day YYYY-MM-DD to replay a day)
//	jifen tier-review  run the yearly tier reviews that are due
//	jifen store-summaries  send each store group's robot its expiring-points summary
//	jifen expire       expire today's due points now (resumable, idempotent)
//	jifen followers-sync  copy the official account's followers into official_followers now
//	jifen version      print the version
//
// Every subcommand takes --config FILE; JIFEN_* environment variables
// override the file (see configs/default.yaml).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/wechat/sim"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: jifen <command> [--config FILE] [flags]

commands:
  serve        run the HTTP service
  migrate      apply database migrations
  wechat-sim   run the WeChat/WeCom simulator alone (--addr)
  reconcile    check the ledger invariants of every account (--member ID for one); exit 1 on drift
  birthdays    pay today's birthday bonuses once per member and year (--day YYYY-MM-DD replays a day)
  tier-review  run the yearly tier reviews that are due (downgrades)
  store-summaries  send each store group's robot the daily expiring-points summary
  expire       expire every lot due now, in leased member ranges (resumable; a rerun is a no-op)
  followers-sync  copy the official account's follower list into official_followers (also daily in serve)
  hash-password  read a console password on stdin, print its bcrypt hash
  version      print the version
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML config file (overrides the embedded defaults)")
	addr := fs.String("addr", "127.0.0.1:9090", "listen address (wechat-sim)")
	memberID := fs.Int64("member", 0, "member id (reconcile)")
	day := fs.String("day", "", "YYYY-MM-DD (birthdays)")
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "jifen", version)
		return 0
	case "hash-password":
		return hashPassword(os.Stdin, stdout, stderr)
	case "wechat-sim":
		return serveHTTP(ctx, log, *addr, sim.New(time.Now), 5*time.Second, nil)
	case "serve", "migrate", "reconcile", "birthdays", "tier-review", "expire", "store-summaries", "followers-sync":
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	cfg, err := configs.Load(*cfgPath, os.Environ())
	if err != nil {
		fmt.Fprintln(stderr, "jifen:", err)
		return 1
	}
	switch cmd {
	case "migrate":
		st, err := app.OpenStores(ctx, cfg, true)
		if err != nil {
			fmt.Fprintln(stderr, "jifen migrate:", err)
			return 1
		}
		defer st.Close()
		fmt.Fprintf(stdout, "migrated %s\n", st.Describe)
		return 0
	case "reconcile":
		return reconcile(ctx, cfg, *memberID, stdout, stderr)
	case "birthdays", "tier-review", "store-summaries", "followers-sync":
		return daily(ctx, cfg, cmd, *day, stdout, stderr)
	case "expire":
		return expire(ctx, cfg, log, stdout, stderr)
	default: // serve
		return serve(ctx, cfg, log)
	}
}

func serve(ctx context.Context, cfg *configs.Config, log *slog.Logger) int {
	st, err := app.OpenStores(ctx, cfg, false)
	if err != nil {
		log.Error("open stores", "err", err.Error())
		return 1
	}
	a, err := app.New(cfg, st, app.Options{Clock: domain.SystemClock{}, Logger: log})
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
	if cfg.Reminder.Jobs {
		go a.Reminder.Scheduler.Loop(ctx, cfg.Reminder.DispatchEvery)
	}
	log.Info(fmt.Sprintf("jifen %s listening on http://%s — %s + %s — %s", version, cfg.Server.Addr, st.Describe, wc, mode))
	return serveHTTP(ctx, log, cfg.Server.Addr, a.Handler, cfg.Server.ShutdownTimeout, st.Close)
}

// serveHTTP serves h until ctx ends, lets in-flight requests finish, then
// runs closeStores.
func serveHTTP(ctx context.Context, log *slog.Logger, addr string, h http.Handler, grace time.Duration, closeStores func()) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("listen", "addr", addr, "err", err.Error())
		if closeStores != nil {
			closeStores()
		}
		return 1
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
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
