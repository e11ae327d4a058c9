package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo/reminderstore"
	"github.com/jifen/jifen/wechat"
)

// Reminder holds the expiry and reminder services.
type Reminder struct {
	Expiry     *reminder.ExpiryJob
	Dispatcher *reminder.Dispatcher
	Scheduler  *reminder.Scheduler
	// Auto enqueues the T−30/T−7/T−1 reminders; nil when
	// reminder.auto_templates names no subscribe template.
	Auto *reminder.AutoReminders
	// Subscriptions records the shoppers' subscribe answers (quotas).
	Subscriptions *reminder.Subscriptions
}

// instanceName names this process in leases.
func instanceName() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", h, os.Getpid())
}

func wireReminder(cfg *configs.Config, st *Stores, opt Options, a *App, mini *wechat.MiniProgram) error {
	rc := cfg.Reminder
	store := &reminderstore.Ranges{DB: st.DB}
	expiryCron, err := reminder.ParseCron("reminder.expiry_cron", rc.ExpiryCron)
	if err != nil {
		return err
	}
	r := &Reminder{}
	r.Expiry = &reminder.ExpiryJob{Ledger: a.Ledger, Ranges: store, Tx: st.DB, Clock: opt.Clock, Owner: instanceName(),
		RangeSize: rc.ExpiryRangeSize, BatchSize: rc.ExpiryBatch, Lease: rc.Lease}
	throttle := map[reminder.Channel]int{}
	for ch, n := range rc.ThrottlePerMinute {
		c, err := reminder.ParseChannel(ch)
		if err != nil {
			return fmt.Errorf("reminder.throttle_per_minute: %w", err)
		}
		throttle[c] = n
	}
	r.Dispatcher = &reminder.Dispatcher{Store: &reminderstore.Outbox{DB: st.DB}, Tx: st.DB, Clock: opt.Clock,
		Senders: map[reminder.Channel]reminder.Sender{
			reminder.Subscribe: &wechat.SubscribeSender{Mini: mini},
			reminder.Robot:     wechat.RobotSender{},
		},
		Owner: instanceName(), Batch: rc.Batch, Workers: rc.Workers, Chunk: rc.SendChunk, Lease: rc.Lease, MaxAttempts: rc.MaxAttempts, PerMinute: throttle}
	autoCron, err := reminder.ParseCron("reminder.auto_cron", rc.AutoCron)
	if err != nil {
		return err
	}
	quiet, err := reminder.ParseQuietHours("reminder.quiet_hours", rc.QuietHours)
	if err != nil {
		return err
	}
	if name, ok := rc.AutoTemplates[string(reminder.Subscribe)]; ok {
		t := rc.Templates[name] // config validation checked it exists and is a subscribe template
		r.Auto = &reminder.AutoReminders{Ledger: a.Ledger, Recipients: &reminderstore.Recipients{DB: st.DB},
			Outbox: &reminderstore.Outbox{DB: st.DB}, Offsets: rc.Offsets, Quiet: quiet,
			Template: reminder.SubscribeTemplate{WeChatID: t.WeChatID, Page: t.Page, Fields: t.Fields}}
	}
	r.Scheduler = &reminder.Scheduler{Clock: opt.Clock, Log: opt.Logger, Jobs: []*reminder.Job{
		{Name: "expiry", When: &expiryCron, Run: func(ctx context.Context, now time.Time) error {
			rep, err := r.Expiry.Run(ctx, now)
			if err == nil {
				opt.Logger.Info("points expiry", "day", rep.Day.String(), "ranges", rep.Ranges, "lots", rep.Expired, "members", rep.Members)
			}
			return err
		}},
		{Name: "auto-reminders", When: &autoCron, Run: func(ctx context.Context, now time.Time) error {
			if r.Auto == nil {
				return nil
			}
			rep, err := r.Auto.Run(ctx, now)
			if err == nil {
				opt.Logger.Info("expiry reminders", "members", rep.Members, "enqueued", rep.Enqueued)
			}
			return err
		}},
		{Name: "outbox", Run: func(ctx context.Context, _ time.Time) error {
			_, err := r.Dispatcher.Drain(ctx)
			return err
		}},
	}}
	subTemplates := map[string]bool{}
	for _, t := range rc.Templates {
		if t.Channel == string(reminder.Subscribe) {
			subTemplates[t.WeChatID] = true
		}
	}
	r.Subscriptions = &reminder.Subscriptions{Store: &reminderstore.Outbox{DB: st.DB}, Tx: st.DB, Clock: opt.Clock, Templates: subTemplates}
	a.Reminder = r
	return nil
}
