package lottery

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
)

// # Group commit
//
// After the Gate has reserved (per request), a draw made outside a
// caller's transaction is handed to a batch.Committer. A group commits in ONE
// unit of work, each step made once for the whole group:
//
//  1. lock the members' campaign rows and look up the idempotency keys
//     under that lock (replays are answered as such). The rows are created
//     first (an upsert) only when a member's Gate counters had to be
//     rebuilt (a first draw); a row missing all the same rolls the group
//     back, and it runs again creating them (errMembersMissing);
//  2. check the limits in memory and decide free or paid;
//  3. read the prizes as SQL has them and lock the stocked ones; the picked
//     prize, the pity rule and the consolation are decided in memory against
//     the locked won counters and per-member wins;
//  4. one ledger.Apply of every paid draw's cost (spend) followed by every
//     points prize (earn). A member's cost is applied before its prize (the
//     costs come first in the list, and the entry ids are checked). When a
//     cost is refused (too few points) the transaction rolls back and the
//     group runs again without that draw, which is answered with the
//     refusal (422) and gives its Gate reservation back — so a prize is
//     never credited to an unpaid draw and the stock it would have taken
//     stays for the others;
//  5. one INSERT of the draw rows, one UPDATE of the member counters per
//     campaign, one UPDATE of the prizes' won.
//
// The locks are taken in the one-by-one path's order: member rows, prize
// rows, ledger accounts.
//
// The reads are asked for ahead and loaded together (GroupStore's *Later
// methods, ledger.LockMembers); how many requests a group then costs the
// server is repo/lotterystore's (its package doc).
//
// A member has at most one draw in a group: a second draw of the same
// member (its cost and a prize of the first must apply in order) leaves
// the group and runs alone afterwards. When the group's transaction fails
// (a deadlock beyond the retries, a key taken behind our back, a prize
// earn refused) every draw of the group runs alone through the one-by-one
// path, which decides everything again from SQL. The draw row stays the
// truth and every guarantee of the one-by-one path holds: the stock is
// decided under the prize row's lock, the pity streak and limits from the
// locked member row, a replay from the draw stored under the key.

type drawJob struct {
	ctx      context.Context
	c        *Campaign
	memberID int64
	key      string
	now      time.Time
	day      int
	picked   Prize
	gateOut  bool
	// firstSeen: the Gate had no counters of the member (its first draw,
	// or the Gate lost them): its campaign row may not exist yet.
	firstSeen bool
	done      chan drawResult
}

type drawResult struct {
	d     Draw
	final *Draw // the draw as the commit left it (a late id): copied into d then
	took  takeInfo
	err   error
	alone bool // run it through the one-by-one path
}

// GroupStats reports how many groups have committed and how many draws
// they answered (the rest ran alone).
func (s *Service) GroupStats() (groups, grouped int64) {
	return s.group.Stats()
}

// grouping reports whether a draw with ctx can be group-committed.
func (s *Service) grouping(ctx context.Context) bool {
	return s.GroupCommit.On(ctx, s.Tx)
}

// submit queues a draw for group commit and waits for its answer.
func (s *Service) submit(j *drawJob) drawResult {
	j.done = make(chan drawResult, 1)
	s.group.Submit(s.GroupCommit, s.runGroup, j)
	// Once queued the job is answered whatever happens to its context:
	// the group may already have committed it.
	return <-j.done
}

func (s *Service) runGroup(jobs []*drawJob) {
	var answers map[*drawJob]drawResult
	ctx := context.WithoutCancel(jobs[0].ctx)
	refused := map[*drawJob]error{}
	create := false
	var err error
	for attempt := 0; ; attempt++ {
		err = batch.InTx(ctx, s.Tx, func(ctx context.Context) error {
			// Runs again after a deadlock: everything is decided afresh.
			var err error
			answers, err = s.applyGroup(ctx, jobs, refused, create)
			return err
		})
		if attempt < 3 && errors.Is(err, errMembersMissing) && !create {
			create = true
			continue
		}
		var r refusal
		if attempt < 3 && errors.As(err, &r) {
			// Costs refused (too few points): those draws are answered
			// with the refusal, the rest of the group commits without
			// them.
			for j, e := range r {
				refused[j] = e
			}
			continue
		}
		break
	}
	if err == nil {
		n := 0
		for j, r := range answers {
			if !r.alone {
				n++
			}
			if r.final != nil {
				r.d, r.final = *r.final, nil
				answers[j] = r
			}
		}
		s.group.Done(n)
	}
	for _, j := range jobs {
		r, ok := answers[j]
		if err != nil || !ok {
			r = drawResult{alone: true}
		}
		j.done <- r
	}
}

