package risk

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Every spend asks whether its member is held, and a member is almost
// never held: reading the member's hold row on each spend was a query per
// draw, redemption and checkout hold. The service keeps instead the set of
// held members (the whole risk_holds table while it stays small), read
// again after HoldsTTL and at once after this instance placed or released
// a hold. A hold placed through another instance applies here within
// HoldsTTL; with more than maxHeldCached holds every spend reads its row.

// maxHeldCached bounds the held members an instance keeps.
const maxHeldCached = 10_000

// HeldLister is the optional Store method the set is read with.
type HeldLister interface {
	// HeldMembers lists the held members, at most limit.
	HeldMembers(ctx context.Context, limit int) ([]int64, error)
}

type heldSet struct {
	mu      sync.Mutex
	members map[int64]bool // nil: not read (or too many to keep)
	readAt  time.Time
	gen     uint64 // bumped by every change this instance made
}

// holdsChanged is called after this instance placed or released a hold.
func (s *Service) holdsChanged() {
	s.held.mu.Lock()
	s.held.members, s.held.gen = nil, s.held.gen+1
	s.held.readAt = time.Time{}
	s.held.mu.Unlock()
}

// isHeld answers from the kept set; known is false when the caller must
// read the member's row.
func (s *Service) isHeld(ctx context.Context, memberID int64) (held, known bool, err error) {
	lister, ok := s.Store.(HeldLister)
	if !ok || s.HoldsTTL < 0 {
		return false, false, nil
	}
	ttl := s.HoldsTTL
	if ttl == 0 {
		ttl = time.Second
	}
	now := time.Now()
	s.held.mu.Lock()
	if now.Sub(s.held.readAt) < ttl {
		m := s.held.members
		s.held.mu.Unlock()
		if m == nil {
			return false, false, nil // too many to keep: read the row
		}
		return m[memberID], true, nil
	}
	gen := s.held.gen
	s.held.mu.Unlock()
	ids, err := lister.HeldMembers(ctx, maxHeldCached+1)
	if err != nil {
		return false, false, fmt.Errorf("held members: %w", err)
	}
	var m map[int64]bool
	if len(ids) <= maxHeldCached {
		m = make(map[int64]bool, len(ids))
		for _, id := range ids {
			m[id] = true
		}
	}
	s.held.mu.Lock()
	if s.held.gen == gen { // no change of ours since the read began
		s.held.members, s.held.readAt = m, now
	}
	s.held.mu.Unlock()
	if m == nil {
		return false, false, nil
	}
	return m[memberID], true, nil
}

// The velocity rules by phone prefix read the member's phone on every
// event; it changes rarely, so an instance keeps what it read for
// phoneTTL: a phone bound meanwhile is counted under its prefix from then
// on. (The guide rules read the phone afresh: there a just-bound phone is
// the evidence.)
const phoneTTL = 30 * time.Second

type keptPhone struct {
	phone  string
	readAt time.Time
}

// velocityPhone is the member's phone for the velocity rules.
func (s *Service) velocityPhone(ctx context.Context, memberID int64) (string, error) {
	now := time.Now()
	if p, ok := s.phones.Get(memberID); ok && now.Sub(p.readAt) < phoneTTL {
		return p.phone, nil
	}
	phone, err := s.Members.Phone(ctx, memberID)
	if err != nil {
		return "", err
	}
	s.phones.Put(memberID, keptPhone{phone: phone, readAt: now})
	return phone, nil
}
