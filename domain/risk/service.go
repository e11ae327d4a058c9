package risk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
)

// ErrDuplicate is what Store.InsertFlag and Store.PutHold return when the
// row exists already (the same burst, a member held twice).
var ErrDuplicate = errors.New("risk: already recorded")

// ErrStaleVersion is what Store.InsertPolicy returns when the version was
// taken meanwhile.
var ErrStaleVersion = errors.New("risk: policy version taken")

// FlagQuery selects flags newest first: Status "" is every status,
// MemberID 0 every member, Before 0 from the newest.
type FlagQuery struct {
	Status   string
	MemberID int64
	Before   int64
	Limit    int
}

// Store keeps the policy, the flags and the holds.
type Store interface {
	Policy(ctx context.Context) (Policy, error)
	InsertPolicy(ctx context.Context, p *Policy) error
	// InsertFlag writes f and sets its ID; ErrDuplicate when the rule +
	// key + window has a flag already.
	InsertFlag(ctx context.Context, f *Flag) error
	// FlagForUpdate loads a flag locked for the caller's unit of work
	// (domain.NotFound when there is none).
	FlagForUpdate(ctx context.Context, id int64) (Flag, error)
	DecideFlag(ctx context.Context, f Flag) error
	Flags(ctx context.Context, q FlagQuery) ([]Flag, error)
	// Hold is the member's hold, nil when not held.
	Hold(ctx context.Context, memberID int64) (*Hold, error)
	// PutHold writes h; ErrDuplicate when the member is held already.
	PutHold(ctx context.Context, h Hold) error
	// DeleteHold removes the member's hold and says whether there was one.
	DeleteHold(ctx context.Context, memberID int64) (bool, error)
}

// Counter counts events per key in a window. Counts may be lost (a cache
// restart): a flag is unique per window, so a recount raises nothing twice.
type Counter interface {
	// Incr adds one to each key, keeping it at least ttl, and returns the
	// counts after.
	Incr(ctx context.Context, keys []string, ttl time.Duration) ([]int64, error)
	// AddMember adds member to the set at each key, keeping it at least
	// ttl, and returns each set's size after.
	AddMember(ctx context.Context, keys []string, member int64, ttl time.Duration) ([]int64, error)
}

// Members is what the service needs to know of members.
type Members interface {
	// Phone is the member's bound phone ("" when none); domain.NotFound
	// when there is no such member.
	Phone(ctx context.Context, memberID int64) (string, error)
}

// Service evaluates the rules in the write paths and serves the review.
type Service struct {
	Store   Store
	Counter Counter
	Members Members
	// Grants is read by the guide rules (nil: they are not evaluated).
	Grants Grants
	// Journal, Phones and Referrals are read by the points_laundering,
	// phone_sequence and referral_no_order rules (nil: not evaluated).
	Journal   Journal
	Phones    Phones
	Referrals Referrals
	// Payments is read and written by shared_payer (nil: not evaluated).
	Payments Payments
	Audit    audit.Store
	Tx       domain.UnitOfWork
	Clock    domain.Clock
	Log      *slog.Logger
	// PolicyTTL is how long an instance reuses the policy it read (0: 10
	// s); an edit on another instance applies here after at most that.
	PolicyTTL time.Duration
	// HoldsTTL is how long an instance reuses the set of held members it
	// read (0: 1 s; negative: every spend reads its member's hold); a hold
	// placed or released through another instance applies here after at
	// most that, one of this instance's at once (holds.go).
	HoldsTTL time.Duration

	mu     sync.Mutex
	cached *Policy
	readAt time.Time

	// stored holds the flags (window and key) this instance wrote or found
	// written: a key past its limit is on every further event of the burst
	// (one shop's Wi-Fi, a device farm; a member laundering), and without
	// it each of them would try the flag's insert again in a transaction of
	// its own, only to find the duplicate.
	stored  domain.Memo[string, struct{}]
	held    heldSet
	phones  domain.Memo[int64, keptPhone]
	cleared domain.Memo[string, int64]
}

// flagStored reports whether the flag of key (a counter key, or rule and
// member) in win is known stored.
func (s *Service) flagStored(win time.Time, key string) bool {
	_, ok := s.stored.Get(storedKey(win, key))
	return ok
}

// noteStored remembers that the flag of key in win is stored.
func (s *Service) noteStored(win time.Time, key string) {
	s.stored.Put(storedKey(win, key), struct{}{})
}

func storedKey(win time.Time, key string) string {
	return strconv.FormatInt(win.Unix(), 10) + "|" + key
}

// Actor is the console user deciding.
type Actor struct{ Name, Role string }

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Policy returns the current policy.
func (s *Service) Policy(ctx context.Context) (Policy, error) { return s.Store.Policy(ctx) }

