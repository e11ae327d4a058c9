package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo/reminderstore"
)

// Reminder holds the expiry and reminder services.
type Reminder struct {
	Expiry    *reminder.ExpiryJob
	Scheduler *reminder.Scheduler
}

// instanceName names this process in leases.
func instanceName() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", h, os.Getpid())
}

func wireReminder(cfg *configs.Config, st *Stores, opt Options, a *App) error {
	rc := cfg.Reminder
	store := &reminderstore.Ranges{DB: st.DB}
	expiryCron, err := reminder.ParseCron("reminder.expiry_cron", rc.ExpiryCron)
	if err != nil {
		return err
	}
	r := &Reminder{}
	r.Expiry = &reminder.ExpiryJob{Ledger: a.Ledger, Ranges: store, Tx: st.DB, Clock: opt.Clock, Owner: instanceName(),
		RangeSize: rc.ExpiryRangeSize, BatchSize: rc.ExpiryBatch, Lease: rc.Lease}
	r.Scheduler = &reminder.Scheduler{Clock: opt.Clock, Log: opt.Logger, Jobs: []*reminder.Job{
		{Name: "expiry", When: &expiryCron, Run: func(ctx context.Context, now time.Time) error {
			rep, err := r.Expiry.Run(ctx, now)
			if err == nil {
				opt.Logger.Info("points expiry", "day", rep.Day.String(), "ranges", rep.Ranges, "lots", rep.Expired, "members", rep.Members)
			}
			return err
		}},
	}}
	a.Reminder = r
	return nil
}
