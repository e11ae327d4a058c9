// Package analytics keeps the figures a brand runs its points programme by,
// as daily facts in the database, built incrementally from the ledger's
// journal: points issued by source, spent by sink, expired, clawed back and
// returned, per Shanghai day; the members active on each day; and a daily
// snapshot of the outstanding points (the brand's liability), by tier and by
// the month they expire in.
//
// # How the facts are built
//
// Run reads the journal in id order from a cursor, a batch at a time, and
// adds each batch to the facts and moves the cursor in one transaction: a
// crash loses nothing and counts nothing twice, and several instances
// running it at once take turns on the cursor row. Entries younger than Lag
// are left for the next run: ids are taken at insert and become visible at
// commit, so an entry with a smaller id can appear after a larger one; no
// ledger transaction stays open anywhere near Lag (5 minutes by default).
//
// # What each entry counts as
//
// Classify decides it, from the entry's kind, sign and reference (the same
// sign convention as the ledger, so the facts of a day add up to the
// change of the net balance: issued − spent − expired − clawed back +
// returned = Σ delta):
//
//	earn                    issued, by source (orders, signin, tasks, lottery, referral, birthday, …)
//	adjust +                issued, by source console or guide_grants (a guide's grant)
//	adjust −                spent, by sink console
//	spend, capture          spent, by sink (mall, lottery, tier, checkout)
//	expire                  expired
//	release −               expired (a hold given back into lots that expired meanwhile)
//	reverse − (of an earn)  clawed_back, by source
//	reverse + (of a spend)  returned, by sink (a mall refund, a checkout refund)
//	unlock, hold, 0 deltas  nothing (points changed state, not amount)
package analytics

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/jifen/jifen/domain"
)

// Fact kinds.
const (
	Issued     = "issued"
	Spent      = "spent"
	Expired    = "expired"
	ClawedBack = "clawed_back"
	Returned   = "returned"
)

// Kinds lists the fact kinds in the order reports show them.
var Kinds = []string{Issued, Spent, Expired, ClawedBack, Returned}

// Entry is what Classify needs of a journal entry.
type Entry struct {
	ID        int64
	MemberID  int64
	Kind      string // ledger entry kind
	Delta     int64
	RefType   string
	Operator  string
	CreatedAt time.Time
}

// source names an entry's origin or destination from its reference.
func source(e Entry) string {
	switch e.RefType {
	case "order", "refund":
		return "orders"
	case "signin", "signin_makeup":
		return "signin"
	case "task":
		return "tasks"
	case "lottery_draw":
		return "lottery"
	case "adjust":
		if strings.HasPrefix(e.Operator, "guide:") {
			return "guide_grants"
		}
		return "console"
	case "":
		return "other"
	}
	return e.RefType // referral, birthday, tier, mall, checkout, …
}

// Classify says what an entry counts as: a fact kind and its source or
// sink; ok is false for entries that change no amount.
func Classify(e Entry) (kind, src string, ok bool) {
	if e.Delta == 0 {
		return "", "", false
	}
	switch e.Kind {
	case "earn":
		return Issued, source(e), true
	case "adjust":
		if e.Delta > 0 {
			return Issued, source(e), true
		}
		return Spent, source(e), true
	case "spend":
		return Spent, source(e), true
	case "capture":
		if e.RefType == "" {
			return Spent, "checkout", true
		}
		return Spent, source(e), true
	case "expire", "release":
		return Expired, "", true
	case "reverse":
		if e.Delta < 0 {
			return ClawedBack, source(e), true
		}
		return Returned, source(e), true
	}
	return "", "", false
}

// Fact is one day's total of one kind from one source.
type Fact struct {
	Day     domain.Day
	Kind    string
	Source  string
	Points  int64 // always ≥ 0; the kind says which way it went
	Entries int64
}

// Active is a member active on a day: they earned or spent through one of
// their own actions (an order, a sign-in, a task, a draw, a redemption,
// checkout), not through the console, a guide or a job.
type Active struct {
	Day      domain.Day
	MemberID int64
	Orders   int64 // paid orders that earned points (earns referencing an order)
	Redeems  int64 // spends through the member's own redemption: mall, checkout, lottery
}

