package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo/auditstore"
	"github.com/jifen/jifen/repo/reminderstore"
	"github.com/jifen/jifen/wechat"
)

// Reminder holds the expiry and reminder services.
type Reminder struct {
	Expiry *reminder.ExpiryJob
	// Release makes due pending points available (the "release" job).
	Release    *reminder.ReleaseJob
	Dispatcher *reminder.Dispatcher
	Scheduler  *reminder.Scheduler
	// Auto enqueues the T−30/T−7/T−1 reminders; nil when
	// reminder.auto_templates names no template.
	Auto *reminder.AutoReminders
	// Subscriptions records the shoppers' subscribe answers (quotas).
	Subscriptions *reminder.Subscriptions
	// Campaigns are the marketers' campaigns; their runner is the
	// scheduler's "campaigns" job.
	Campaigns *reminder.Campaigns
	// Followers keeps official_followers current (push hook and daily
	// sync); nil without an official account (wechat.official.appid).
	Followers *reminder.Followers

	templates []reminder.MessageTemplate
	listers   map[reminder.Channel]reminder.TemplateLister
}

// CheckTemplates asks WeChat for the mini-program's subscribe templates
// and the official account's templates and returns a problem per
// configured template (reminder.templates) whose wechat_id the account
// lacks or whose fields are not the template's keywords. err is WeChat not
// answering. serve runs it at start.
func (r *Reminder) CheckTemplates(ctx context.Context) (problems []string, err error) {
	return reminder.CheckTemplates(ctx, r.templates, r.listers)
}

// instanceName names this process in leases.
func instanceName() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", h, os.Getpid())
}