// policy is the current policy through the instance's short cache.
func (s *Service) policy(ctx context.Context) (Policy, error) {
	ttl := s.PolicyTTL
	if ttl == 0 {
		ttl = 10 * time.Second
	}
	now := time.Now()
	s.mu.Lock()
	if s.cached != nil && now.Sub(s.readAt) < ttl {
		p := *s.cached
		s.mu.Unlock()
		return p, nil
	}
	s.mu.Unlock()
	p, err := s.Store.Policy(ctx)
	if err != nil {
		return Policy{}, err
	}
	s.mu.Lock()
	s.cached, s.readAt = &p, now
	s.mu.Unlock()
	return p, nil
}

// UpdatePolicy stores p as the next version; p.Version must be the version
// edited (else Conflict). Audited as risk_policy.update.
func (s *Service) UpdatePolicy(ctx context.Context, a Actor, p Policy) (Policy, error) {
	if p.Version <= 0 {
		return Policy{}, domain.FieldError("version", "required: the version being edited")
	}
	if len(p.Rules) == 0 {
		// The whole list is replaced: an empty one, saved by mistake,
		// would turn risk control off without a word.
		return Policy{}, domain.FieldError("rules", "at least one rule: an empty list would turn risk control off; stop a rule with enabled false")
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	now := s.Clock.Now().UTC().Truncate(time.Millisecond)
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.Store.Policy(ctx)
		if err != nil {
			return err
		}
		if cur.Version != p.Version {
			return domain.Errorf(domain.Conflict, "the risk policy is at version %d, not %d: reload and edit again", cur.Version, p.Version)
		}
		p.Version, p.UpdatedBy, p.UpdatedAt = cur.Version+1, a.Name, now
		if err := s.Store.InsertPolicy(ctx, &p); err != nil {
			if errors.Is(err, ErrStaleVersion) {
				return domain.Errorf(domain.Conflict, "the risk policy was edited meanwhile: reload and edit again")
			}
			return err
		}
		b, _ := json.Marshal(map[string]any{"version": p.Version, "rules": p.Rules})
		return s.Audit.Insert(ctx, &audit.Entry{Actor: a.Name, ActorRole: a.Role, Action: "risk_policy.update",
			Target: "risk_policy", Detail: string(b), CreatedAt: now})
	})
	if err != nil {
		return Policy{}, err
	}
	s.mu.Lock()
	s.cached = nil
	s.mu.Unlock()
	return p, nil
}

// Observe counts ev against every enabled rule of its action and raises
// the flags (and holds) it breaks. It runs after the action committed and
// never undoes it: a cache that cannot count is logged and skipped (fail
// open), and a caller logs the error of a store that cannot write.
func (s *Service) Observe(ctx context.Context, ev Event) ([]Flag, error) {
	p, err := s.policy(ctx)
	if err != nil {
		return nil, fmt.Errorf("risk policy: %w", err)
	}
	// Pointers into the cached policy, which nobody changes: a Rule is
	// 160 bytes, and the copies of the matching ones were 4% of the bytes
	// a sign-in allocated.
	var rules []*Rule
	needPhone := false
	for i := range p.Rules {
		if r := &p.Rules[i]; r.Enabled && r.velocity() && r.Action == ev.Action {
			rules = append(rules, r)
			needPhone = needPhone || r.Dimension == PhonePrefix
		}
	}
	if len(rules) == 0 {
		return nil, nil
	}
	if needPhone && ev.Phone == "" && s.Members != nil {
		if ev.Phone, err = s.velocityPhone(ctx, ev.MemberID); err != nil {
			return nil, fmt.Errorf("risk: phone of member %d: %w", ev.MemberID, err)
		}
	}
	now := s.Clock.Now()
	win := WindowOf(now)
	var keys, sets []string
	var counted, distinct []*Rule
	for _, r := range rules {
		k := ev.Key(r.Dimension)
		if k == "" {
			continue
		}
		if r.Distinct {
			sets = append(sets, counterKey(*r, k, win))
			distinct = append(distinct, r)
			continue
		}
		keys = append(keys, counterKey(*r, k, win))
		counted = append(counted, r)
	}
	// The count outlives its hour a little, so a late event still finds it.
	const ttl = Window + 10*time.Minute
	var counts []int64
	if len(keys) > 0 {
		if counts, err = s.Counter.Incr(ctx, keys, ttl); err != nil {
			s.log().WarnContext(ctx, "risk counters unavailable: not counted", "action", string(ev.Action), "err", err.Error())
			return nil, nil
		}
	}
	if len(sets) > 0 {
		sizes, err := s.Counter.AddMember(ctx, sets, ev.MemberID, ttl)
		if err != nil {
			s.log().WarnContext(ctx, "risk counters unavailable: not counted", "action", string(ev.Action), "err", err.Error())
			return nil, nil
		}
		counted, counts = append(counted, distinct...), append(counts, sizes...)
	}
	keys = append(keys, sets...) // in the order of counted
	var raised []Flag
	for i, r := range counted {
		if !r.Breached(counts[i]) || s.flagStored(win, keys[i]) {
			continue
		}
		f := Flag{MemberID: ev.MemberID, Rule: r.Name, Action: r.Action, Dimension: r.Dimension, Key: ev.Key(r.Dimension),
			Count: counts[i], Limit: r.MaxPerHour, Window: win, Held: r.Hold, Status: Open,
			CreatedAt: now.UTC().Truncate(time.Millisecond)}
		var err error
		if raised, err = s.raiseInto(ctx, raised, f); err != nil {
			return raised, err
		}
		s.noteStored(win, keys[i])
	}
	return raised, nil
}

