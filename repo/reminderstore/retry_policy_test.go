package reminderstore_test

import (
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/wechat/sim"
)

// The outbox waits as long as each WeChat refusal asks (issue 19, item 3;
// docs/features/wechat-errcodes.md): 45011 a minute, 45009 until the next
// day, and 43101 / 47003 never come back.
func TestOutboxRetryPolicyFollowsTheErrcode(t *testing.T) {
	f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
	f.d.Workers = 1
	drain := func(when string) reminder.DispatchReport {
		t.Helper()
		rep, err := f.d.Drain(f.ctx)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		return rep
	}

	f.subscribe(t, "minute", 1, 1, reminder.QuietHours{})
	if err := simServer.AddFault(sim.Fault{API: "subscribe_send", ErrCode: 45011}); err != nil {
		t.Fatal(err)
	}
	if rep := drain("45011"); rep.Retried != 1 {
		t.Fatalf("45011 (per-minute limit): %+v, want retried", rep)
	}
	f.clock.Advance(30 * time.Second)
	if rep := drain("30 s after 45011"); rep.Claimed != 0 {
		t.Fatalf("30 s after 45011: %+v, want nothing due yet", rep)
	}
	f.clock.Advance(2 * time.Minute)
	if rep := drain("after a minute"); rep.Sent != 1 {
		t.Fatalf("a minute after 45011: %+v, want sent", rep)
	}

	f.subscribe(t, "daily", 1, 1, reminder.QuietHours{}) // member 1 again, under another campaign
	if err := simServer.AddFault(sim.Fault{API: "subscribe_send", ErrCode: 45009}); err != nil {
		t.Fatal(err)
	}
	if rep := drain("45009"); rep.Retried != 1 {
		t.Fatalf("45009 (daily quota): %+v, want retried", rep)
	}
	for _, later := range []time.Duration{2 * time.Minute, time.Hour, 13 * time.Hour} { // up to 23:xx the same day
		f.clock.Advance(later)
		if rep := drain("same day"); rep.Claimed != 0 {
			t.Fatalf("%v after 45009, the same day: %+v, want nothing due before tomorrow", f.clock.Now(), rep)
		}
	}
	f.clock.Set(time.Date(2026, 11, 24, 1, 0, 0, 0, domain.Shanghai))
	if rep := drain("next day"); rep.Sent != 1 {
		t.Fatalf("the next day: %+v, want sent", rep)
	}
	if st := f.statuses(t, "daily"); st[reminder.Sent] != 1 {
		t.Fatalf("daily: %v", st)
	}
}
