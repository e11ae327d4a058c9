package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckCmd asks a running serve whether it is ready, for the
// container's HEALTHCHECK (distroless has no shell and no curl).
func (c *cli) healthcheckCmd() *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the local serve answers /readyz with 200 (for a container HEALTHCHECK)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				cfg, _, err := c.config()
				if err != nil {
					return err
				}
				url = "http://" + dialable(cfg.Server.Addr) + "/readyz"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				fmt.Fprintln(c.stderr, "jifen healthcheck:", err)
				return exitCode(2)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				fmt.Fprintln(c.stderr, "jifen healthcheck:", err)
				return exitCode(1)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				fmt.Fprintf(c.stderr, "jifen healthcheck: %s answered %s\n", url, resp.Status)
				return exitCode(1)
			}
			fmt.Fprintf(c.stdout, "ok: %s\n", url)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "`URL` to check (default: /readyz on server.addr)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}

// dialable turns a listen address into one to connect to: a wildcard or
// empty host becomes loopback.
func dialable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