// counterKey names a rule's count of one key in one window. The rule name
// is in it, so an edited threshold keeps counting and a renamed rule
// starts again.
func counterKey(r Rule, key string, win time.Time) string {
	return "risk:" + r.Name + ":" + strconv.FormatInt(win.Unix(), 10) + ":" + key
}

// raise writes the flag, unless this burst has one, and its hold; false
// when the flag existed.
// rulesOf loads the policy and returns its enabled rules of kind.
func (s *Service) rulesOf(ctx context.Context, kind string) ([]Rule, error) {
	p, err := s.policy(ctx)
	if err != nil {
		return nil, fmt.Errorf("risk policy: %w", err)
	}
	var rules []Rule
	for _, r := range p.Rules {
		if r.Enabled && r.Kind == kind {
			rules = append(rules, r)
		}
	}
	return rules, nil
}

// raiseInto raises f and returns raised with f appended when it is new.
func (s *Service) raiseInto(ctx context.Context, raised []Flag, f Flag) ([]Flag, error) {
	created, err := s.raise(ctx, &f)
	if err == nil && created {
		raised = append(raised, f)
	}
	return raised, err
}

func (s *Service) raise(ctx context.Context, f *Flag) (bool, error) {
	created := false
	if f.Held {
		defer s.holdsChanged()
	}
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		created = false
		if err := s.Store.InsertFlag(ctx, f); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return nil
			}
			return err
		}
		created = true
		if !f.Held {
			return nil
		}
		h := Hold{MemberID: f.MemberID, FlagID: f.ID, Reason: f.Rule, By: Automatic, CreatedAt: f.CreatedAt}
		if err := s.Store.PutHold(ctx, h); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return nil // held already: the first hold stands
			}
			return err
		}
		return s.auditHold(ctx, Actor{Name: Automatic, Role: "system"}, "risk.hold.place", h, "")
	})
	return created, err
}

func (s *Service) auditHold(ctx context.Context, a Actor, action string, h Hold, note string) error {
	b, _ := json.Marshal(map[string]any{"flag_id": h.FlagID, "reason": h.Reason, "note": note})
	return s.Audit.Insert(ctx, &audit.Entry{Actor: a.Name, ActorRole: a.Role, Action: action,
		Target: "member:" + strconv.FormatInt(h.MemberID, 10), Detail: string(b), CreatedAt: s.Clock.Now().UTC()})
}

// CheckSpend answers ACCOUNT_HELD when the member is held: every spend
// route asks it before spending.
func (s *Service) CheckSpend(ctx context.Context, memberID int64) error {
	held, known, err := s.isHeld(ctx, memberID)
	if err != nil {
		return fmt.Errorf("risk hold of member %d: %w", memberID, err)
	}
	if !known {
		h, err := s.Store.Hold(ctx, memberID)
		if err != nil {
			return fmt.Errorf("risk hold of member %d: %w", memberID, err)
		}
		held = h != nil
	}
	if held {
		return ErrHeld()
	}
	return nil
}

// Flags lists flags newest first (the review queue with Status Open).
func (s *Service) Flags(ctx context.Context, q FlagQuery) ([]Flag, error) {
	switch q.Status {
	case "", Open, Cleared, Confirmed:
	default:
		return nil, domain.FieldError("status", "one of open, cleared, confirmed")
	}
	return s.Store.Flags(ctx, q)
}

