package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/jifen/jifen/domain/analytics"
	"github.com/jifen/jifen/domain/reminder"
)

// analyticsJob keeps the daily facts current on every scheduler tick (a
// tick with nothing new costs one locked cursor read) and snapshots the
// outstanding points at most every snapshotEvery on this instance.
func analyticsJob(s *analytics.Service, snapshotEvery time.Duration, log *slog.Logger) *reminder.Job {
	var last time.Time
	return &reminder.Job{Name: "analytics", Run: func(ctx context.Context, now time.Time) error {
		rep, err := s.Facts(ctx)
		if err != nil {
			return err
		}
		if rep.Entries > 0 {
			log.Info("analytics facts", "entries", rep.Entries)
		}
		if now.Sub(last) < snapshotEvery {
			return nil
		}
		if err := s.Snapshot(ctx); err != nil {
			return err
		}
		last = now
		return nil
	}}
}
