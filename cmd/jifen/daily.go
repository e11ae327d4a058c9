package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/jifen/jifen/cmd/jifen/app"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
)

// daily runs one of the once-a-day jobs of issue #5 on the wired services:
// "birthdays" pays today's (Asia/Shanghai) birthday bonuses, once per
// member and year; "tier-review" runs the yearly tier reviews that are due.
// Both are safe to rerun. day ("YYYY-MM-DD", birthdays only) replays a
// missed day.
func daily(ctx context.Context, cfg *configs.Config, job, day string, stdout, stderr io.Writer) int {
	st, err := app.OpenExistingStores(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "jifen %s: %v\n", job, err)
		return 1
	}
	defer st.Close()
	a, err := app.New(cfg, st, app.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintf(stderr, "jifen %s: %v\n", job, err)
		return 1
	}
	return runDaily(ctx, a, job, day, stdout, stderr)
}

func runDaily(ctx context.Context, a *app.App, job, day string, stdout, stderr io.Writer) int {
	now := a.Clock.Now()
	switch job {
	case "birthdays":
		d := domain.DayOf(now)
		if day != "" {
			var err error
			if d, err = domain.ParseDay(day); err != nil {
				fmt.Fprintln(stderr, "jifen birthdays: --day must be YYYY-MM-DD")
				return 2
			}
		}
		n, err := a.Birthday.PayDay(ctx, d)
		if err != nil {
			fmt.Fprintln(stderr, "jifen birthdays:", err)
			return 1
		}
		fmt.Fprintf(stdout, "birthdays %s: %d members paid\n", d, n)
	case "store-summaries":
		n, err := a.Guides.SendStoreSummaries(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "jifen store-summaries:", err)
			return 1
		}
		fmt.Fprintf(stdout, "store-summaries: %d stores notified\n", n)
	case "followers-sync":
		if a.Reminder.Followers == nil {
			fmt.Fprintln(stderr, "jifen followers-sync: no official account (wechat.official.appid)")
			return 1
		}
		rep, err := a.Reminder.Followers.Sync(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "jifen followers-sync:", err)
			return 1
		}
		fmt.Fprintf(stdout, "followers-sync: %d followers, %d looked up, %d unsubscribed, %d without unionid\n",
			rep.Followers, rep.LookedUp, rep.Unsubscribed, rep.WithoutUnionID)
	default: // tier-review
		n, err := a.Tiers.Review(ctx, now, 500)
		if err != nil {
			fmt.Fprintln(stderr, "jifen tier-review:", err)
			return 1
		}
		fmt.Fprintf(stdout, "tier-review: %d members moved down\n", n)
	}
	return 0
}
