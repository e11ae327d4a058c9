package signin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/leaderboard"
	"github.com/jifen/jifen/domain/ledger"
)

// # Group commit
//
// Sign-ins that arrive outside a caller's transaction are committed in
// groups (package group): a committer takes the first waiting sign-in and
// every other one queued behind it and signs them all in in ONE
// transaction:
//
//  1. one load (Store.LoadGroup): the members' ledger accounts taken and,
//     after that, one plain read of their rows of today and yesterday: a member
//     already signed in today gets AlreadySignedIn, and so does every
//     request of a member behind their first one in the group. The account
//     lock is the member-level lock a make-up also takes before it writes
//     (Makeup, ledger.LockMember): a make-up in flight is waited for and
//     its rows are then read; one that comes later waits for this commit
//     and renumbers today's row;
//  2. Rewards.Decide for each request (the same decision a lone sign-in
//     makes; tiers from one TiersOf call per group, before the
//     transaction), then the new day rows, inserted at once;
//  3. for members whose account step 1 did not take (none yet, or a
//     store that takes accounts only when the ledger applies), their rows of
//     yesterday taken, now
//     that today's rows hold their locks: a make-up of yesterday (or
//     renumbering through it) that had not committed at step 1 is waited
//     for and seen, and a row whose streak changed is decided again and
//     corrected (a rare single-row update). A make-up whose renumbering scan reaches today's
//     row after step 2 waits for this commit and renumbers it, as with a
//     lone sign-in;
//  4. ledger.ApplyWithoutIDs of every award (key "signin:<member>:<yyyymmdd>"),
//     on the accounts step 1 took, saved at once;
//  5. commit; the calendar bits of the group are set at once
//     (Calendar.MarkMany) and the boards told in one call (Boards).
//
// How many requests that costs the server is repo/signinstore's (its
// package doc).
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
	marked bool // the calendar bit is set and the boards told already
}

// GroupStats reports how many groups group commit has committed and how
// many sign-ins they answered (signed in or AlreadySignedIn; the rest ran
// alone).
func (s *Service) GroupStats() (groups, grouped int64) {
	return s.group.Stats()
}

// grouped reports whether a sign-in with ctx goes through group commit.
func (s *Service) grouped(ctx context.Context) bool {
	return s.GroupCommit.On(ctx, s.Tx)
}

// submit queues a sign-in and waits for its group's answer; alone means
// the caller must run it through the ordinary path, marked that the group
// has set its calendar bit.
func (s *Service) submit(ctx context.Context, memberID int64, now time.Time) (res Result, alone, marked bool, err error) {
	if err := ctx.Err(); err != nil {
		return Result{}, false, false, err
	}
	j := &job{ctx: ctx, memberID: memberID, now: now, done: make(chan jobResult, 1)}
	s.group.Submit(s.GroupCommit.CappedAt(ledger.MaxApply), s.commitGroup, j) // one ApplyWithoutIDs per group
	// Once queued the job is answered whatever happens to ctx: the group
	// may already have committed it.
	r := <-j.done
	return r.res, r.alone, r.marked, r.err
}

// commitGroup commits one transaction per day of the jobs (nearly always
// one) and answers every job.
func (s *Service) commitGroup(jobs []*job) {
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
		s.commitDay(d, byDay[d])
	}
}

