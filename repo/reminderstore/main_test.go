package reminderstore_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/reminderstore"
	"github.com/jifen/jifen/wechat"
	"github.com/jifen/jifen/wechat/sim"
)

// The crash test re-executes this binary as a dispatcher child (see
// TestCampaignKilledMidSendNeverSendsTwice); these variables tell it where
// the database and the parent's simulator are.
const (
	envChild   = "JIFEN_REMIND_CHILD"
	envDialect = "JIFEN_REMIND_DIALECT"
	envDSN     = "JIFEN_REMIND_DSN"
	envSim     = "JIFEN_REMIND_SIM"
)

var simServer *sim.Server

// simClock is the simulator's clock: the running dispatch test's fake clock
// (those tests do not run in parallel), so robot windows follow it.
var simClock atomic.Pointer[domain.FakeClock]

func init() { simClock.Store(domain.NewFakeClock(time.Now())) }

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		os.Exit(runChild())
	}
	simServer = sim.New(func() time.Time { return simClock.Load().Now() })
	srv := httptest.NewServer(simServer)
	if err := wechat.UseSimulator(srv.URL); err != nil {
		panic(err)
	}
	simURL = srv.URL
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

var simURL string

// senders returns the channels' WeChat senders with tokens cached in rdb.
func senders(rdb redis.UniversalClient, prefix string) map[reminder.Channel]reminder.Sender {
	cache := wechat.NewRedisCache(rdb, prefix)
	return map[reminder.Channel]reminder.Sender{
		reminder.Subscribe: &wechat.SubscribeSender{Mini: wechat.NewMiniProgram("wx-sim-mini", "sim-secret", cache)},
		reminder.Template:  &wechat.TemplateSender{Official: wechat.NewOfficial("wx-sim-official", "sim-secret", cache), MiniAppID: "wx-sim-mini"},
		reminder.WeCom:     &wechat.AppMessageSender{Work: wechat.NewWork("ww-sim-corp", "sim-work-secret", "1000002", cache)},
		reminder.Robot:     wechat.RobotSender{},
	}
}

// runChild drains the outbox with the real clock until killed.
func runChild() int {
	if err := wechat.UseSimulator(os.Getenv(envSim)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var db *repo.DB
	var err error
	if os.Getenv(envDialect) == string(repo.MySQL) {
		db, err = repo.OpenMySQL(os.Getenv(envDSN))
	} else {
		db, err = repo.OpenSQLite(os.Getenv(envDSN))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return 2
	}
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{mr.Addr()}})
	d := &reminder.Dispatcher{Store: &reminderstore.Outbox{DB: db}, Tx: db, Clock: domain.SystemClock{},
		Senders: senders(rdb, "child:"), Owner: "child", Batch: 8, Workers: 2, Chunk: 4, Lease: time.Minute}
	for {
		if _, err := d.Drain(context.Background()); err != nil && !strings.Contains(err.Error(), "context") {
			fmt.Fprintln(os.Stderr, "child:", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
