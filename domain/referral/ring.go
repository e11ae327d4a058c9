package referral

import (
	"context"
	"errors"

	"github.com/jifen/jifen/domain"
)

// RingWatcher hears of a bind refused because it would close a loop of
// invitations: links are the loop's bindings up the chain from the
// inviter, and last the refused bind. It runs after the refusal rolled
// back and cannot change it.
type RingWatcher interface {
	RingRefused(ctx context.Context, links []Binding)
}

// errLoop is the refusal of a bind closing a loop; it carries the loop.
type errLoop struct {
	err   error
	links []Binding
}

func (e *errLoop) Error() string { return e.err.Error() }
func (e *errLoop) Unwrap() error { return e.err }

func loopError(chain []Binding, closing Binding) error {
	return &errLoop{err: domain.Errorf(domain.RuleViolation, "this invite code belongs to someone you invited; invitations cannot form a loop"),
		links: append(chain, closing)}
}

// ringRefused tells the watcher of the loop err refused, if it was one.
func (s *Service) ringRefused(ctx context.Context, err error) {
	var loop *errLoop
	if s.Rings != nil && errors.As(err, &loop) {
		s.Rings.RingRefused(ctx, loop.links)
	}
}
