// Package logbuf batches a busy server's log lines: info lines (one access
// line per request) are written together at most Every after the first of
// them, not one write(2) each; a warning or an error is written at once,
// with every line before it, in order. A process killed outright (kill -9)
// loses at most the info lines of its last Every.
package logbuf

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// flushAt is the size at which the lines go at once, whatever the time.
const flushAt = 64 << 10

// Writer buffers what is written to it and writes it to W within Every.
type Writer struct {
	W     io.Writer
	Every time.Duration

	mu      sync.Mutex
	buf     []byte
	pending bool // a flush is scheduled
	closed  bool // Close was called: lines go straight to W
}

// New returns a Writer to w that writes its lines within every.
func New(w io.Writer, every time.Duration) *Writer { return &Writer{W: w, Every: every} }

// Write keeps p (one log line) for the next flush.
func (b *Writer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.W.Write(p)
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= flushAt {
		return len(p), b.flushLocked()
	}
	if !b.pending {
		b.pending = true
		time.AfterFunc(b.Every, func() { _ = b.Flush() })
	}
	return len(p), nil
}

// Flush writes what is kept.
func (b *Writer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = false
	return b.flushLocked()
}

// Close writes what is kept, and every line written after it goes
// straight to W: a handler still running when the process ends loses
// nothing it logged after serve stopped.
func (b *Writer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.flushLocked()
}

func (b *Writer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.W.Write(b.buf)
	if cap(b.buf) > 4*flushAt { // one burst does not keep a large buffer
		b.buf = nil
	} else {
		b.buf = b.buf[:0]
	}
	return err
}

// Handler is h writing to w, with every record at slog.LevelWarn or above
// flushed at once.
func Handler(h slog.Handler, w *Writer) slog.Handler { return &handler{Handler: h, w: w} }

type handler struct {
	slog.Handler
	w *Writer
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{Handler: h.Handler.WithAttrs(as), w: h.w}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{Handler: h.Handler.WithGroup(name), w: h.w}
}
