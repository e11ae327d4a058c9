package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/wechat"
	"github.com/jifen/jifen/wechat/sim"
)

// Every subcommand that builds the service sends its WeChat calls where
// serve would: with JIFEN_WECHAT_SIMULATOR_URL set, to that simulator and
// nowhere else (issue 19, item 8: the jobs used to reach api.weixin.qq.com
// with the simulator's appid and secret).
func TestEverySubcommandHonoursTheWeChatSettings(t *testing.T) {
	target := sim.New(time.Now)
	tsrv := httptest.NewServer(target)
	defer tsrv.Close()
	// decoy stands for wherever calls went before the subcommand: real
	// WeChat, or what an earlier command in the process configured.
	decoy := sim.New(time.Now)
	dsrv := httptest.NewServer(decoy)
	defer dsrv.Close()
	migratedDataDir(t)
	t.Setenv("JIFEN_WECHAT_SIMULATOR", "true")
	t.Setenv("JIFEN_WECHAT_SIMULATOR_URL", tsrv.URL)

	for _, cmd := range []string{"birthdays", "tier-review", "store-summaries", "expire", "followers-sync"} {
		t.Run(cmd, func(t *testing.T) {
			if err := wechat.UseSimulator(dsrv.URL); err != nil {
				t.Fatal(err)
			}
			target.ClearCalls()
			var out, errb bytes.Buffer
			if code := run([]string{cmd}, &out, &errb); code != 0 {
				t.Fatalf("jifen %s: exit %d: %s %s", cmd, code, out.String(), errb.String())
			}
			// A WeChat call made after the command has run goes where the
			// command sent its own.
			probe := "probe-" + cmd
			_ = wechat.RobotSender{}.Send(context.Background(), reminder.Message{To: probe, Text: "probe"})
			if n := countKey(target.Calls("webhook_send"), probe); n != 1 {
				t.Fatalf("after jifen %s the configured simulator got %d WeChat calls, the decoy %d", cmd, n, countKey(decoy.Calls("webhook_send"), probe))
			}
			if cmd == "followers-sync" && len(target.Calls("user/get")) == 0 {
				t.Fatalf("followers-sync did not list the followers at the configured simulator: %+v", target.Calls(""))
			}
		})
	}
}

func countKey(calls []sim.Call, key string) int {
	n := 0
	for _, c := range calls {
		if c.Params["key"] == key {
			n++
		}
	}
	return n
}
