package reminder

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// ExpiringLister lists members' points expiring in a window (the ledger).
type ExpiringLister interface {
	ExpiringBetween(ctx context.Context, from, to time.Time, afterMember int64, limit int) ([]ledger.MemberExpiring, error)
}

// RecipientStore resolves members to what a message needs (openid,
// nickname); members it does not know are absent from the map.
type RecipientStore interface {
	Recipients(ctx context.Context, memberIDs []int64) (map[int64]Recipient, error)
}

// SubscribeTemplate is the subscribe message the automatic reminders send.
// Fields' values may use {{points}}, {{expire_date}} and {{nickname}}.
type SubscribeTemplate struct {
	WeChatID string
	Page     string
	Fields   map[string]string
}

// AutoReminders enqueues the T−30/T−7/T−1 expiry reminders: for every
// offset, one subscribe message per member whose available points expire
// on the Shanghai day now+offset, summed over all the member's lots. The
// campaign "auto:<offset>:<expiry day>" makes a rerun enqueue nothing new.
type AutoReminders struct {
	Ledger     ExpiringLister
	Recipients RecipientStore
	Outbox     OutboxStore
	Template   SubscribeTemplate
	Offsets    []int      // days before expiry
	Quiet      QuietHours // sends wait outside this window
	Page       int        // members per ledger page (500 when 0)
}

// AutoReport counts what one Run enqueued per offset.
type AutoReport struct {
	Members  map[int]int // offset → members with points expiring that day
	Enqueued map[int]int // offset → new outbox rows
}

// Run enqueues the reminders due on the Shanghai day of now.
func (a *AutoReminders) Run(ctx context.Context, now time.Time) (AutoReport, error) {
	rep := AutoReport{Members: map[int]int{}, Enqueued: map[int]int{}}
	page := a.Page
	if page <= 0 {
		page = 500
	}
	today := domain.DayOf(now)
	for _, off := range a.Offsets {
		day := today.AddDays(off)
		campaign := fmt.Sprintf("auto:%d:%s", off, day)
		from, to := day.Start(), day.AddDays(1).Start()
		after := int64(0)
		for {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			exp, err := a.Ledger.ExpiringBetween(ctx, from, to, after, page)
			if err != nil {
				return rep, fmt.Errorf("%s: expiring points: %w", campaign, err)
			}
			if len(exp) == 0 {
				break
			}
			after = exp[len(exp)-1].MemberID
			ids := make([]int64, len(exp))
			for i, e := range exp {
				ids[i] = e.MemberID
			}
			rcpt, err := a.Recipients.Recipients(ctx, ids)
			if err != nil {
				return rep, fmt.Errorf("%s: recipients: %w", campaign, err)
			}
			ds := make([]Delivery, 0, len(exp))
			for _, e := range exp {
				if e.Amount <= 0 {
					continue
				}
				ds = append(ds, a.delivery(campaign, now, day, e, rcpt[e.MemberID]))
			}
			n, err := a.Outbox.Enqueue(ctx, ds)
			if err != nil {
				return rep, fmt.Errorf("%s: enqueue: %w", campaign, err)
			}
			rep.Members[off] += len(ds)
			rep.Enqueued[off] += n
			if len(exp) < page {
				break
			}
		}
	}
	return rep, nil
}

func (a *AutoReminders) delivery(campaign string, now time.Time, day domain.Day, e ledger.MemberExpiring, r Recipient) Delivery {
	vars := map[string]string{"points": FormatPoints(e.Amount), "expire_date": ChineseDate(day), "nickname": r.Nickname}
	msg := Message{To: r.OpenID, TemplateID: a.Template.WeChatID, Page: a.Template.Page, Data: map[string]string{},
		Text: fmt.Sprintf("您有 %s 积分将于 %s 过期", vars["points"], vars["expire_date"])}
	for k, v := range a.Template.Fields {
		msg.Data[k] = render(v, vars)
	}
	d := Delivery{Campaign: campaign, MemberID: e.MemberID, Channel: Subscribe, Message: msg, NextAt: now, Quiet: a.Quiet}
	if r.OpenID == "" {
		// Kept as a row so the report shows who could not be reached.
		d.Status, d.Reason = Skipped, "member has no mini-program openid"
	}
	return d
}

// render replaces {{name}} placeholders with vars.
func render(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

// FormatPoints writes n with thousands separators: 1200 → "1,200".
func FormatPoints(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ChineseDate writes a day as month and day: "12月31日".
func ChineseDate(d domain.Day) string { return fmt.Sprintf("%d月%d日", int(d.Month), d.Day) }
