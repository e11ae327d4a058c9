package analytics

import (
	"context"
	"strings"
	"time"

	"github.com/jifen/jifen/domain"
)

// # The reminder effect
//
// A reminder (a marketer's campaign, or one of the automatic expiry
// reminders: T−30, T−7, T−1) reaches some members and, with a holdout
// share, leaves others out at random (reminder.HeldOut). Each member sent
// a message is *reached* at the moment it was delivered; each member held
// out is recorded at the moment the message would have gone out. A member
// *converts* when, within EffectWindow after that moment, they order (an
// earn referencing an order) or redeem points (a spend through the mall,
// checkout or a draw): Converts. Comparing the share of the reached who
// converted with the share of the held out (CompareGroups) tells what the
// reminder itself did, since both groups were chosen from the same
// audience by chance.

// EffectWindow is how long after a reach a conversion counts.
const EffectWindow = 7 * 24 * time.Hour

// ReminderOf names the reminder of an outbox campaign key, dropping the
// run: "campaign:12:3" → "campaign:12", "auto:7:2026-12-01" → "auto:7".
func ReminderOf(key string) string {
	if i := strings.LastIndexByte(key, ':'); i > 0 {
		return key[:i]
	}
	return key
}

// Converts reports whether a journal entry is a conversion: a paid order
// that earned points, or the member's own redemption (mall, checkout,
// lottery) — the same entries Fold counts as an active member-day's orders
// and redemptions.
func Converts(e Entry) bool {
	kind, src, ok := Classify(e)
	return ok && (isOrder(e, kind, src) || isRedeem(kind, src))
}

func isOrder(e Entry, kind, src string) bool {
	return kind == Issued && e.Kind == "earn" && src == "orders"
}
func isRedeem(kind, src string) bool { return kind == Spent && redeemSinks[src] }

// OpenReach is a reach whose outcome is not final: not converted, and its
// window not closed when last looked at.
type OpenReach struct {
	ID        int64
	MemberID  int64
	ReachedAt time.Time
}

// ReachOutcome is what Settle decided for one open reach.
type ReachOutcome struct {
	ID          int64
	ConvertedAt *time.Time // the first conversion within the window
	Closed      bool       // converted, or the window ended before the horizon: final
}

// Settle decides the open reaches from the journal entries of their
// members up to horizon (entries at or after it are not looked at): a
// reach converts at its member's first converting entry in
// [reached at, reached at + EffectWindow); it is final once converted or
// once its window has ended before horizon.
func Settle(open []OpenReach, entries []Entry, horizon time.Time) []ReachOutcome {
	byMember := map[int64][]Entry{}
	for _, e := range entries {
		if e.CreatedAt.Before(horizon) && Converts(e) {
			byMember[e.MemberID] = append(byMember[e.MemberID], e)
		}
	}
	out := make([]ReachOutcome, 0, len(open))
	for _, r := range open {
		end := r.ReachedAt.Add(EffectWindow)
		o := ReachOutcome{ID: r.ID, Closed: !horizon.Before(end)}
		for _, e := range byMember[r.MemberID] {
			if !e.CreatedAt.Before(r.ReachedAt) && e.CreatedAt.Before(end) && (o.ConvertedAt == nil || e.CreatedAt.Before(*o.ConvertedAt)) {
				at := e.CreatedAt
				o.ConvertedAt = &at
			}
		}
		if o.ConvertedAt != nil {
			o.Closed = true
		}
		out = append(out, o)
	}
	return out
}