// redeemSinks are the sinks a member redeems points through.
var redeemSinks = map[string]bool{"mall": true, "checkout": true, "lottery": true}

// activeSources are the sources and sinks that are a member's own doing.
var activeSources = map[string]bool{"orders": true, "signin": true, "tasks": true, "lottery": true, "mall": true, "checkout": true}

// Batch is what one step of Run adds.
type Batch struct {
	Facts  []Fact
	Active []Active
	LastID int64 // the cursor after this batch
}

// Fold classifies entries (in id order) into a batch, stopping at the first
// entry created at or after horizon. done reports whether it stopped there.
func Fold(entries []Entry, horizon time.Time) (b Batch, done bool) {
	idx := map[[3]string]int{}
	seen := map[Active]int{} // {day, member} → index in b.Active
	for _, e := range entries {
		if !e.CreatedAt.Before(horizon) {
			return b, true
		}
		b.LastID = e.ID
		kind, src, ok := Classify(e)
		if !ok {
			continue
		}
		day := domain.DayOf(e.CreatedAt)
		k := [3]string{day.String(), kind, src}
		i, found := idx[k]
		if !found {
			i = len(b.Facts)
			idx[k] = i
			b.Facts = append(b.Facts, Fact{Day: day, Kind: kind, Source: src})
		}
		b.Facts[i].Points += abs(e.Delta)
		b.Facts[i].Entries++
		if activeSources[src] {
			a := Active{Day: day, MemberID: e.MemberID}
			j, found := seen[a]
			if !found {
				j = len(b.Active)
				seen[a] = j
				b.Active = append(b.Active, a)
			}
			if isOrder(e, kind, src) {
				b.Active[j].Orders++
			}
			if isRedeem(kind, src) {
				b.Active[j].Redeems++
			}
		}
	}
	return b, false
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// Store keeps the facts (repo/analyticsstore).
type Store interface {
	// Step, in one transaction: lock the cursor, read up to limit entries
	// after it in id order, let fold turn them into a batch, add the batch
	// and move the cursor to its LastID. It returns what fold returned.
	Step(ctx context.Context, limit int, fold func([]Entry) (Batch, bool)) (n int, done bool, err error)
	// Snapshot replaces the outstanding-points snapshot of day.
	Snapshot(ctx context.Context, day domain.Day, now time.Time) error
	// Days returns the facts and active-member counts of from…to (inclusive).
	Days(ctx context.Context, from, to domain.Day) ([]Fact, map[domain.Day]int64, error)
	// Outstanding returns the latest snapshot (found false before the first).
	Outstanding(ctx context.Context) (o Outstanding, found bool, err error)
}

// Outstanding is the liability on one day: the net balance of every
// account (available + pending + held − debt), by tier, and the available
// points expiring in each of the next 12 months (Shanghai months).
type Outstanding struct {
	Day      domain.Day
	Total    int64
	ByTier   map[string]int64 // tier code → points (the store says "" for members without a tier row; the Service counts them at the first level)
	Expiring []MonthAmount    // 12 months from the snapshot's month
}

// MonthAmount is the points expiring in a month ("2026-12").
type MonthAmount struct {
	Month  string
	Points int64
}

// Service builds and reads the facts.
type Service struct {
	Store Store
	// MemberFacts keeps the member facts (repo/analyticsstore's Store is
	// both); nil leaves them out of a run.
	MemberFacts MemberStore
	// Growth reads the referral funnel and the lottery's cost.
	Growth GrowthStore
	// Reach keeps the reminder effect's reach facts; nil leaves them out
	// of a run.
	Reach ReachStore
	Clock domain.Clock
	Lag   time.Duration // entries younger than this wait for the next run (default 5m)
	Batch int           // entries per transaction (default 2000)
	// FenPerPoint values the liability (configured; 0 = not shown).
	FenPerPoint int64
	// FirstTier is the code of the first tier level: a member without a
	// tier row is at it, and the reports count them there.
	FirstTier string
}

// byTier folds the members without a tier row ("") into the first level.
func (s *Service) byTier(m map[string]int64) map[string]int64 {
	if n, ok := m[""]; ok && s.FirstTier != "" {
		delete(m, "")
		m[s.FirstTier] += n
	}
	return m
}

// Report is what a run did.
type Report struct {
	Entries int // journal entries read
	Steps   int
	Members int // members read for the new-member facts
	Reaches int // reminder reaches looked at to settle their conversion
}

// Run brings the facts up to now − Lag and takes today's liability
// snapshot (what `jifen analytics` does). It is idempotent and resumable.
func (s *Service) Run(ctx context.Context) (Report, error) {
	rep, err := s.Facts(ctx)
	if err != nil {
		return rep, err
	}
	return rep, s.Snapshot(ctx)
}

// Snapshot replaces today's snapshot of the outstanding points.
func (s *Service) Snapshot(ctx context.Context) error {
	now := s.Clock.Now()
	return s.Store.Snapshot(ctx, domain.DayOf(now), now)
}

// Facts brings the daily facts up to now − Lag.
func (s *Service) Facts(ctx context.Context) (Report, error) {
	now := s.Clock.Now()
	lag, size := s.Lag, s.Batch
	if lag <= 0 {
		lag = 5 * time.Minute
	}
	if size <= 0 {
		size = 2000
	}
	horizon := now.Add(-lag)
	var rep Report
	for {
		n, done, err := s.Store.Step(ctx, size, func(es []Entry) (Batch, bool) { return Fold(es, horizon) })
		if err != nil {
			return rep, err
		}
		rep.Entries += n
		rep.Steps++
		if done || n < size {
			break
		}
	}
	if s.MemberFacts != nil {
		n, err := s.newMembers(ctx, size, horizon)
		rep.Members += n
		if err != nil {
			return rep, err
		}
	}
	var err error
	_, rep.Reaches, err = s.ReachFacts(ctx)
	return rep, err
}

// DayReport is one day of Points.
type DayReport struct {
	Day    domain.Day
	Totals map[string]int64            // kind → points
	By     map[string]map[string]int64 // kind → source → points
	Active int64                       // members active that day
}

// MaxRange bounds a report (days).
const MaxRange = 366

// Points reports from…to, one entry per day (days without facts are zero).
func (s *Service) Points(ctx context.Context, from, to domain.Day) ([]DayReport, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	facts, active, err := s.Store.Days(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []DayReport
	at := map[domain.Day]int{}
	for d := from; !to.Before(d); d = d.AddDays(1) {
		at[d] = len(out)
		r := DayReport{Day: d, Totals: map[string]int64{}, By: map[string]map[string]int64{}, Active: active[d]}
		for _, k := range Kinds {
			r.Totals[k] = 0
			r.By[k] = map[string]int64{}
		}
		out = append(out, r)
	}
	for _, f := range facts {
		i, ok := at[f.Day]
		if !ok {
			continue
		}
		out[i].Totals[f.Kind] += f.Points
		if f.Source != "" {
			out[i].By[f.Kind][f.Source] += f.Points
		}
	}
	return out, nil
}

// ValueFen is what points are worth at FenPerPoint (0 when not
// configured), capped at the largest int64 rather than overflowing.
func (s *Service) ValueFen(points int64) int64 {
	f := s.FenPerPoint
	if f <= 0 {
		return 0
	}
	if points > math.MaxInt64/f || points < math.MinInt64/f {
		return math.MaxInt64 // beyond what int64 fen can say
	}
	return points * f
}

// Liability returns the latest snapshot; NotFound before the first run.
func (s *Service) Liability(ctx context.Context) (Outstanding, error) {
	o, found, err := s.Store.Outstanding(ctx)
	if err != nil {
		return Outstanding{}, err
	}
	if !found {
		return Outstanding{}, domain.Errorf(domain.NotFound, "no snapshot yet: the analytics job has not run (jifen analytics)")
	}
	o.ByTier = s.byTier(o.ByTier)
	return o, nil
}
