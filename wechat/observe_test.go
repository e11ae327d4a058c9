package wechat

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/reminder"
)

// observed records what the CallObserver hears while the test runs, as
// "api errcode" ("api no_answer" for an error without errcode).
func observed(t *testing.T) func() []string {
	t.Helper()
	var mu sync.Mutex
	var got []string
	ObserveCalls(func(api string, code int64, err error) {
		label := strconv.FormatInt(code, 10)
		if code == 0 && err != nil {
			label = "no_answer"
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, api+" "+label)
	})
	t.Cleanup(func() { ObserveCalls(nil) })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// Every attempt of a call is observed, the token fetches and the reminder
// sends too (jifen_wechat_calls_total counted neither): a subscribe send
// refused with 40001 is a token fetch, the refused send, the refresh's
// fetches and the send again.
func TestEveryAttemptIsObserved(t *testing.T) {
	got := observed(t)
	mini, _ := newMini(t)
	openid := fmt.Sprintf("sim-openid-observe-%d", appSeq.Add(1))
	simServer.GrantSubscription(openid, "tmpl-expiry", 1)
	fault(t, `{"api":"subscribe_send","errcode":40001,"times":1}`)
	err := (&SubscribeSender{Mini: mini}).Send(context.Background(), reminder.Message{To: openid, TemplateID: "tmpl-expiry",
		Data: map[string]string{"thing1": "1,200 积分"}})
	if err != nil {
		t.Fatal(err)
	}
	key := "observe-robot-key-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := (RobotSender{}).Send(context.Background(), reminder.Message{To: key, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	// The refresh asks plainly, is answered the refused token, and forces.
	want := []string{"stable_token 0", "subscribe/send 40001", "stable_token 0", "stable_token 0", "subscribe/send 0", "webhook/send 0"}
	if g := got(); !reflect.DeepEqual(g, want) {
		t.Fatalf("observed %q, want %q", g, want)
	}
}

// A WeCom token fetch is observed with WeChat's errcode, and the call it
// was for, never made, is not observed as an attempt.
func TestAFailedTokenFetchIsObservedAsItself(t *testing.T) {
	got := observed(t)
	c, _ := newCache(t)
	w := NewWork(fmt.Sprintf("wwobserve%d", appSeq.Add(1)), "bad", "1000002", c)
	if _, err := w.UserIDFromCode(context.Background(), "some-code"); err == nil {
		t.Fatal("a refused secret logged a guide in")
	}
	if g, want := got(), []string{"gettoken 40001"}; !reflect.DeepEqual(g, want) {
		t.Fatalf("observed %q, want %q", g, want)
	}
}