// ReachStore keeps the reach facts (repo/analyticsstore).
type ReachStore interface {
	// ReachStep, in one transaction: lock the reach cursor (a time), record
	// a reach for every outbox row delivered (at its delivery) or held out
	// (at the time it would have gone out) in [cursor, min(cursor + a day,
	// until)), naming its reminder by ReminderOf, and move the cursor
	// there. done reports whether the cursor reached until.
	ReachStep(ctx context.Context, until time.Time) (done bool, err error)
	// SettleStep, in one transaction: read up to limit open reaches after
	// id afterID reached before horizon, the journal entries of their
	// members from the earliest reach up to horizon, record what settle
	// decides and return the last id read and how many were read.
	SettleStep(ctx context.Context, afterID int64, limit int, horizon time.Time,
		settle func([]OpenReach, []Entry) []ReachOutcome) (lastID int64, n int, err error)
	// ReachCounts returns, per reminder, the reaches of from…to (by the
	// Shanghai day of the reach): final ones by group and converted, and
	// the open ones.
	ReachCounts(ctx context.Context, from, to domain.Day) ([]ReachCount, error)
}

// ReachCount is what ReachCounts returns for one reminder.
type ReachCount struct {
	Reminder    string // "campaign:12", "auto:7"
	Name        string // the campaign's name ("" for the automatic reminders)
	Reached     int64  // final reaches of members sent the message
	ReachedConv int64  // of them, converted
	Holdout     int64  // final reaches of members held out
	HoldoutConv int64  // of them, converted
	Open        int64  // reaches whose window has not ended and who have not converted yet
}

// ReminderEffect is the effect of one reminder over a range of reach days.
type ReminderEffect struct {
	Reminder           string // "campaign:12" or "auto:7"
	Kind               string // "campaign" or "expiry"
	CampaignID         int64  // campaigns only
	Name               string // the campaign's name
	OffsetDays         int    // expiry reminders only: days before the points expire
	ReachedN, ReachedK int64
	HoldoutN, HoldoutK int64
	Open               int64
	Effect             Effect
}

// ReachFacts brings the reach facts up to now − Lag: it records new
// reaches and settles open ones. Idempotent and resumable, like Facts.
func (s *Service) ReachFacts(ctx context.Context) (reaches, settled int, err error) {
	if s.Reach == nil {
		return 0, 0, nil
	}
	horizon := s.Clock.Now().Add(-s.lag())
	for {
		done, err := s.Reach.ReachStep(ctx, horizon)
		if err != nil {
			return 0, 0, err
		}
		reaches++
		if done {
			break
		}
	}
	size := s.Batch
	if size <= 0 {
		size = 2000
	}
	after := int64(0)
	for {
		last, n, err := s.Reach.SettleStep(ctx, after, size, horizon, func(open []OpenReach, es []Entry) []ReachOutcome {
			return Settle(open, es, horizon)
		})
		if err != nil {
			return reaches, settled, err
		}
		settled += n
		if n < size {
			return reaches, settled, nil
		}
		after = last
	}
}

// ReminderEffects reports every reminder that reached or held out anyone
// on from…to (Shanghai days of the reach), with the effect of the reached
// group against the held-out one over EffectWindow. Reaches whose window
// is still open and who have not converted are counted in Open only.
func (s *Service) ReminderEffects(ctx context.Context, from, to domain.Day) ([]ReminderEffect, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	counts, err := s.Reach.ReachCounts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]ReminderEffect, 0, len(counts))
	for _, c := range counts {
		r := ReminderEffect{Reminder: c.Reminder, Name: c.Name, ReachedN: c.Reached, ReachedK: c.ReachedConv,
			HoldoutN: c.Holdout, HoldoutK: c.HoldoutConv, Open: c.Open,
			Effect: CompareGroups(c.Reached, c.ReachedConv, c.Holdout, c.HoldoutConv)}
		kind, id, _ := strings.Cut(c.Reminder, ":")
		switch kind {
		case "campaign":
			r.Kind = "campaign"
			r.CampaignID = parseInt(id)
		case "auto":
			r.Kind = "expiry"
			r.OffsetDays = int(parseInt(id))
		default:
			r.Kind = kind
		}
		out = append(out, r)
	}
	return out, nil
}

func parseInt(s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func (s *Service) lag() time.Duration {
	if s.Lag <= 0 {
		return 5 * time.Minute
	}
	return s.Lag
}
