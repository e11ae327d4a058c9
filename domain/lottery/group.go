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
//  1. the members' campaign rows locked and the draws under the
//     idempotency keys looked up under that lock (replays are answered as
//     such), with the campaigns' prizes (Store.LoadDrawBatch). The rows are
//     created only when a member's Gate counters had to be rebuilt (a
//     first draw); a row missing all the same rolls the group back, and it
//     runs again creating them (ErrFirstDraw);
//  2. the prizes with stock left locked with the members' wins
//     (Store.LoadPrizeClaims);
//  3. the draws decided in arrival order by the rules a lone draw uses
//     (admit: limits, free or paid; drawing.win: the picked prize, the
//     pity rule, the consolation), in memory, against the locked
//     counters, won counts and per-member wins as the group's earlier
//     draws left them;
//  4. one ledger.Apply of every paid draw's cost (spend) followed by every
//     points prize (earn). A member's cost is applied before its prize (the
//     costs come first in the list, and the entry ids are checked). When a
//     cost is refused (too few points) the unit of work rolls back and the
//     group runs again without that draw, which is answered with the
//     refusal (422) and gives its Gate reservation back — so a prize is
//     never credited to an unpaid draw and the stock it would have taken
//     stays for the others;
//  5. the draws, the member counters and the prizes' won written at once
//     (Store.WriteGroup).
//
// The members' points accounts are taken for the unit of work by the
// store's loads (step 1 or 2); in which order the store locks, and how
// many requests a group costs the database, is repo/lotterystore's.
//
// A member may have several draws in a group (one hot member drawing
// from many clients): they are decided one after the other against the
// member's counters in memory (limits, free draws, the miss streak, wins
// of a prize), each as it would be one by one after the previous one, and
// their costs are applied in that order. A second draw under a key already
// in the group runs alone afterwards, where it is answered as a replay of
// the first. Since every cost is applied before every prize, a cost
// refused while an earlier draw of the same member in the group won points
// is not answered with the refusal: that draw leaves the group and runs
// alone after it, where it sees those points.
//
// When the group's unit of work fails
// (a conflict beyond the retries, a key taken behind our back, a prize
// earn refused) every draw of the group runs alone through the one-by-one
// path, which decides everything again from the database. The draw row
// stays the truth and every guarantee of the one-by-one path holds: the
// stock is decided on the locked prize, the pity streak and limits on the
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
	final *Draw // the draw as the unit of work left it (its id set when it ended): copied into d then
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
		if attempt < 3 && errors.Is(err, ErrFirstDraw) && !create {
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

// errRunAlone, in a group's refusals, sends a draw out of the group: it
// runs alone after the group.
var errRunAlone = errors.New("lottery: run alone")

// pendingDraw is one draw of a group still on its way to the draw row.
type pendingDraw struct {
	j    *drawJob
	st   MemberState // the member's counters after this draw
	d    Draw
	took takeInfo
	// afterPrize: a draw of the same member earlier in the group won
	// points.
	afterPrize bool
}

// applyGroup is the unit of work of a group (see the notes above). It
// answers each job; an error fails the whole group.
func (s *Service) applyGroup(ctx context.Context, jobs []*drawJob, refused map[*drawJob]error, create bool) (map[*drawJob]drawResult, error) {
	out := make(map[*drawJob]drawResult, len(jobs))
	keys := make(map[DrawKey]bool, len(jobs))
	live := make([]*drawJob, 0, len(jobs))
	for _, j := range jobs {
		if e, ok := refused[j]; ok {
			if e == errRunAlone {
				out[j] = drawResult{alone: true}
			} else {
				out[j] = drawResult{err: e}
			}
			continue
		}
		// A key twice in the group: the second runs alone after the group
		// has committed, where it finds the first draw (a replay).
		k := DrawKey{j.memberID, j.key}
		if keys[k] {
			out[j] = drawResult{alone: true}
			continue
		}
		keys[k] = true
		live = append(live, j)
	}
	// The members' rows are created only when one of them may be missing
	// (the Gate had no counters of the member); a row missing all the same
	// (a first draw that did not commit) makes the group run again with
	// FirstDraws (ErrFirstDraw).
	q := DrawBatchQuery{FirstDraws: create}
	for _, j := range live {
		q.Draws = append(q.Draws, BatchDraw{Campaign: j.c, MemberID: j.memberID, Key: j.key, MaySpend: j.c.CostPoints > 0})
		q.FirstDraws = q.FirstDraws || j.firstSeen
	}
	loaded, err := s.Store.LoadDrawBatch(ctx, q)
	if err != nil {
		return nil, err
	}
	states, prior, fresh := loaded.Members, loaded.Prior, loaded.Prizes

	// Replays are answered as such; the rest are decided below.
	undecided := make([]*drawJob, 0, len(live))
	for _, j := range live {
		if d, ok := prior[DrawKey{j.memberID, j.key}]; ok {
			d.Replayed = true
			out[j] = drawResult{d: d}
			continue
		}
		undecided = append(undecided, j)
	}
	if len(undecided) == 0 {
		return out, nil
	}

	// The prizes as stored at the first read; those with stock left are
	// locked with the drawers' wins and accounts (the accounts of those
	// whose draws may cost points with their lots).
	byCampaign := map[int64][]Prize{}
	claims := PrizeClaimQuery{Spenders: map[int64]bool{}}
	for _, p := range fresh {
		byCampaign[p.CampaignID] = append(byCampaign[p.CampaignID], p)
		if p.Stock != Unlimited && !p.Empty() {
			claims.Stocked = append(claims.Stocked, p.ID)
		}
	}
	for _, list := range byCampaign {
		sort.Slice(list, func(a, b int) bool { return list[a].ID < list[b].ID })
	}
	sort.Slice(claims.Stocked, func(a, b int) bool { return claims.Stocked[a] < claims.Stocked[b] })
	winSeen := map[WinKey]bool{}
	drawer := map[int64]bool{}
	for _, j := range undecided {
		if !drawer[j.memberID] {
			drawer[j.memberID] = true
			claims.Drawers = append(claims.Drawers, j.memberID)
		}
		if j.c.CostPoints > 0 {
			claims.Spenders[j.memberID] = true
		}
		for _, q := range byCampaign[j.c.ID] {
			if wk := (WinKey{j.c.ID, j.memberID, q.ID}); q.PerMemberLimit > 0 && !winSeen[wk] {
				winSeen[wk] = true
				claims.Wins = append(claims.Wins, wk)
			}
		}
	}
	held, err := s.Store.LoadPrizeClaims(ctx, claims)
	if err != nil {
		return nil, err
	}
	locked, wins := held.Stocked, held.Wins
	won := make(map[int64]int64, len(locked))
	for id, p := range locked {
		won[id] = p.Won
	}

	// The draws in arrival order, each decided by the rules a lone draw
	// uses (admit, then win) against its member's counters as the group's
	// earlier draws of the member left them: a member's draws in a group
	// are decided one after the other, as one by one they would be.
	var ps []*pendingDraw
	var spends, earns []ledger.Op
	var payers, winners []*pendingDraw
	counters := map[MemberKey]MemberState{}
	prized := map[MemberKey]bool{} // members with a points prize earlier in the group
	for _, j := range undecided {
		c, mk := j.c, MemberKey{j.c.ID, j.memberID}
		st, ok := counters[mk]
		if !ok {
			st = states[mk]
		}
		d, st, err := c.admit(st.today(j.day), j.memberID, j.key, j.day, j.now)
		if err != nil {
			out[j] = drawResult{err: err}
			continue
		}
		p := &pendingDraw{j: j, st: st, d: d, afterPrize: prized[mk]}
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
		w := drawing{c: c, prizes: byCampaign[c.ID], picked: picked, gateOut: j.gateOut, misses: p.st.MissStreak, claim: claimLocked, order: s.pityOrder}
		p.took, _ = w.win(&p.d)
		p.st.count(p.d)
		counters[mk] = p.st
		if p.d.CostPoints > 0 {
			in := p.d.costSpend()
			spends = append(spends, ledger.Op{Spend: &in})
			payers = append(payers, p)
		}
		if in, ok := p.d.prizeEarn(); ok {
			winners = append(winners, p)
			earns = append(earns, ledger.Op{Earn: &in})
			prized[mk] = true
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return out, nil
	}
	spendOf := make(map[*pendingDraw]int, len(payers))
	for i, p := range payers {
		spendOf[p] = i
	}
	// One Apply: every cost, then every prize. Costs come first in the
	// list, so each member's cost is applied before its prize; a refused
	// cost rolls the group back and the group runs again without that
	// draw (refusal), so no prize is ever credited to an unpaid draw.
	// No entry id is read before the unit of work ends but by the check
	// below.
	entries, errs, err := s.Points.ApplyWithoutIDs(ctx, append(spends, earns...))
	if err != nil {
		return nil, err
	}
	r := refusal{}
	for i := range spends {
		switch {
		case errs[i] == nil:
		case payers[i].afterPrize:
			// Its member won points earlier in the group, and every cost
			// is applied before every prize: alone, after the group, it
			// sees those points, as one by one it would have.
			r[payers[i].j] = errRunAlone
		default:
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
// leaves their ids zero (known only when the unit of work ends) while an
// entry written alone, after them, has its id.
func wentBefore(a, b ledger.Entry) bool {
	switch {
	case a.ID == 0:
		return b.ID != 0
	case b.ID == 0:
		return false
	}
	return a.ID < b.ID
}
