package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"
)

// helloEngine is the baseline GET /me is compared with: a Gin hello-world.
func helloEngine() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/hello", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"hello": "world"}) })
	return e
}

// helloWorldCmd serves the hello-world on the listener `jifen loadtest`
// hands it (file descriptor 3) until its standard input closes, which
// happens when the load test ends or dies. Hidden: it is the load test's
// baseline, a server process of its own as serve is.
func (c *cli) helloWorldCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "hello-world",
		Short:  "Serve the load test's Gin hello-world baseline (started by jifen loadtest)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := net.FileListener(os.NewFile(3, "listener"))
			if err != nil {
				fmt.Fprintln(c.stderr, "jifen hello-world: no listener on file descriptor 3 (jifen loadtest starts this):", err)
				return exitCode(1)
			}
			done := make(chan error, 2)
			go func() { done <- http.Serve(ln, helloEngine()) }()
			go func() {
				_, _ = io.Copy(io.Discard, cmd.InOrStdin())
				done <- nil
			}()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, net.ErrClosed) {
					fmt.Fprintln(c.stderr, "jifen hello-world:", err)
					return exitCode(1)
				}
			case <-cmd.Context().Done(): // SIGINT, SIGTERM
			}
			return nil
		},
	}
}

// startHelloWorld runs the hello-world as a process of its own (exe
// hello-world) on a loopback port, and returns its base URL and how to
// stop it.
func startHelloWorld(exe string) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	cmd := exec.Command(exe, "hello-world")
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start the hello-world (%s hello-world): %w", exe, err)
	}
	return "http://" + ln.Addr().String(), func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}, nil
}
