package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain"
)

// Phone-number farms (issue #24): SIM cards bought in a batch have
// consecutive numbers, and a farm binds them to its accounts one after
// another.
//
// The pattern, precisely: mainland mobile numbers (11 digits, the first
// 1) read as integers; a **sequence** is the members whose bound numbers
// lie within Span consecutive numbers (highest − lowest < Span), each bound
// within WindowHours before the bind being evaluated. When a member binds
// a phone, the largest sequence containing the new number is found; more
// than MaxMembers members in it flags every one of them, each once per
// bound phone. Numbers of other lengths (abroad) are not evaluated.

// PhoneBinding is a phone a member bound, and when.
type PhoneBinding struct {
	MemberID int64     `json:"member_id"`
	Phone    string    `json:"phone"`
	BoundAt  time.Time `json:"bound_at"`
}

// Phones is what the phone_sequence rule reads of bound phones.
type Phones interface {
	// BoundBetween lists the phones bound at or after since whose numbers
	// lie between lo and hi (11-digit strings, inclusive), every member
	// that had one (a phone given up is still a phone the farm bound).
	BoundBetween(ctx context.Context, lo, hi string, since time.Time) ([]PhoneBinding, error)
}

// phoneEvidence is a phone_sequence flag's Evidence.
type phoneEvidence struct {
	Span        int64          `json:"span"`
	WindowHours int            `json:"window_hours"`
	Phones      []PhoneBinding `json:"phones"` // the sequence, by number
}

// validatePhoneSequence checks a phone_sequence rule.
func (r Rule) validatePhoneSequence(f string) error {
	switch {
	case r.Action != PhoneBind:
		return domain.FieldError(f+".action", "phone_bind for a phone_sequence rule")
	case r.Dimension != PhoneDim:
		return domain.FieldError(f+".dimension", "phone for a phone_sequence rule")
	case r.Span < 2 || r.Span > 10000:
		return domain.FieldError(f+".span", "between 2 and 10000 consecutive numbers")
	case r.MaxMembers < 1 || r.MaxMembers > 1000:
		return domain.FieldError(f+".max_members", "between 1 and 1000")
	case r.WindowHours < 1 || r.WindowHours > 24*366:
		return domain.FieldError(f+".window_hours", "between 1 and 8784")
	case r.MaxPerHour != 0 || r.Distinct || r.MaxLength != 0 || r.MaxMinutes != 0 || r.MinPoints != 0 ||
		r.MaxSharePct != 0 || r.MinTimes != 0 || r.MinRewards != 0:
		return domain.FieldError(f+".max_per_hour", "not used by a phone_sequence rule: leave it 0")
	}
	return nil
}

// mobile is a mainland mobile number as an integer, false for any other.
func mobile(phone string) (int64, bool) {
	if len(phone) != 11 || phone[0] != '1' {
		return 0, false
	}
	n, err := strconv.ParseInt(phone, 10, 64)
	return n, err == nil
}

func phoneString(n int64) string { return fmt.Sprintf("%011d", n) }

// Sequence is the largest sequence of the rule containing phone among
// bound (members once each, by number): the one decision of what a
// sequence is. Empty when phone is no mainland mobile number.
func (r Rule) Sequence(phone string, bound []PhoneBinding) []PhoneBinding {
	p, ok := mobile(phone)
	if !ok {
		return nil
	}
	type num struct {
		n int64
		b PhoneBinding
	}
	var ns []num
	for _, b := range bound {
		if n, ok := mobile(b.Phone); ok && n > p-r.Span && n < p+r.Span {
			ns = append(ns, num{n, b})
		}
	}
	sort.Slice(ns, func(i, j int) bool {
		if ns[i].n != ns[j].n {
			return ns[i].n < ns[j].n
		}
		return ns[i].b.MemberID < ns[j].b.MemberID
	})
	var best []PhoneBinding
	for i := range ns {
		lo := ns[i].n // the numbers lo to lo+Span-1, which hold phone: every candidate is within Span of it
		if lo > p {
			break
		}
		var seq []PhoneBinding
		seen := map[int64]bool{}
		for _, x := range ns[i:] {
			if x.n >= lo+r.Span {
				break
			}
			if !seen[x.b.MemberID] {
				seen[x.b.MemberID] = true
				seq = append(seq, x.b)
			}
		}
		if len(seq) > len(best) {
			best = seq
		}
	}
	return best
}

// PhoneBound is what the phone route calls once a member's phone bind
// committed: it evaluates the phone_sequence rules and the
// referral_no_order rules of the member's inviters (the bind paid them),
// and logs what it cannot (the bind happened either way).
func (s *Service) PhoneBound(ctx context.Context, memberID int64, phone string) {
	if _, err := s.ObservePhone(ctx, memberID, phone); err != nil {
		s.log().WarnContext(ctx, "risk: phone bind not evaluated", "member_id", memberID, "err", err.Error())
	}
	if _, err := s.ObserveRewarded(ctx, memberID); err != nil {
		s.log().WarnContext(ctx, "risk: referral reward not evaluated", "member_id", memberID, "err", err.Error())
	}
}

// ObservePhone evaluates the phone_sequence rules on the member's bind of
// phone (at the clock's now): one indexed range read of the phones bound
// near it, nothing when no such rule is on or the number is not a
// mainland mobile one.
func (s *Service) ObservePhone(ctx context.Context, memberID int64, phone string) ([]Flag, error) {
	p, ok := mobile(phone)
	if s.Phones == nil || !ok {
		return nil, nil
	}
	rules, err := s.rulesOf(ctx, PhoneSequenceKind)
	if err != nil {
		return nil, err
	}
	var span int64
	hours := 0
	for _, r := range rules {
		span, hours = max(span, r.Span), max(hours, r.WindowHours)
	}
	if len(rules) == 0 {
		return nil, nil
	}
	now := s.Clock.Now()
	near, err := s.Phones.BoundBetween(ctx, phoneString(p-span+1), phoneString(p+span-1), now.Add(-time.Duration(hours)*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("risk: phones near %s: %w", phone, err)
	}
	self := false
	for _, b := range near {
		self = self || b.MemberID == memberID && b.Phone == phone
	}
	if !self { // not remembered (yet): the bind evaluated is at now
		near = append(near, PhoneBinding{MemberID: memberID, Phone: phone, BoundAt: now.UTC()})
	}
	var raised []Flag
	for _, r := range rules {
		since := now.Add(-time.Duration(r.WindowHours) * time.Hour)
		var in []PhoneBinding
		for _, b := range near {
			if !b.BoundAt.Before(since) {
				in = append(in, b)
			}
		}
		seq := r.Sequence(phone, in)
		if len(seq) <= r.MaxMembers {
			continue
		}
		ev, _ := json.Marshal(phoneEvidence{Span: r.Span, WindowHours: r.WindowHours, Phones: seq})
		for _, b := range seq {
			f := Flag{MemberID: b.MemberID, Rule: r.Name, Action: PhoneBind, Dimension: PhoneDim, Key: b.Phone,
				Count: int64(len(seq)), Limit: int64(r.MaxMembers), Window: WindowOf(b.BoundAt), Held: r.Hold, Status: Open,
				Evidence: string(ev), CreatedAt: now.UTC().Truncate(time.Millisecond)}
			var err error
			if raised, err = s.raiseInto(ctx, raised, f); err != nil {
				return raised, err
			}
		}
	}
	return raised, nil
}
