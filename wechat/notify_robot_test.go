package wechat

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/reminder"
)

var _ guide.StoreNotifier = RobotSender{}

func TestRobotSenderDeliversStoreSummaryAndReportsErrcodes(t *testing.T) {
	ctx := context.Background()
	// One key per run: the simulator is the package's, and -count=2 runs
	// the test again against the same deliveries.
	key := "store-summary-robot-key-" + t.Name() + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	text := "本店 3 位顾客的 1,500 积分将在 7 天内过期"
	if err := (RobotSender{}).SendStoreSummary(ctx, key, text); err != nil {
		t.Fatal(err)
	}
	got := simServer.Delivered(key)
	if len(got) != 1 || got[0].Text != text {
		t.Fatalf("delivered %+v", got)
	}
	// A bad key answers 93000 in the body with HTTP 200; the SDK returns no
	// error for it, the sender must.
	err := (RobotSender{}).SendStoreSummary(ctx, "bad-key", text)
	var se *reminder.SendError
	if !errors.As(err, &se) || se.ErrCode != 93000 {
		t.Fatalf("bad robot key: %v", err)
	}
}
