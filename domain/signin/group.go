package signin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/group"
	"github.com/jifen/jifen/domain/ledger"
)

// # Group commit
//
// Sign-ins that arrive outside a caller's transaction are committed in
// groups (package group): a committer takes the first waiting sign-in and
// every other one queued behind it and signs them all in in ONE
// transaction:
//
//  1. the members' ledger accounts locked (ledger.Prelock) and, after
//     that, one plain read of their rows of today and yesterday: a member
//     already signed in today gets AlreadySignedIn, and so does every
//     request of a member behind their first one in the group. The account
//     lock is the member-level lock a make-up also takes before it writes
//     (Makeup, ledger.LockMember): a make-up in flight is waited for and
//     its rows are then read; one that comes later waits for this commit
//     and renumbers today's row;
//  2. one multi-row INSERT of the new day rows, with the streak from
//     yesterday's row and the points of the reward ladder (tier multipliers
//     from one TiersOf call per group, before the transaction);
//  3. for members whose account step 1 did not lock (none yet, or a ledger
//     without Prelock), one locking read of their rows of yesterday, now
//     that today's rows hold their locks: a make-up of yesterday (or
//     renumbering through it) that had not committed at step 1 is waited
//     for and seen, and a row whose streak changed is corrected (a rare
//     single-row update). A make-up whose renumbering scan reaches today's
//     row after step 2 waits for this commit and renumbers it, as with a
//     lone sign-in;
//  4. ledger.ApplyLate of every award (key "signin:<member>:<yyyymmdd>"),
//     on the accounts step 1 locked, with multi-row writes;
//  5. commit; the calendar bits of the group are set in one round trip
//     (GroupCalendar) and each caller then updates its boards in Redis.
//
// In a pipelined transaction (MySQL, repo.DB.InPipelinedTx) that is two
// requests to the server: the account lock, the read of step 1 and the
// BEGIN in one; the INSERT of step 2, the ledger's writes and the COMMIT
// in the other (plus step 3 when some member had no account).
//
// Nothing waits for a group to fill: under light load a group is one
// request. A day row taken by a concurrent group or lone sign-in after the
// first read fails the INSERT (duplicate key): the transaction rolls back
// and runs again (up to groupAttempts times), its first read now finding
// that row. Any other failure (a ledger refusal, a tier lookup error, a
// deadlock beyond InTx's retries), or taken rows on every attempt, rolls
// the group back and every request of it runs alone through the ordinary
// path, which gives the exact answer. A group straddling midnight commits
// one transaction per day.

// GroupCommit configures group commit of sign-ins. The zero value turns it
// off (every sign-in runs alone).
type GroupCommit struct {
	// Committers is how many groups may commit at once (0: off).
	Committers int
	// Max caps the sign-ins of one group (64 when 0, ledger.MaxApply at most).
	Max int
}

// BatchStore is what group commit needs beyond Store; a Store that does not
// implement it gets no group commit.
type BatchStore interface {
	// Rows returns the members' rows of the given days, locking them (FOR
	// UPDATE on MySQL) when lock.
	Rows(ctx context.Context, members []int64, days []domain.Day, lock bool) ([]Record, error)
	// InsertMany stores rs with one statement, which may travel with the
	// transaction's next statement (a pipelined transaction): a taken
	// (member, day) fails it, or that next statement, with ErrDuplicate
	// (wrapped) and the transaction must roll back.
	InsertMany(ctx context.Context, rs []Record) error
}

// GroupCalendar is a Calendar that marks one day of many members at once
// (one round trip). A group marks its sign-ins with it after the commit,
// before answering, so the callers skip their own Mark.
type GroupCalendar interface {
	MarkMany(ctx context.Context, members []int64, day domain.Day) error
}

// GroupTiers is a Tiers that answers for many members at once (one query
// per group; tier.Service). Members missing from the map are "normal".
type GroupTiers interface {
	TiersOf(ctx context.Context, members []int64) (map[int64]string, error)
}

// Applier is a Ledger that applies many earns in the caller's transaction
// at once (ledger.Service.Apply).
type Applier interface {
	Apply(ctx context.Context, ops []ledger.Op) ([]ledger.Entry, []error, error)
}

// LateApplier is an Applier whose entries may travel with the COMMIT when
// their ids are not read (ledger.Service.ApplyLate): a group reads only
// the balances.
type LateApplier interface {
	ApplyLate(ctx context.Context, ops []ledger.Op) ([]ledger.Entry, []error, error)
}

// Prelocker is a Ledger that can lock the accounts a later Apply will
// lock with the transaction's next statement (ledger.Service.Prelock).
type Prelocker interface {
	Prelock(ctx context.Context, members []int64, withLots map[int64]bool) (locked func(memberID int64) bool, err error)
}

// groupAttempts bounds the transactions of a group that keeps meeting taken
// day rows before its requests run alone.
const groupAttempts = 3

type job struct {
	ctx      context.Context
	memberID int64
	now      time.Time
	done     chan jobResult
}

