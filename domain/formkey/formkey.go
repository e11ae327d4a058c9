// Package formkey makes one rendering of a console form write once. Every
// form that writes is rendered with a fresh key; the first submission with
// a key does the write, and every copy of it — a double click, a POST the
// browser sends again, the same page submitted from a second tab — waits
// for that one and is answered with its result (the page of the record
// the first created) instead of writing again. A submission that fails
// gives its key back, so the same form can be sent again once corrected.
//
// Keys are per console user and per form (the path it posts to), and are
// kept a day (Retention); the write itself is the service's own, in its
// own transaction, so a key claimed by a process that died before it
// finished stays "being saved" until it is forgotten: its copies are
// refused (Conflict), never written twice.
package formkey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"
	"time"

	"github.com/jifen/jifen/domain"
)

// Retention is how long a key is remembered after its first submission.
const Retention = 24 * time.Hour

// Key names one rendering of one form, sent by one user.
type Key struct {
	Actor string // the console username
	Form  string // the path the form posts to, e.g. /console/rules
	Key   string // generated with the form (New)
}

// Store keeps the keys (repo/formkeystore).
type Store interface {
	// Claim records k as being worked, at at, and forgets keys claimed
	// before at minus Retention. When k is recorded already, claimed is
	// false and result is what Finish stored ("" while it is still being
	// worked, or when it was released meanwhile).
	Claim(ctx context.Context, k Key, at time.Time) (claimed bool, result string, err error)
	// Finish records the result of k's write.
	Finish(ctx context.Context, k Key, result string) error
	// Release forgets k, whose write failed.
	Release(ctx context.Context, k Key) error
}

// Service runs each form's write once per key.
type Service struct {
	Store Store
	Clock domain.Clock
	// Wait bounds how long a copy waits for the first submission of its
	// key to finish (0: DefaultWait); Poll is how often it looks (0: 50 ms).
	Wait, Poll time.Duration
}

// DefaultWait is how long a copy waits by default: longer than any save
// takes, short enough for a browser to still be waiting.
const DefaultWait = 15 * time.Second

// The errors a submission's key can give; the console names them in its
// own words (their codes are Invalid and Conflict).
var (
	ErrNoKey   = domain.FieldError("form_key", "the form has no key; reload the page and send it again")
	ErrPending = domain.Errorf(domain.Conflict, "this form was sent already and is still being saved; reload the page in a moment")
)

var keyPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// New is a fresh key for a form about to be rendered.
func New() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Once runs write the first time k is submitted and returns its result.
// A copy of that submission returns the first's result with replayed
// set, without running write; while the first is still running it waits
// for it (at most Wait, then ErrPending). When write fails its error is
// returned and k is released, so that the copies, and the form sent
// again, run write themselves (and fail the same way, or succeed).
func (s *Service) Once(ctx context.Context, k Key, write func(ctx context.Context) (string, error)) (result string, replayed bool, err error) {
	if !keyPattern.MatchString(k.Key) {
		return "", false, ErrNoKey
	}
	wait, poll := s.Wait, s.Poll
	if wait <= 0 {
		wait = DefaultWait
	}
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	// Waiting is measured in real time: the service clock may be a test's
	// or a demo's, which does not move while a copy waits.
	deadline := time.Now().Add(wait)
	for {
		claimed, res, err := s.Store.Claim(ctx, k, s.Clock.Now())
		if err != nil {
			return "", false, err
		}
		if claimed {
			break
		}
		if res != "" {
			return res, true, nil
		}
		if time.Now().After(deadline) {
			return "", false, ErrPending
		}
		select {
		case <-ctx.Done():
			return "", false, ctx.Err()
		case <-time.After(poll):
		}
	}
	res, err := write(ctx)
	// The write is done (or undone): record it even when the client has
	// gone meanwhile, so its copies get the answer.
	bg := context.WithoutCancel(ctx)
	if err != nil {
		if rerr := s.Store.Release(bg, k); rerr != nil {
			slog.WarnContext(ctx, "form key: release failed; the form's copies are refused until it is forgotten",
				"form", k.Form, "err", rerr.Error())
		}
		return "", false, err
	}
	if ferr := s.Store.Finish(bg, k, res); ferr != nil {
		slog.WarnContext(ctx, "form key: recording the result failed; the form's copies are refused until it is forgotten",
			"form", k.Form, "err", ferr.Error())
	}
	return res, false, nil
}
