package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jifen/jifen/domain/referral"
)

var _ referral.RingWatcher = (*Service)(nil)

// RingRefused implements referral.RingWatcher: the bind was refused either
// way, so a flag that cannot be written is logged.
func (s *Service) RingRefused(ctx context.Context, bindings []referral.Binding) {
	links := make([]Link, len(bindings))
	for i, b := range bindings {
		links[i] = Link{InviteeID: b.InviteeID, InviterID: b.InviterID, BoundAt: b.CreatedAt.UTC()}
	}
	if _, err := s.ObserveRing(ctx, links); err != nil {
		s.log().WarnContext(ctx, "risk: referral ring not evaluated", "err", err.Error())
	}
}

// Link is one invitation of a referral ring: InviteeID bound to
// InviterID's code at BoundAt.
type Link struct {
	InviteeID int64     `json:"invitee_id"`
	InviterID int64     `json:"inviter_id"`
	BoundAt   time.Time `json:"bound_at"`
}

// ringEvidence is a referral_ring flag's Evidence.
type ringEvidence struct {
	Members []int64 `json:"members"` // in invitation order: each invited the next
	Links   []Link  `json:"links"`   // the last is the bind that would close the ring
}

// ObserveRing evaluates the referral_ring rules on a bind that would close
// a loop of invitations. links are the loop's bindings up the chain from
// the inviter, and last the refused bind itself (at the clock's now); the
// referral service calls it after refusing that bind. Each enabled rule
// the ring fits (at most MaxLength members, every binding within
// WindowHours before now) flags every member of the ring once: the same
// ring tried again raises nothing more.
func (s *Service) ObserveRing(ctx context.Context, links []Link) ([]Flag, error) {
	if len(links) < 2 {
		return nil, nil
	}
	p, err := s.policy(ctx)
	if err != nil {
		return nil, fmt.Errorf("risk policy: %w", err)
	}
	now := s.Clock.Now()
	oldest := now
	for _, l := range links {
		if l.BoundAt.Before(oldest) {
			oldest = l.BoundAt
		}
	}
	members := ringMembers(links)
	ev, _ := json.Marshal(ringEvidence{Members: members, Links: links})
	var raised []Flag
	for _, r := range p.Rules {
		if !r.Enabled || r.Kind != RingKind || len(members) > r.MaxLength ||
			now.Sub(oldest) > time.Duration(r.WindowHours)*time.Hour {
			continue
		}
		for _, m := range members {
			f := Flag{MemberID: m, Rule: r.Name, Action: ReferralBind, Dimension: Chain, Key: ringKey(m, members),
				Count: int64(len(members)), Limit: int64(r.MaxLength), Window: WindowOf(oldest), Held: r.Hold, Status: Open,
				Evidence: string(ev), CreatedAt: now.UTC().Truncate(time.Millisecond)}
			var err error
			if raised, err = s.raiseInto(ctx, raised, f); err != nil {
				return raised, err
			}
		}
	}
	return raised, nil
}

// ringMembers lists the ring's members once each, in invitation order
// starting from its smallest id, so the same ring has the same list
// whichever bind closed it.
func ringMembers(links []Link) []int64 {
	// Each link's inviter invited its invitee; walk invitee -> inviter.
	up := map[int64]int64{}
	start := links[0].InviteeID
	for _, l := range links {
		up[l.InviteeID] = l.InviterID
		if l.InviteeID < start {
			start = l.InviteeID
		}
	}
	var chain []int64 // start, its inviter, that one's inviter, ...
	for m, seen := start, map[int64]bool{}; !seen[m]; m = up[m] {
		seen[m] = true
		chain = append(chain, m)
	}
	// Invitation order is the reverse walk: start's inviter invited start.
	out := []int64{start}
	for i := len(chain) - 1; i > 0; i-- {
		out = append(out, chain[i])
	}
	return out
}

// ringKey is the flag's key: the flagged member and the ring ("12 in
// 12>31>27"), cut to MaxKeyLen; unique per member and ring.
func ringKey(member int64, ring []int64) string {
	ids := make([]string, len(ring))
	for i, m := range ring {
		ids[i] = strconv.FormatInt(m, 10)
	}
	k := strconv.FormatInt(member, 10) + " in " + strings.Join(ids, ">")
	if len(k) > MaxKeyLen {
		k = k[:MaxKeyLen]
	}
	return k
}