type jobResult struct {
	res    Result
	err    error
	alone  bool // run it through the ordinary path
	marked bool // the calendar bit is set already
}

// GroupStats reports how many groups group commit has committed and how
// many sign-ins they answered (signed in or AlreadySignedIn; the rest ran
// alone).
func (s *Service) GroupStats() (groups, grouped int64) {
	return s.group.Stats()
}

// grouped reports whether a sign-in with ctx goes through group commit.
func (s *Service) grouped(ctx context.Context) (BatchStore, bool) {
	bs, ok := s.Store.(BatchStore)
	return bs, ok && group.Eligible(ctx, s.Group.Committers, s.Tx)
}

// submit queues a sign-in and waits for its group's answer; alone means
// the caller must run it through the ordinary path, marked that the group
// has set its calendar bit.
func (s *Service) submit(ctx context.Context, bs BatchStore, memberID int64, now time.Time) (res Result, alone, marked bool, err error) {
	if err := ctx.Err(); err != nil {
		return Result{}, false, false, err
	}
	j := &job{ctx: ctx, memberID: memberID, now: now, done: make(chan jobResult, 1)}
	limit := s.Group.Max
	if limit <= 0 {
		limit = 64
	}
	s.group.Submit(s.Group.Committers, min(limit, ledger.MaxApply), func(jobs []*job) { s.commitGroup(bs, jobs) }, j)
	// Once queued the job is answered whatever happens to ctx: the group
	// may already have committed it.
	r := <-j.done
	return r.res, r.alone, r.marked, r.err
}

// commitGroup commits one transaction per day of the jobs (nearly always
// one) and answers every job.
func (s *Service) commitGroup(bs BatchStore, jobs []*job) {
	var days []domain.Day
	byDay := map[domain.Day][]*job{}
	for _, j := range jobs {
		d := domain.DayOf(j.now)
		if _, ok := byDay[d]; !ok {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], j)
	}
	for _, d := range days {
		s.commitDay(bs, d, byDay[d])
	}
}

func (s *Service) commitDay(bs BatchStore, today domain.Day, jobs []*job) {
	ctx := context.WithoutCancel(jobs[0].ctx)
	members := make([]int64, 0, len(jobs))
	for _, j := range jobs {
		members = append(members, j.memberID)
	}
	slices.Sort(members)
	members = slices.Compact(members)
	var answers map[*job]jobResult
	tiers, err := s.tiersOf(ctx, members)
	// A day row taken since the first read (by a concurrent group, which
	// has committed by the time our INSERT fails on it) is seen by the
	// next attempt's first read: try again a little before giving up.
	for attempt := 0; err == nil; attempt++ {
		err = group.InTx(ctx, s.Tx, func(ctx context.Context) error {
			// Runs again after a deadlock: start from nothing.
			var err error
			answers, err = s.signInGroup(ctx, bs, today, jobs, members, tiers)
			return err
		})
		if !errors.Is(err, ErrDuplicate) || attempt == groupAttempts-1 {
			break
		}
		err = nil
	}
	marked := false
	if err == nil {
		s.group.Done(len(answers))
		marked = s.markAll(ctx, today, answers)
	}
	for _, j := range jobs {
		if a, ok := answers[j]; ok && err == nil {
			a.marked = marked && a.err == nil
			j.done <- a
		} else {
			j.done <- jobResult{alone: true}
		}
	}
}

// markAll sets the calendar bits of the group's sign-ins in one round trip
// when the Calendar can; false leaves it to the callers.
func (s *Service) markAll(ctx context.Context, today domain.Day, answers map[*job]jobResult) bool {
	gc, ok := s.Cache.(GroupCalendar)
	if !ok {
		return false
	}
	var ms []int64
	for j, a := range answers {
		if a.err == nil {
			ms = append(ms, j.memberID)
		}
	}
	if len(ms) == 0 {
		return true
	}
	// Harmless if it fails, as Mark: the calendar rebuilds from SQL.
	_ = gc.MarkMany(ctx, ms, today)
	return true
}

// tiersOf looks up the members' tiers for the tier multiplier, before the
// transaction: a group's members in one call, a lone sign-in's member
// alone, with one fallback ("normal" when Tiers is nil or names none).
func (s *Service) tiersOf(ctx context.Context, members []int64) (map[int64]string, error) {
	out := map[int64]string{}
	switch t := s.Tiers.(type) {
	case nil:
	case GroupTiers:
		m, err := t.TiersOf(ctx, members)
		if err != nil {
			return nil, err
		}
		out = m
	default:
		for _, id := range members {
			tier, err := t.TierOf(ctx, id)
			if err != nil {
				return nil, err
			}
			out[id] = tier
		}
	}
	for _, id := range members {
		if out[id] == "" {
			out[id] = "normal"
		}
	}
	return out, nil
}