// refusal rolls a group back: the ledger refused these draws' costs.
type refusal map[*drawJob]error

func (r refusal) Error() string { return fmt.Sprintf("lottery: %d draw costs refused", len(r)) }

// pendingDraw is one draw of a group still on its way to the draw row.
type pendingDraw struct {
	j    *drawJob
	st   MemberState
	d    Draw
	took takeInfo
}

// applyGroup is the unit of work of a group (see the notes above). It
// answers each job; an error fails the whole group.
func (s *Service) applyGroup(ctx context.Context, jobs []*drawJob, refused map[*drawJob]error, create bool) (map[*drawJob]drawResult, error) {
	out := make(map[*drawJob]drawResult, len(jobs))
	seen := map[int64]bool{}
	live := make([]*drawJob, 0, len(jobs))
	for _, j := range jobs {
		if e, ok := refused[j]; ok {
			out[j] = drawResult{err: e}
			continue
		}
		if seen[j.memberID] {
			out[j] = drawResult{alone: true}
			continue
		}
		seen[j.memberID] = true
		live = append(live, j)
	}
	mkeys := make([]MemberKey, 0, len(live))
	dkeys := make([]DrawKey, 0, len(live))
	for _, j := range live {
		mkeys = append(mkeys, MemberKey{j.c.ID, j.memberID})
		dkeys = append(dkeys, DrawKey{j.memberID, j.key})
	}
	sort.Slice(mkeys, func(a, b int) bool {
		if mkeys[a].CampaignID != mkeys[b].CampaignID {
			return mkeys[a].CampaignID < mkeys[b].CampaignID
		}
		return mkeys[a].MemberID < mkeys[b].MemberID
	})
	var cids []int64
	cseen := map[int64]bool{}
	for _, j := range live {
		if !cseen[j.c.ID] {
			cseen[j.c.ID] = true
			cids = append(cids, j.c.ID)
		}
	}
	// The members' rows are created (an upsert) only when one of them may
	// be missing; otherwise they are only locked. A row missing all the
	// same (a first draw that did not commit) makes the group run again
	// with create (errMembersMissing).
	for _, j := range live {
		create = create || j.firstSeen
	}
	var states map[MemberKey]MemberState
	var prior map[DrawKey]Draw
	var fresh map[int64]Prize
	var err error
	// Without stocked prizes (as the cached campaigns have them) no prize
	// row is locked, so the accounts can be locked in the first request,
	// right after the member rows: the one-by-one path's lock order holds.
	membersLocked := false
	if !anyStocked(live) {
		membersLocked = true
		var members []int64
		withLots := map[int64]bool{}
		for _, j := range live {
			members = append(members, j.memberID)
			if j.c.CostPoints > 0 {
				withLots[j.memberID] = true
			}
		}
		states, prior, fresh, err = s.readGroupLater(ctx, mkeys, dkeys, cids, members, withLots, create)
	} else {
		states, prior, fresh, err = s.readGroupLater(ctx, mkeys, dkeys, cids, nil, nil, create)
	}
	if err != nil {
		return nil, err
	}

	// Limits, then free or paid.
	var ps []*pendingDraw
	var spends []ledger.Op
	var payers []*pendingDraw
	for _, j := range live {
		if d, ok := prior[DrawKey{j.memberID, j.key}]; ok {
			d.Replayed = true
			out[j] = drawResult{d: d}
			continue
		}
		d, st, err := j.c.admit(states[MemberKey{j.c.ID, j.memberID}].today(j.day), j.memberID, j.key, j.day, j.now)
		if err != nil {
			out[j] = drawResult{err: err}
			continue
		}
		p := &pendingDraw{j: j, st: st, d: d}
		if d.CostPoints > 0 {
			in := d.costSpend()
			spends = append(spends, ledger.Op{Spend: &in})
			payers = append(payers, p)
		}
		ps = append(ps, p)
	}

	if len(ps) == 0 {
		return out, nil
	}

	// The prizes as SQL had them at the first read; stocked ones locked.
	byCampaign := map[int64][]Prize{}
	var stocked []int64
	for _, p := range fresh {
		byCampaign[p.CampaignID] = append(byCampaign[p.CampaignID], p)
		if p.Stock != Unlimited && !p.Empty() {
			stocked = append(stocked, p.ID)
		}
	}
	for _, list := range byCampaign {
		sort.Slice(list, func(a, b int) bool { return list[a].ID < list[b].ID })
	}
	sort.Slice(stocked, func(a, b int) bool { return stocked[a] < stocked[b] })
	var wkeys []WinKey
	for _, p := range ps {
		for _, q := range byCampaign[p.j.c.ID] {
			if q.PerMemberLimit > 0 {
				wkeys = append(wkeys, WinKey{p.j.c.ID, p.j.memberID, q.ID})
			}
		}
	}
	locked, wins, err := s.lockPrizesLater(ctx, stocked, wkeys, ps, payers, membersLocked)
	if err != nil {
		return nil, err
	}
	won := make(map[int64]int64, len(locked))
	for id, p := range locked {
		won[id] = p.Won
	}

	var earns []ledger.Op
	var winners []*pendingDraw
	spendOf := make(map[*pendingDraw]int, len(payers))
	for i, p := range payers {
		spendOf[p] = i
	}
	for _, p := range ps {
		j, c := p.j, p.j.c
		// A unit of stock is taken from the won counters read under the
		// prize rows' locks.
		claimLocked := func(q Prize) (claim, error) {
			wk := WinKey{c.ID, j.memberID, q.ID}
			r, _ := claimPrize(q, wins[wk], func() (bool, error) {
				l, ok := locked[q.ID]
				if !ok || won[q.ID] >= l.Stock {
					return false, nil
				}
				won[q.ID]++
				return true, nil
			})
			if r == claimed {
				wins[wk]++
			}
			return r, nil
		}
		picked, ok := fresh[j.picked.ID]
		if !ok {
			picked = j.picked
		}
		d := &p.d
		w := drawing{c: c, prizes: byCampaign[c.ID], picked: picked, gateOut: j.gateOut, misses: p.st.MissStreak, claim: claimLocked}
		p.took, _ = w.win(d)
		if in, ok := d.prizeEarn(); ok {
			winners = append(winners, p)
			earns = append(earns, ledger.Op{Earn: &in})
		}
		p.st.count(*d)
	}
	// One Apply: every cost, then every prize. Costs come first in the
	// list, so each member's cost is applied before its prize; a refused
	// cost rolls the group back and the group runs again without that
	// draw (refusal), so no prize is ever credited to an unpaid draw.
	// No entry id is read before the commit but by the check below.
	entries, errs, err := s.Points.ApplyWithoutIDs(ctx, append(spends, earns...))
	if err != nil {
		return nil, err
	}
	r := refusal{}
	for i := range spends {
		if errs[i] != nil {
			r[payers[i].j] = errs[i]
		}
	}
	if len(r) > 0 {
		return nil, r
	}
	for i, e := range errs[len(spends):] {
		if e != nil {
			// A refused prize: everyone runs alone, where it fails only
			// its own draw.
			return nil, fmt.Errorf("lottery: group prize refused: %w", e)
		}
		// Apply runs what it cannot batch after the rest: make sure no
		// prize went in before its own draw's cost.
		if sp, ok := spendOf[winners[i]]; ok && wentBefore(entries[len(spends)+i], entries[sp]) {
			return nil, fmt.Errorf("lottery: group prize of member %d applied before its cost", winners[i].j.memberID)
		}
	}

	draws := make([]*Draw, 0, len(ps))
	members := make(map[MemberKey]MemberState, len(ps))
	for _, p := range ps {
		draws = append(draws, &p.d)
		members[MemberKey{p.j.c.ID, p.j.memberID}] = p.st
	}
	changed := map[int64]int64{}
	for id, n := range won {
		if n != locked[id].Won {
			changed[id] = n
		}
	}
	if err := s.Store.WriteGroup(ctx, draws, members, changed); err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.j] = drawResult{d: p.d, took: p.took, final: &p.d}
	}
	return out, nil
}

