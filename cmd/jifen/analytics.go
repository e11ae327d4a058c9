package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jifen/jifen/cmd/jifen/app"
)

// analyticsCmd brings the daily facts up to date and snapshots the
// outstanding points (serve does both on its own; this is for a cron or a
// first backfill of a large journal).
func (c *cli) analyticsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "analytics",
		Short: "Bring the daily points facts up to date and snapshot the outstanding points (resumable; serve also does it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := c.config()
			if err != nil {
				return err
			}
			st, err := app.OpenExistingStores(cmd.Context(), cfg)
			if err != nil {
				fmt.Fprintln(c.stderr, "jifen analytics:", err)
				return exitCode(1)
			}
			defer st.Close()
			a, err := app.New(cfg, st, app.Options{Logger: log})
			if err != nil {
				fmt.Fprintln(c.stderr, "jifen analytics:", err)
				return exitCode(1)
			}
			rep, err := a.Analytics.Run(cmd.Context())
			if err != nil {
				fmt.Fprintf(c.stderr, "jifen analytics: %v (after %d entries; rerun to resume)\n", err, rep.Entries)
				return exitCode(1)
			}
			fmt.Fprintf(c.stdout, "analytics: %d journal entries added to the daily facts; outstanding points snapshot taken\n", rep.Entries)
			return nil
		},
	}
}