func (s *Service) commitDay(today domain.Day, jobs []*job) {
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
		err = batch.InTx(ctx, s.Tx, func(ctx context.Context) error {
			// Runs again after a deadlock: start from nothing.
			var err error
			answers, err = s.signInGroup(ctx, today, jobs, members, tiers)
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
		// The answers' balances as reads show them: one read for the group.
		after := map[int64]int64{}
		for j, a := range answers {
			if a.err == nil {
				after[j.memberID] = a.res.Balance
			}
		}
		shown := s.shown(ctx, after)
		for j, a := range answers {
			if a.err == nil {
				a.res.Balance = shown[j.memberID]
				answers[j] = a
			}
		}
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

// markAll sets the calendar bits of the group's sign-ins at once and tells
// the boards; true: the callers have nothing left to do after the commit.
func (s *Service) markAll(ctx context.Context, today domain.Day, answers map[*job]jobResult) bool {
	var ms []int64
	var signins []leaderboard.SignIn
	for j, a := range answers {
		if a.err == nil {
			ms = append(ms, j.memberID)
			signins = append(signins, leaderboard.SignIn{MemberID: j.memberID, Streak: a.res.Streak, Earned: Total(a.res.Awarded)})
		}
	}
	if len(ms) == 0 {
		return true
	}
	// A mark that fails is the Calendar's to send again (see Calendar);
	// the boards are rebuilt from SQL when they expire.
	_ = s.Cache.MarkMany(ctx, ms, today)
	s.afterCommit(ctx, signins)
	return true
}

// tiersOf looks up the members' tiers for the tier multiplier, before the
// transaction: a group's members in one call, a lone sign-in's member
// alone, with one fallback ("normal" when Tiers is nil or names none).
func (s *Service) tiersOf(ctx context.Context, members []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if s.Tiers != nil {
		m, err := s.Tiers.TiersOf(ctx, members)
		if err != nil {
			return nil, err
		}
		out = m
	}
	for _, id := range members {
		if out[id] == "" {
			out[id] = "normal"
		}
	}
	return out, nil
}

// signInGroup runs steps 1–4 of the group-commit notes in the transaction
// in ctx, deciding each sign-in with Rewards.Decide. members are the
// jobs' members, ascending and unique. Any error means: roll back, every
// job alone.
func (s *Service) signInGroup(ctx context.Context, today domain.Day, jobs []*job, members []int64, tiers map[int64]string) (map[*job]jobResult, error) {
	yesterday := today.AddDays(-1)
	loaded, err := s.Store.LoadGroup(ctx, SignInGroupQuery{Members: members, Days: []domain.Day{today, yesterday}})
	if err != nil {
		return nil, err
	}
	state := make(map[int64]*Member, len(members))
	for _, m := range members {
		state[m] = &Member{ID: m, Tier: tiers[m]}
	}
	for _, r := range loaded.Rows {
		if r.Day == today {
			state[r.MemberID].Taken = true
		} else {
			state[r.MemberID].Yesterday = r.Streak
		}
	}
	answers := make(map[*job]jobResult, len(jobs))
	type signIn struct {
		job   *job
		rec   Record
		lines []Line
	}
	ins := map[int64]*signIn{}
	for _, j := range jobs {
		m := state[j.memberID]
		rec, lines, err := s.Rewards.Decide(*m, j.now)
		if err != nil {
			answers[j] = jobResult{err: err}
			continue
		}
		m.Taken = true // for the member's later requests in the group
		ins[m.ID] = &signIn{job: j, rec: rec, lines: lines}
	}
	var recs []Record // ascending by member: rows are inserted (locked) in that order
	for _, m := range members {
		if in := ins[m]; in != nil {
			recs = append(recs, in.rec)
		}
	}
	if len(recs) == 0 {
		return answers, nil
	}
	if err := s.Store.InsertMany(ctx, recs); err != nil {
		return nil, err
	}
	// Yesterday again, locked, now that today's rows are ours (see step 3),
	// for the members whose account the load did not take; a changed
	// streak is decided again.
	var unlocked []int64
	for _, r := range recs {
		if !loaded.AccountTaken[r.MemberID] {
			unlocked = append(unlocked, r.MemberID)
		}
	}
	if len(unlocked) > 0 {
		again, err := s.Store.Rows(ctx, unlocked, []domain.Day{yesterday}, true)
		if err != nil {
			return nil, err
		}
		for _, m := range unlocked {
			state[m].Yesterday = 0
		}
		for _, r := range again {
			state[r.MemberID].Yesterday = r.Streak
		}
		for i, r := range recs {
			in, m := ins[r.MemberID], *state[r.MemberID]
			m.Taken = false
			rec, lines, _ := s.Rewards.Decide(m, in.job.now)
			if rec.Streak == r.Streak && rec.Points == r.Points {
				continue
			}
			recs[i], in.rec, in.lines = rec, rec, lines
			if err := s.Store.Settle(ctx, rec.MemberID, today, rec.Streak, rec.Points); err != nil {
				return nil, err
			}
		}
	}
	balances, err := s.awardAll(ctx, recs)
	if err != nil {
		return nil, err
	}
	for i, rec := range recs {
		answers[ins[rec.MemberID].job] = jobResult{res: Result{Day: today, Streak: rec.Streak, Awarded: ins[rec.MemberID].lines, Balance: balances[i]}}
	}
	return answers, nil
}

// awardAll earns the points of recs in the transaction in ctx with one
// ledger operation (ApplyWithoutIDs: the group reads no entry id) and returns
// each member's balance after it. Any refusal fails the group.
func (s *Service) awardAll(ctx context.Context, recs []Record) ([]int64, error) {
	balances := make([]int64, len(recs))
	var ops []ledger.Op
	var earners []int
	for i, rec := range recs {
		if rec.Points > 0 {
			in := earning(rec)
			ops = append(ops, ledger.Op{Earn: &in})
			earners = append(earners, i)
		}
	}
	if len(ops) > 0 {
		entries, errs, err := s.Ledger.ApplyWithoutIDs(ctx, ops)
		if err != nil {
			return nil, err
		}
		for k, i := range earners {
			if errs[k] != nil {
				return nil, fmt.Errorf("award of member %d: %w", recs[i].MemberID, errs[k])
			}
			balances[i] = entries[k].BalanceAfter
		}
	}
	for i, rec := range recs {
		if rec.Points <= 0 {
			b, err := s.Ledger.Balance(ctx, rec.MemberID)
			if err != nil {
				return nil, err
			}
			balances[i] = b.Available
		}
	}
	return balances, nil
}