// wentBefore reports whether entry a was written before entry b, both from
// one Apply or ApplyWithoutIDs: the batched entries go first, and ApplyWithoutIDs
// leaves their ids zero (known only at the commit) while an entry written
// alone, after them, has its id.
func wentBefore(a, b ledger.Entry) bool {
	switch {
	case a.ID == 0:
		return b.ID != 0
	case b.ID == 0:
		return false
	}
	return a.ID < b.ID
}

// readGroupLater is step 1 in one request: the member rows' lock (with
// create, their upsert first), then (in the same request, so under those
// locks) the draws under the keys, the ledger accounts given (none: they
// are locked later) and the prizes. Keys without a row fail the group with
// errMembersMissing.
func (s *Service) readGroupLater(ctx context.Context, mkeys []MemberKey, dkeys []DrawKey, cids []int64,
	accounts []int64, withLots map[int64]bool, create bool) (map[MemberKey]MemberState, map[DrawKey]Draw, map[int64]Prize, error) {
	statesF, err := s.Store.LockMembersLater(ctx, mkeys, create)
	if err != nil {
		return nil, nil, nil, err
	}
	priorF, err := s.Store.DrawsByKeysLater(ctx, dkeys)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := s.lockMembers(ctx, accounts, withLots); err != nil {
		return nil, nil, nil, err
	}
	fresh, err := s.Store.Prizes(ctx, cids)
	if err != nil {
		return nil, nil, nil, err
	}
	states, missing, err := statesF()
	if err != nil {
		return nil, nil, nil, err
	}
	if len(missing) > 0 {
		// Creating them now would lock member rows after the accounts
		// (taken in this request): the group runs again creating them first.
		return nil, nil, nil, errMembersMissing
	}
	prior, err := priorF()
	return states, prior, fresh, err
}

