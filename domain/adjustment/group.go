package adjustment

import (
	"context"
	"slices"

	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
)

// # Group commit
//
// Adjustments that arrive outside a caller's transaction (the console's:
// many on one hot member, or on many members) are committed in groups
// (package batch): a committer takes the first waiting adjustment and
// every other one queued behind it and commits them in ONE transaction:
//
//  1. the members' ledger accounts taken (ledger.LockMembers, with the
//     live lots of those debited), then the members read at once
//     (Members.ByIDs; in a pipelined transaction the two travel together);
//  2. ledger.Apply of every adjustment of a member that exists, built by
//     input as a lone adjustment builds it: the ledger validates and
//     applies each exactly as Ledger.Adjust would (in memory, one
//     multi-row write; what it cannot group — a refusal, a replayed or
//     repeated key — it runs one by one in the same transaction, which
//     answers replays and IdempotencyConflict as a lone adjustment does);
//  3. one audit row per new entry (record, as alone; a replay writes
//     none), in one statement, with the entries' ids that step 2 read back;
//  4. commit.
//
// Nothing waits for a group to fill: under light load a group is one
// adjustment. An adjustment of a member who does not exist runs alone
// (the lone path answers NotFound). Any failure of the transaction (a key
// taken by a concurrent request fails a pipelined transaction on MySQL, a
// deadlock beyond InTx's retries) rolls the group back and every
// adjustment of it runs alone through adjustAlone, which gives the exact
// answer.

type job struct {
	ctx   context.Context
	actor Actor
	req   Request
	done  chan jobResult
}

type jobResult struct {
	entry ledger.Entry
	err   error
	alone bool // run it through adjustAlone
}

// GroupStats reports how many groups have committed and how many
// adjustments they answered (the rest ran alone).
func (s *Service) GroupStats() (groups, grouped int64) {
	return s.group.Stats()
}

// submit queues an adjustment and waits for its group's answer; alone
// means the caller must run it through adjustAlone.
func (s *Service) submit(ctx context.Context, actor Actor, r Request) (ledger.Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return ledger.Entry{}, false, err
	}
	j := &job{ctx: ctx, actor: actor, req: r, done: make(chan jobResult, 1)}
	s.group.Submit(s.GroupCommit.CappedAt(ledger.MaxApply), s.commitGroup, j) // one Apply per group
	// Once queued the job is answered whatever happens to ctx: the group
	// may already have committed it.
	a := <-j.done
	return a.entry, a.alone, a.err
}

// commitGroup commits one group and answers every job of it.
func (s *Service) commitGroup(jobs []*job) {
	ctx := context.WithoutCancel(jobs[0].ctx)
	var answers map[*job]jobResult
	err := batch.InTx(ctx, s.Tx, func(ctx context.Context) error {
		// Runs again after a deadlock: start from nothing.
		var err error
		answers, err = s.adjustGroup(ctx, jobs)
		return err
	})
	if err == nil {
		s.group.Done(len(answers))
	}
	for _, j := range jobs {
		if a, ok := answers[j]; ok && err == nil {
			j.done <- a
		} else {
			j.done <- jobResult{alone: true}
		}
	}
}

// adjustGroup runs steps 1–3 of the group-commit notes in the transaction
// in ctx. Jobs it does not answer run alone; any error means: roll back,
// every job alone.
func (s *Service) adjustGroup(ctx context.Context, jobs []*job) (map[*job]jobResult, error) {
	members := make([]int64, 0, len(jobs))
	debited := map[int64]bool{}
	for _, j := range jobs {
		members = append(members, j.req.MemberID)
		if j.req.Delta < 0 {
			debited[j.req.MemberID] = true
		}
	}
	slices.Sort(members)
	members = slices.Compact(members)
	if _, err := s.Ledger.LockMembers(ctx, members, debited); err != nil {
		return nil, err
	}
	found, err := s.Members.ByIDs(ctx, members)
	if err != nil {
		return nil, err
	}
	var ops []ledger.Op
	var applied []*job
	for _, j := range jobs {
		if found[j.req.MemberID] == nil {
			continue // alone: NotFound
		}
		in := input(j.actor, j.req)
		ops = append(ops, ledger.Op{Adjust: &in})
		applied = append(applied, j)
	}
	answers := make(map[*job]jobResult, len(applied))
	if len(ops) == 0 {
		return answers, nil
	}
	entries, errs, err := s.Ledger.Apply(ctx, ops)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	var trail []audit.Entry
	for k, j := range applied {
		if errs[k] != nil {
			answers[j] = jobResult{err: errs[k]}
			continue
		}
		answers[j] = jobResult{entry: entries[k]}
		if !entries[k].Replayed {
			trail = append(trail, record(j.actor, j.req, entries[k], now))
		}
	}
	if len(trail) > 0 {
		if err := s.Audit.InsertMany(ctx, trail); err != nil {
			return nil, err
		}
	}
	return answers, nil
}
