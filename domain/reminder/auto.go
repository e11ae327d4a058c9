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

// EnqueuedMembers tells which members already have a row of a campaign,
// on any channel (the outbox store).
type EnqueuedMembers interface {
	EnqueuedMembers(ctx context.Context, campaign string, memberIDs []int64) (map[int64]bool, error)
}

// AutoOutbox is the outbox as the automatic reminders use it.
type AutoOutbox interface {
	OutboxStore
	EnqueuedMembers
}

// AutoReminders enqueues the T−30/T−7/T−1 expiry reminders: for every
// offset, one message per member whose available points expire on the
// Shanghai day now+offset, summed over all the member's lots, on the first
// channel of Order that reaches the member (see Choose); a member no
// channel reaches gets a skipped row on channel "none" with the reason.
//
// The campaign "auto:<offset>:<expiry day>" holds at most one row per
// member: a rerun skips members the campaign already has a row for, on
// any channel, so a member who gained a channel since (a subscription, a
// guide) is not reminded twice. Choice is deterministic, so two instances
// running at once pick the same channel and the outbox's unique key keeps
// one row.
type AutoReminders struct {
	Ledger     ExpiringLister
	Recipients RecipientStore
	Outbox     AutoOutbox
	// Templates are the messages per channel (reminder.auto_templates);
	// a channel without one is never chosen.
	Templates map[Channel]MessageTemplate
	Order     []Channel  // reminder.channels
	Offsets   []int      // days before expiry
	Quiet     QuietHours // sends wait outside this window
	Page      int        // members per ledger page (500 when 0)
	// HoldoutPermille is the share (‰, 0 to MaxHoldoutPermille) of the
	// members each offset's reminder leaves out at random, the control
	// group of the reminder effect (reminder.auto_holdout_permille); the
	// salt is "auto:<offset>", so a member is held out of the same offset's
	// reminder every day.
	HoldoutPermille int
}

// AutoReport counts what one Run enqueued per offset.
type AutoReport struct {
	Members  map[int]int // offset → members with points expiring that day
	Enqueued map[int]int // offset → new outbox rows
	// Channels counts the new rows per channel ("none" for skipped ones).
	Channels map[Channel]int
}

// Run enqueues the reminders due on the Shanghai day of now.
func (a *AutoReminders) Run(ctx context.Context, now time.Time) (AutoReport, error) {
	rep := AutoReport{Members: map[int]int{}, Enqueued: map[int]int{}, Channels: map[Channel]int{}}
	page := a.Page
	if page <= 0 {
		page = 500
	}
	today := domain.DayOf(now)
	for _, off := range a.Offsets {
		day := today.AddDays(off)
		campaign := AutoKeyPrefix(off) + day.String()
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
			ids := make([]int64, 0, len(exp))
			for _, e := range exp {
				if e.Amount > 0 {
					ids = append(ids, e.MemberID)
				}
			}
			rep.Members[off] += len(ids)
			done, err := a.Outbox.EnqueuedMembers(ctx, campaign, ids)
			if err != nil {
				return rep, fmt.Errorf("%s: enqueued members: %w", campaign, err)
			}
			todo := ids[:0]
			for _, id := range ids {
				if !done[id] {
					todo = append(todo, id)
				}
			}
			if len(todo) > 0 {
				rcpt, err := a.Recipients.Recipients(ctx, todo)
				if err != nil {
					return rep, fmt.Errorf("%s: recipients: %w", campaign, err)
				}
				ds := make([]Delivery, 0, len(todo))
				for _, e := range exp {
					if e.Amount > 0 && !done[e.MemberID] {
						ds = append(ds, a.delivery(campaign, off, now, day, e, rcpt[e.MemberID]))
					}
				}
				n, err := a.Outbox.Enqueue(ctx, ds)
				if err != nil {
					return rep, fmt.Errorf("%s: enqueue: %w", campaign, err)
				}
				rep.Enqueued[off] += n
				if n == len(ds) {
					for _, d := range ds {
						rep.Channels[d.Channel]++
					}
				}
			}
			if len(exp) < page {
				break
			}
		}
	}
	return rep, nil
}

// AutoKeyPrefix is the outbox campaign key prefix of every day's
// automatic reminder offset days before expiry.
func AutoKeyPrefix(offset int) string { return fmt.Sprintf("auto:%d:", offset) }

func (a *AutoReminders) delivery(campaign string, off int, now time.Time, day domain.Day, e ledger.MemberExpiring, r Recipient) Delivery {
	r.MemberID = e.MemberID // a member the store no longer knows is reached by nothing
	vars := map[string]string{"points": FormatPoints(e.Amount), "expire_date": ChineseDate(day), "nickname": r.Nickname}
	ch, to, reason := Choose(r, a.Order, a.Templates)
	var msg Message
	if ch != None {
		msg = a.Templates[ch].Render(to, vars)
	}
	if msg.Text == "" {
		// Subscribe and template messages carry fields; the text is what
		// reports (and grouped WeCom messages) show of the row.
		msg.Text = fmt.Sprintf("您有 %s 积分将于 %s 过期", vars["points"], vars["expire_date"])
	}
	d := Delivery{Campaign: campaign, MemberID: e.MemberID, Channel: ch, Message: msg, NextAt: now, Quiet: a.Quiet}
	if ch != None && HeldOut(AutoKeyPrefix(off), e.MemberID, a.HoldoutPermille) {
		holdOut(&d, now)
	}
	if ch == None {
		// Kept as a row so the report shows who could not be reached, and why.
		d.Status, d.Reason = Skipped, reason
	}
	return d
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

// ChineseDate writes a day with its year, as WeChat's date keywords want
// and as a shopper whose points expire next year needs: "2026年12月31日".
func ChineseDate(d domain.Day) string {
	return fmt.Sprintf("%d年%d月%d日", d.Year, int(d.Month), d.Day)
}