// Member is a member's hold (nil: not held) and newest flags.
func (s *Service) Member(ctx context.Context, memberID int64, limit int) (*Hold, []Flag, error) {
	if _, err := s.Members.Phone(ctx, memberID); err != nil {
		return nil, nil, err
	}
	h, err := s.Store.Hold(ctx, memberID)
	if err != nil {
		return nil, nil, err
	}
	fs, err := s.Store.Flags(ctx, FlagQuery{MemberID: memberID, Limit: limit})
	return h, fs, err
}

// Decisions a reviewer takes on a flag.
const (
	Clear   = "clear"
	Confirm = "confirm"
)

// Decide closes an open flag. Clear finds nothing wrong: it also releases
// the hold a rule placed when no other open flag of the member remains.
// Confirm keeps any hold until a reviewer releases it. Audited as
// risk.flag.clear / risk.flag.confirm (and risk.hold.release).
func (s *Service) Decide(ctx context.Context, a Actor, flagID int64, decision, note string) (Flag, error) {
	defer s.holdsChanged() // this instance's next spend sees the change
	status := map[string]string{Clear: Cleared, Confirm: Confirmed}[decision]
	if status == "" {
		return Flag{}, domain.FieldError("decision", "one of clear, confirm")
	}
	if len(note) > 500 {
		return Flag{}, domain.FieldError("note", "at most 500 characters")
	}
	var f Flag
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if f, err = s.Store.FlagForUpdate(ctx, flagID); err != nil {
			return err
		}
		if f.Status != Open {
			return domain.Errorf(domain.Conflict, "flag %d is %s already", flagID, f.Status)
		}
		f.Status, f.DecidedBy, f.Note = status, a.Name, note
		f.DecidedAt = s.Clock.Now().UTC().Truncate(time.Millisecond)
		if err := s.Store.DecideFlag(ctx, f); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"flag_id": f.ID, "rule": f.Rule, "key": f.Key, "count": f.Count, "note": note})
		if err := s.Audit.Insert(ctx, &audit.Entry{Actor: a.Name, ActorRole: a.Role, Action: "risk.flag." + decision,
			Target: flagTarget(f), Detail: string(b), CreatedAt: f.DecidedAt}); err != nil {
			return err
		}
		if decision != Clear || f.MemberID == 0 { // a guide's flag holds no one
			return nil
		}
		h, err := s.Store.Hold(ctx, f.MemberID)
		if err != nil || h == nil || h.By != Automatic {
			return err
		}
		open, err := s.Store.Flags(ctx, FlagQuery{Status: Open, MemberID: f.MemberID, Limit: 1})
		if err != nil || len(open) > 0 {
			return err
		}
		if _, err := s.Store.DeleteHold(ctx, f.MemberID); err != nil {
			return err
		}
		return s.auditHold(ctx, a, "risk.hold.release", *h, "flag cleared")
	})
	return f, err
}

// flagTarget is the audit target of a decision on f: the member, or the
// guide a guide rule flagged.
func flagTarget(f Flag) string {
	if f.Dimension == GuideDim {
		return "guide:" + strings.Fields(f.Key + " ?")[1] // "guide <id>[ to <member>]"
	}
	return "member:" + strconv.FormatInt(f.MemberID, 10)
}

// PlaceHold holds a member by hand (Conflict when held already).
func (s *Service) PlaceHold(ctx context.Context, a Actor, memberID int64, reason string) (Hold, error) {
	defer s.holdsChanged() // this instance's next spend sees the change
	if reason == "" || len(reason) > 200 {
		return Hold{}, domain.FieldError("reason", "1 to 200 characters")
	}
	if _, err := s.Members.Phone(ctx, memberID); err != nil {
		return Hold{}, err
	}
	h := Hold{MemberID: memberID, Reason: reason, By: a.Name, CreatedAt: s.Clock.Now().UTC().Truncate(time.Millisecond)}
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.PutHold(ctx, h); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return domain.Errorf(domain.Conflict, "member %d is held already", memberID)
			}
			return err
		}
		return s.auditHold(ctx, a, "risk.hold.place", h, "")
	})
	return h, err
}

// ReleaseHold lifts a member's hold (NotFound when not held). Open flags
// stay open for review.
func (s *Service) ReleaseHold(ctx context.Context, a Actor, memberID int64, note string) error {
	defer s.holdsChanged() // this instance's next spend sees the change
	if len(note) > 500 {
		return domain.FieldError("note", "at most 500 characters")
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		h, err := s.Store.Hold(ctx, memberID)
		if err != nil {
			return err
		}
		if h == nil {
			return domain.Errorf(domain.NotFound, "member %d is not held", memberID)
		}
		if _, err := s.Store.DeleteHold(ctx, memberID); err != nil {
			return err
		}
		return s.auditHold(ctx, a, "risk.hold.release", *h, note)
	})
}
