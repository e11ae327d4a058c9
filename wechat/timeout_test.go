package wechat

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/wechat/sim"
)

// A WeChat that does not answer costs a call no more than its deadline, on
// every API the service uses, and leaves no goroutine behind (issue 19,
// item 1: the SDK's calls without a context waited as long as WeChat did).
func TestEveryCallEndsAtItsDeadlineWhenWeChatStalls(t *testing.T) {
	const deadline = 300 * time.Millisecond
	c, _ := newCache(t)
	opt := WithCallTimeout(time.Minute) // the request's deadline is what bounds these calls
	mini := NewMiniProgram(fmt.Sprintf("wxstall%d", appSeq.Add(1)), "s", c, opt)
	official := NewOfficial(fmt.Sprintf("wxoastall%d", appSeq.Add(1)), "s", c, opt)
	work := NewWork(fmt.Sprintf("wwstall%d", appSeq.Add(1)), "s", "1000002", c, opt)
	user := fmt.Sprintf("stall-%d", appSeq.Add(1))
	msg := reminder.Message{To: sim.OfficialOpenID(user), TemplateID: "oa-tmpl", Text: "t", Data: map[string]string{"thing1": "x"}}

	paths := []struct {
		api  string
		call func(ctx context.Context) error
	}{
		{"jscode2session", func(ctx context.Context) error { _, err := mini.Code2Session(ctx, "sim-code-"+user); return err }},
		{"getuserphonenumber", func(ctx context.Context) error { _, err := mini.PhoneNumber(ctx, "sim-phone-13800000000"); return err }},
		{"getwxacodeunlimit", func(ctx context.Context) error {
			_, err := mini.WXACodeUnlimit(ctx, "s=1", "pages/index/index", true)
			return err
		}},
		{"subscribe_send", func(ctx context.Context) error {
			m := msg
			m.To = "sim-openid-" + user
			return (&SubscribeSender{Mini: mini}).Send(ctx, m)
		}},
		{"template_send", func(ctx context.Context) error { return (&TemplateSender{Official: official}).Send(ctx, msg) }},
		{"user/get", func(ctx context.Context) error { _, _, err := official.FollowerPage(ctx, ""); return err }},
		{"user/info", func(ctx context.Context) error { _, err := official.Follower(ctx, msg.To); return err }},
		{"message_send", func(ctx context.Context) error {
			return (&AppMessageSender{Work: work}).Send(ctx, reminder.Message{To: "guide-" + user, Text: "t"})
		}},
		{"webhook_send", func(ctx context.Context) error {
			return RobotSender{}.Send(ctx, reminder.Message{To: "stall-robot-" + user, Text: "t"})
		}},
		{"getuserinfo", func(ctx context.Context) error { _, err := work.UserIDFromCode(ctx, "code-"+user); return err }},
		{"externalcontact/get", func(ctx context.Context) error { _, err := work.ExternalUnionID(ctx, "wm-"+user); return err }},
		{"add_msg_template", func(ctx context.Context) error {
			_, _, err := work.AddMsgTemplate(ctx, "guide-"+user, []string{"wm-" + user}, "t")
			return err
		}},
	}
	// Warm up: tokens cached and connections pooled, so the baseline counts
	// what a running service has.
	for _, p := range paths {
		_ = p.call(context.Background())
	}
	baseline := runtime.NumGoroutine()

	for _, p := range paths {
		t.Run(p.api, func(t *testing.T) {
			fault(t, fmt.Sprintf(`{"api":%q,"delay_ms":5000}`, p.api))
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			err := p.call(ctx)
			took := time.Since(start)
			if err == nil {
				t.Fatal("a stalled WeChat answered nothing, and the call reported success")
			}
			if took > deadline+500*time.Millisecond {
				t.Fatalf("the call took %v with a deadline of %v", took, deadline)
			}
			var se *reminder.SendError
			if !errors.As(err, &se) && domain.ErrorCode(err) != domain.Unavailable {
				t.Fatalf("error %v is neither a send error nor domain.Unavailable", err)
			}
		})
	}
	settle := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(settle) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after the stalls, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// Without any deadline from the caller, the configured response timeout
// still ends the wait.
func TestResponseTimeoutBoundsACallWithoutDeadline(t *testing.T) {
	if err := Configure(HTTPConfig{SimulatorURL: simURL, ResponseTimeout: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := UseSimulator(simURL); err != nil {
			t.Error(err)
		}
	})
	c, _ := newCache(t)
	mini := NewMiniProgram(fmt.Sprintf("wxrt%d", appSeq.Add(1)), "s", c, WithCallTimeout(time.Minute))
	fault(t, `{"api":"jscode2session","delay_ms":5000,"times":2}`)
	start := time.Now()
	_, err := mini.Code2Session(context.Background(), "sim-code-rt")
	if took := time.Since(start); err == nil || took > 2*time.Second {
		t.Fatalf("stalled code2session: %v after %v; want an error after about 2×200ms (one retry)", err, took)
	}
}
