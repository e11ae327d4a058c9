package reminderstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
)

// TestOutboxFitsKeywordValuesBeforeSpendingTheSubscription sends subscribe
// messages whose values break WeChat's keyword rules, chunked and row by
// row: a value that can be cut is cut and delivered; one that cannot (a
// date without its year, letters in a number) fails here, without a call
// to WeChat and without spending the member's subscription.
func TestOutboxFitsKeywordValuesBeforeSpendingTheSubscription(t *testing.T) {
	for _, chunk := range []int{4, 1} {
		t.Run(map[int]string{4: "chunked", 1: "row by row"}[chunk], func(t *testing.T) {
			f := newDispatchFixture(t, time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai))
			f.d.Chunk = chunk
			long := strings.Repeat("积", 30)
			data := []map[string]string{
				{"thing1": long, "date2": "2027年1月5日"},
				{"thing1": "ok", "number3": "12a"},
				{"thing1": "ok", "date2": "1月5日"},
				{"thing1": "ok", "number3": "1,200"},
			}
			var ds []reminder.Delivery
			for i, d := range data {
				m := int64(i + 1)
				if err := f.outbox.AddQuota(f.ctx, m, []string{"tmpl-fit"}, f.clock.Now()); err != nil {
					t.Fatal(err)
				}
				simServer.GrantSubscription(f.openid(i+1), "tmpl-fit", 1)
				ds = append(ds, reminder.Delivery{Campaign: "fit", MemberID: m, Channel: reminder.Subscribe, NextAt: f.clock.Now(),
					Message: reminder.Message{To: f.openid(i + 1), TemplateID: "tmpl-fit", Data: d}})
			}
			if _, err := f.outbox.Enqueue(f.ctx, ds); err != nil {
				t.Fatal(err)
			}
			rep, err := f.d.Drain(f.ctx)
			if err != nil || rep.Sent != 2 || rep.Failed != 2 {
				t.Fatalf("drain %+v %v, want 2 sent and 2 failed", rep, err)
			}
			got := simServer.Delivered(f.openid(1))
			if len(got) != 1 || got[0].Data["thing1"].(map[string]any)["value"] != strings.Repeat("积", 19)+"…" {
				t.Fatalf("member 1 received %+v, want thing1 cut to 20 characters", got)
			}
			if got := simServer.Delivered(f.openid(4)); len(got) != 1 || got[0].Data["number3"].(map[string]any)["value"] != "1200" {
				t.Fatalf("member 4 received %+v, want number3 1200", got)
			}
			rows, err := f.outbox.Deliveries(f.ctx, "fit")
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range rows {
				if d.MemberID != 2 && d.MemberID != 3 {
					continue
				}
				if d.Status != reminder.Failed || !strings.Contains(d.Reason, "not sent") {
					t.Fatalf("member %d row %+v, want failed before sending", d.MemberID, d)
				}
				if n := len(simServer.Delivered(f.openid(int(d.MemberID)))); n != 0 {
					t.Fatalf("member %d: %d messages reached WeChat", d.MemberID, n)
				}
				if q, _ := f.outbox.Quotas(f.ctx, d.MemberID); q["tmpl-fit"] != 1 {
					t.Fatalf("member %d quota %d, want its subscription kept", d.MemberID, q["tmpl-fit"])
				}
			}
			for _, c := range simServer.Calls("subscribe_send") {
				if c.ErrCode != 0 && (c.Params["touser"] == f.openid(2) || c.Params["touser"] == f.openid(3)) {
					t.Fatalf("a refused value reached WeChat: %+v", c)
				}
			}
		})
	}
}