// errMembersMissing rolls back a group that found members' campaign rows
// missing without creating them; it runs again with create.
var errMembersMissing = errors.New("lottery: group found member rows missing")

// lockPrizesLater is step 3's reads in one request, in lock order: the stocked
// prizes, then the ledger accounts of the group's members (with the lots
// of those who pay: ledger.LockMembers), then the wins.
func (s *Service) lockPrizesLater(ctx context.Context, stocked []int64, wkeys []WinKey, ps, payers []*pendingDraw, membersLocked bool) (map[int64]Prize, map[WinKey]int, error) {
	if membersLocked && len(stocked) == 0 && len(wkeys) == 0 {
		return map[int64]Prize{}, map[WinKey]int{}, nil // nothing to read
	}
	lockedF, err := s.Store.LockPrizesLater(ctx, stocked)
	if err != nil {
		return nil, nil, err
	}
	if !membersLocked {
		members := make([]int64, 0, len(ps))
		for _, p := range ps {
			members = append(members, p.j.memberID)
		}
		withLots := make(map[int64]bool, len(payers))
		for _, p := range payers {
			withLots[p.j.memberID] = true
		}
		if err := s.lockMembers(ctx, members, withLots); err != nil {
			return nil, nil, err
		}
	}
	wins := map[WinKey]int{}
	if len(wkeys) > 0 {
		if wins, err = s.Store.WinsOf(ctx, wkeys); err != nil {
			return nil, nil, err
		}
	} else if err := s.Store.Flush(ctx); err != nil {
		return nil, nil, err
	}
	locked, err := lockedF()
	return locked, wins, err
}

// lockMembers takes the members' ledger accounts for the unit of work (with the
// lots of those in withLots) (ledger.LockMembers).
func (s *Service) lockMembers(ctx context.Context, members []int64, withLots map[int64]bool) error {
	if len(members) == 0 {
		return nil
	}
	_, err := s.Points.LockMembers(ctx, members, withLots)
	return err
}

// anyStocked reports whether a campaign of the jobs (as cached) has a
// prize with a stock.
func anyStocked(jobs []*drawJob) bool {
	for _, j := range jobs {
		for _, p := range j.c.Prizes {
			if p.Stock != Unlimited && !p.Empty() {
				return true
			}
		}
	}
	return false
}