func wireReminder(cfg *configs.Config, st *Stores, opt Options, a *App, mini *wechat.MiniProgram, work *wechat.Work, official *wechat.Official) error {
	rc := cfg.Reminder
	store := &reminderstore.Ranges{DB: st.DB}
	expiryCron, err := reminder.ParseCron("reminder.expiry_cron", rc.ExpiryCron)
	if err != nil {
		return err
	}
	releaseCron, err := reminder.ParseCron("reminder.release_cron", rc.ReleaseCron)
	if err != nil {
		return err
	}
	r := &Reminder{}
	r.Expiry = &reminder.ExpiryJob{Ledger: a.Ledger, Ranges: store, Tx: st.DB, Clock: opt.Clock, Owner: instanceName(),
		RangeSize: rc.ExpiryRangeSize, BatchSize: rc.ExpiryBatch, Lease: rc.Lease}
	r.Release = &reminder.ReleaseJob{Ledger: a.Ledger, Ranges: &reminderstore.ReleaseRanges{DB: st.DB}, Tx: st.DB, Clock: opt.Clock,
		Owner: instanceName(), RangeSize: rc.ExpiryRangeSize, BatchSize: rc.ExpiryBatch, Lease: rc.Lease}
	throttle := map[reminder.Channel]int{}
	for ch, n := range rc.ThrottlePerMinute {
		c, err := reminder.ParseChannel(ch)
		if err != nil {
			return fmt.Errorf("reminder.throttle_per_minute: %w", err)
		}
		throttle[c] = n
	}
	r.Dispatcher = &reminder.Dispatcher{Store: &reminderstore.Outbox{DB: st.DB}, Tx: st.DB, Clock: opt.Clock,
		Senders: senders(cfg, mini, work, official),
		Owner:   instanceName(), Batch: rc.Batch, Workers: rc.Workers, Chunk: rc.SendChunk, Lease: rc.Lease, MaxAttempts: rc.MaxAttempts, PerMinute: throttle}
	autoCron, err := reminder.ParseCron("reminder.auto_cron", rc.AutoCron)
	if err != nil {
		return err
	}
	quiet, err := reminder.ParseQuietHours("reminder.quiet_hours", rc.QuietHours)
	if err != nil {
		return err
	}
	if official != nil {
		r.Followers = &reminder.Followers{Source: official, Store: &reminderstore.Followers{DB: st.DB}, Clock: opt.Clock}
	}
	order := make([]reminder.Channel, 0, len(rc.Channels))
	for _, c := range rc.Channels {
		ch, err := reminder.ParseChannel(c)
		if err != nil {
			return fmt.Errorf("reminder.channels: %w", err)
		}
		if r.Dispatcher.Senders[ch] != nil {
			order = append(order, ch) // a channel nothing can send on is never chosen
		}
	}
	templates := map[reminder.Channel]reminder.MessageTemplate{}
	for c, name := range rc.AutoTemplates {
		t := rc.Templates[name] // config validation checked it exists and is for channel c
		templates[reminder.Channel(c)] = reminder.MessageTemplate{Name: name, Channel: reminder.Channel(c),
			WeChatID: t.WeChatID, Page: t.Page, Fields: t.Fields, Text: t.Text}
	}
	if len(templates) > 0 {
		r.Auto = &reminder.AutoReminders{Ledger: a.Ledger, Recipients: &reminderstore.Recipients{DB: st.DB},
			Outbox: &reminderstore.Outbox{DB: st.DB}, Offsets: rc.Offsets, Quiet: quiet, Templates: templates, Order: order,
			HoldoutPermille: rc.AutoHoldoutPermille}
	}
	followersCron, err := reminder.ParseCron("reminder.followers_sync_cron", rc.FollowersSyncCron)
	if err != nil {
		return err
	}
	r.Campaigns, err = wireCampaigns(cfg, st, opt, a, order)
	if err != nil {
		return err
	}
	r.Dispatcher.Paused = func(ctx context.Context, id int64) (bool, error) {
		c, err := r.Campaigns.Store.Campaign(ctx, id)
		if domain.ErrorCode(err) == domain.NotFound {
			return false, nil
		}
		return err == nil && c.Status == reminder.CampaignPaused, err
	}
	r.Scheduler = &reminder.Scheduler{Clock: opt.Clock, Log: opt.Logger, Jobs: []*reminder.Job{
		{Name: "expiry", When: &expiryCron, Run: func(ctx context.Context, now time.Time) error {
			rep, err := r.Expiry.Run(ctx, now)
			if err == nil {
				opt.Logger.Info("points expiry", "day", rep.Day.String(), "ranges", rep.Ranges, "lots", rep.Expired, "members", rep.Members)
			}
			return err
		}},
		{Name: "release", When: &releaseCron, Run: func(ctx context.Context, now time.Time) error {
			rep, err := r.Release.Run(ctx, now)
			if err == nil && rep.Released > 0 {
				opt.Logger.Info("pending points released", "lots", rep.Released, "members", rep.Members, "ranges", rep.Ranges)
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
		{Name: "campaigns", Run: func(ctx context.Context, now time.Time) error {
			rep, err := r.Campaigns.RunDue(ctx, now)
			if rep.Claimed > 0 {
				opt.Logger.Info("reminder campaigns", "runs", rep.Claimed, "members", rep.Members, "enqueued", rep.Enqueued, "finished", rep.Finished)
			}
			return err
		}},
		{Name: "followers-sync", When: &followersCron, Run: func(ctx context.Context, _ time.Time) error {
			if r.Followers == nil {
				return nil
			}
			rep, err := r.Followers.Sync(ctx)
			if err == nil {
				opt.Logger.Info("official-account followers", "followers", rep.Followers, "looked_up", rep.LookedUp, "unsubscribed", rep.Unsubscribed)
				if rep.WithoutUnionID > 0 {
					opt.Logger.Warn("official-account followers without unionid: bind the official account to the WeChat open platform, or template reminders cannot reach them",
						"without_unionid", rep.WithoutUnionID)
				}
			}
			return err
		}},
		// Holds past their deadline (points at checkout, mall points +
		// cash) go back to the member. Every instance may run it: each hold is released under
		// its member's account lock, once (ledger.ReleaseExpiredHolds).
		// Points + cash mall redemptions unpaid by their deadline go first,
		// so their points, unit and status go back together (mall pay.go).
		{Name: "hold-timeouts", Run: func(ctx context.Context, now time.Time) error {
			if n, err := a.Mall.ExpirePayments(ctx, now, 500); err != nil {
				return err
			} else if n > 0 {
				opt.Logger.Info("unpaid mall redemptions cancelled", "redemptions", n)
			}
			n, err := a.Ledger.ReleaseExpiredHolds(ctx, now, 500)
			if n > 0 {
				opt.Logger.Info("expired holds released", "holds", n)
			}
			return err
		}},
		{Name: "outbox", Run: func(ctx context.Context, _ time.Time) error {
			_, err := r.Dispatcher.Drain(ctx)
			return err
		}},
	}}
	// Templates of a channel that is off are not checked: nothing is sent
	// with them.
	r.listers = map[reminder.Channel]reminder.TemplateLister{}
	if cfg.ReminderChannelOn(string(reminder.Subscribe)) {
		r.listers[reminder.Subscribe] = mini
	}
	if official != nil && cfg.ReminderChannelOn(string(reminder.Template)) {
		r.listers[reminder.Template] = official
	}
	for name, t := range rc.Templates {
		r.templates = append(r.templates, reminder.MessageTemplate{Name: "reminder.templates." + name, Channel: reminder.Channel(t.Channel),
			WeChatID: t.WeChatID, Fields: t.Fields})
	}
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

// senders are the reminder channels that are on (configs.ReminderChannelOn:
// listed in reminder.channels, their account configured). A row of a
// channel without a sender is skipped as "not configured": a campaign
// naming a channel that is off sends nothing on it.
func senders(cfg *configs.Config, mini *wechat.MiniProgram, work *wechat.Work, official *wechat.Official) map[reminder.Channel]reminder.Sender {
	all := map[reminder.Channel]reminder.Sender{reminder.Subscribe: &wechat.SubscribeSender{Mini: mini}, reminder.Robot: wechat.RobotSender{}}
	if work != nil {
		all[reminder.WeCom] = &wechat.AppMessageSender{Work: work}
	}
	if official != nil {
		all[reminder.Template] = &wechat.TemplateSender{Official: official, MiniAppID: cfg.WeChat.Mini.AppID}
	}
	on := map[reminder.Channel]reminder.Sender{}
	for ch, s := range all {
		if cfg.ReminderChannelOn(string(ch)) {
			on[ch] = s
		}
	}
	return on
}

// wireCampaigns builds the campaign service on reminder.* configuration;
// order is the channels that are on, in reminder.channels' order: a
// campaign's default.
func wireCampaigns(cfg *configs.Config, st *Stores, opt Options, a *App, order []reminder.Channel) (*reminder.Campaigns, error) {
	rc := cfg.Reminder
	cc := reminder.CampaignConfig{Templates: map[string]reminder.MessageTemplate{}, Defaults: map[reminder.Channel]string{},
		QuietHours: rc.QuietHours, Throttle: map[reminder.Channel]int{}}
	for name, t := range rc.Templates {
		cc.Templates[name] = reminder.MessageTemplate{Name: name, Channel: reminder.Channel(t.Channel), WeChatID: t.WeChatID,
			Page: t.Page, Fields: t.Fields, Text: t.Text}
	}
	for ch, name := range rc.AutoTemplates {
		cc.Defaults[reminder.Channel(ch)] = name
	}
	cc.Channels = append(cc.Channels, order...)
	for ch, n := range rc.ThrottlePerMinute {
		cc.Throttle[reminder.Channel(ch)] = n
	}
	cc.Tiers = tierCodes(cfg.Tier.DomainLevels())
	store := &reminderstore.Campaigns{DB: st.DB}
	return &reminder.Campaigns{Store: store, Audience: store, Ledger: a.Ledger,
		Recipients: &reminderstore.Recipients{DB: st.DB},
		Outbox:     &reminderstore.Outbox{DB: st.DB}, Audit: &auditstore.Store{DB: st.DB}, Tx: st.DB, Clock: opt.Clock, Config: cc, Lease: rc.Lease}, nil
}

// oaFollowers is the push hook's follower recorder: nil (not a typed nil
// pointer) without an official account.
func oaFollowers(r *Reminder) hooks.FollowerRecorder {
	if r == nil || r.Followers == nil {
		return nil
	}
	return r.Followers
}