// signInGroup runs steps 1–4 of the group-commit notes in the transaction
// in ctx. members are the jobs' members, ascending and unique. Any error
// means: roll back, every job alone.
func (s *Service) signInGroup(ctx context.Context, bs BatchStore, today domain.Day, jobs []*job, members []int64, tiers map[int64]string) (map[*job]jobResult, error) {
	yesterday := today.AddDays(-1)
	// The members' accounts are locked first, with the first read (a
	// pipelined transaction): see step 1 of the notes.
	var locked func(int64) bool
	if p, ok := s.Ledger.(Prelocker); ok {
		var err error
		if locked, err = p.Prelock(ctx, members, nil); err != nil {
			return nil, err
		}
	}
	rows, err := bs.Rows(ctx, members, []domain.Day{today, yesterday}, false)
	if err != nil {
		return nil, err
	}
	signed, prev := map[int64]bool{}, map[int64]int{}
	for _, r := range rows {
		if r.Day == today {
			signed[r.MemberID] = true
		} else {
			prev[r.MemberID] = r.Streak
		}
	}
	answers := make(map[*job]jobResult, len(jobs))
	first := map[int64]*job{}
	for _, j := range jobs {
		if signed[j.memberID] || first[j.memberID] != nil {
			answers[j] = jobResult{err: domain.Errorf(domain.AlreadySignedIn, "already signed in on %s", today)}
			continue
		}
		first[j.memberID] = j
	}
	var recs []Record // ascending by member: rows are inserted (locked) in that order
	var fresh []int64
	for _, m := range members {
		if j := first[m]; j != nil {
			streak := prev[m] + 1
			recs = append(recs, Record{MemberID: m, Day: today, Streak: streak,
				Points: Total(s.Rewards.For(streak, tiers[m])), CreatedAt: j.now})
			fresh = append(fresh, m)
		}
	}
	if len(recs) == 0 {
		return answers, nil
	}
	if err := bs.InsertMany(ctx, recs); err != nil {
		return nil, err
	}
	// Yesterday again, locked, now that today's rows are ours (see step 3),
	// for the members whose account the first read did not lock.
	var unlocked []int64
	for _, m := range fresh {
		if locked == nil || !locked(m) {
			unlocked = append(unlocked, m)
		}
	}
	if len(unlocked) > 0 {
		again, err := bs.Rows(ctx, unlocked, []domain.Day{yesterday}, true)
		if err != nil {
			return nil, err
		}
		for _, m := range unlocked {
			delete(prev, m)
		}
		for _, r := range again {
			prev[r.MemberID] = r.Streak
		}
	}
	lines := make([][]Line, len(recs))
	var ops []ledger.Op
	var earners []int
	for i := range recs {
		r := &recs[i]
		lines[i] = s.Rewards.For(prev[r.MemberID]+1, tiers[r.MemberID])
		if streak, points := prev[r.MemberID]+1, Total(lines[i]); streak != r.Streak || points != r.Points {
			r.Streak, r.Points = streak, points
			if err := s.Store.Settle(ctx, r.MemberID, today, streak, points); err != nil {
				return nil, err
			}
		}
		if r.Points > 0 {
			ops = append(ops, ledger.Op{Earn: &ledger.EarnInput{MemberID: r.MemberID, Points: r.Points,
				Key: "signin:" + strconv.FormatInt(r.MemberID, 10) + ":" + strconv.Itoa(today.Int()),
				Ref: ledger.Ref{Type: "signin", ID: today.String()}, Title: "签到奖励", Operator: "system"}})
			earners = append(earners, i)
		}
	}
	entries, err := s.earnAll(ctx, ops)
	if err != nil {
		return nil, err
	}
	balances := make([]int64, len(recs))
	for k, i := range earners {
		balances[i] = entries[k].BalanceAfter
	}
	for i, r := range recs {
		if r.Points <= 0 {
			b, err := s.Ledger.Balance(ctx, r.MemberID)
			if err != nil {
				return nil, err
			}
			balances[i] = b.Available
		}
		answers[first[r.MemberID]] = jobResult{res: Result{Day: today, Streak: r.Streak, Awarded: lines[i], Balance: balances[i]}}
	}
	return answers, nil
}

// earnAll makes the awards in the transaction in ctx: one ledger.Apply when
// the ledger offers it, else one Earn each. Any refusal fails the group.
func (s *Service) earnAll(ctx context.Context, ops []ledger.Op) ([]ledger.Entry, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	a, ok := s.Ledger.(Applier)
	if !ok {
		out := make([]ledger.Entry, len(ops))
		for i, op := range ops {
			e, err := s.Ledger.Earn(ctx, *op.Earn)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	apply := a.Apply
	if la, ok := s.Ledger.(LateApplier); ok {
		apply = la.ApplyLate
	}
	entries, errs, err := apply(ctx, ops)
	if err != nil {
		return nil, err
	}
	for i, e := range errs {
		if e != nil {
			return nil, fmt.Errorf("award of member %d: %w", ops[i].Earn.MemberID, e)
		}
	}
	return entries, nil
}
