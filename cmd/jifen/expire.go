package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/jifen/jifen/cmd/jifen/app"
	"github.com/jifen/jifen/configs"
)

// expire runs today's expiry job once: it expires every lot due now,
// resuming ranges a crashed run left and sharing the work with any other
// instance running it. Running it again the same day is a no-op.
func expire(ctx context.Context, cfg *configs.Config, log *slog.Logger, stdout, stderr io.Writer) int {
	st, err := app.OpenExistingStores(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "jifen expire:", err)
		return 1
	}
	defer st.Close()
	a, err := app.New(cfg, st, app.Options{Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "jifen expire:", err)
		return 1
	}
	now := a.Clock.Now()
	var bar *progress
	a.Reminder.Expiry.Progress = func(finished, ranges int) {
		if bar == nil {
			bar = newProgress(stderr, "expire: member ranges", ranges)
		}
		bar.step(finished)
	}
	rep, err := a.Reminder.Expiry.Run(ctx, now)
	if bar != nil {
		bar.done()
	}
	if err != nil {
		fmt.Fprintf(stderr, "jifen expire: %v (after %d lots; rerun to resume)\n", err, rep.Expired)
		return 1
	}
	fmt.Fprintf(stdout, "expired %d lots of %d members in %d ranges for %s\n", rep.Expired, rep.Members, rep.Ranges, rep.Day)
	return 0
}
