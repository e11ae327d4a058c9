package logbuf_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/logbuf"
)

// writes records every Write it is given.
type writes struct {
	mu    sync.Mutex
	calls []string
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, string(p))
	return len(p), nil
}

func (w *writes) get() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.calls...)
}

// TestInfoLinesGoTogetherAndAWarningAtOnce: 500 access lines cost one
// write, made within the interval without anyone asking; a warning is
// written at once, after every line logged before it.
func TestInfoLinesGoTogetherAndAWarningAtOnce(t *testing.T) {
	out := &writes{}
	w := logbuf.New(out, 50*time.Millisecond)
	log := slog.New(logbuf.Handler(slog.NewJSONHandler(w, nil), w))
	for i := range 500 {
		log.Info("http", "n", i)
	}
	if got := out.get(); len(got) != 0 {
		t.Fatalf("%d writes before the interval; want the lines kept", len(got))
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(out.get()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := out.get()
	if len(got) != 1 || strings.Count(got[0], "\n") != 500 {
		t.Fatalf("after the interval: %d writes (first with %d lines); want 1 write of 500 lines", len(got), strings.Count(strings.Join(got, ""), "\n"))
	}

	log.Info("before")
	log.With("k", "v").Warn("trouble")
	got = out.get()
	if len(got) != 2 || !strings.Contains(got[1], `"msg":"before"`) || !strings.HasSuffix(strings.TrimSpace(got[1]), `"k":"v"}`) {
		t.Fatalf("a warning: writes %q; want it written at once after the line before it", got[1:])
	}
}

// TestFullBufferIsWrittenAtOnce: a burst larger than the buffer is
// written as it comes, and Flush writes the rest, so nothing waits longer
// than the interval and nothing is lost at a clean exit.
func TestFullBufferIsWrittenAtOnce(t *testing.T) {
	out := &writes{}
	w := logbuf.New(out, time.Hour)
	line := bytes.Repeat([]byte("x"), 1023)
	line = append(line, '\n')
	for range 100 { // 100 KiB
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if got := out.get(); len(got) != 1 || len(got[0]) != 64*1024 {
		t.Fatalf("after 100 KiB: %d writes; want one of 64 KiB", len(got))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := out.get()
	total := 0
	for _, c := range got {
		total += len(c)
	}
	if len(got) != 2 || total != 100*1024 {
		t.Fatalf("after Flush: %d writes, %d bytes; want 2 and every byte", len(got), total)
	}
}

// TestLinesAfterCloseAreWrittenAtOnce: Close writes what is kept, and a
// line logged later (a handler still running as the process ends) is
// written as it comes, not kept for a flush that will not happen.
func TestLinesAfterCloseAreWrittenAtOnce(t *testing.T) {
	out := &writes{}
	w := logbuf.New(out, time.Hour)
	log := slog.New(logbuf.Handler(slog.NewJSONHandler(w, nil), w))
	log.Info("kept")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	log.Info("late")
	got := out.get()
	if len(got) != 2 || !strings.Contains(got[0], `"kept"`) || !strings.Contains(got[1], `"late"`) {
		t.Fatalf("writes %q; want the kept line at Close, then the late one at once", got)
	}
}
