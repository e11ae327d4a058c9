package orders

import (
	"context"
	"time"

	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/rules"
	"github.com/jifen/jifen/domain/tier"
)

// # Group commit of paid events
//
// Paid events that name their member by id and arrive outside a caller's
// unit of work are handled in groups (package group): a committer takes
// every event queued (up to GroupCommit.Max) and runs them in ONE
// transaction, in arrival order, as they would run one after another:
//
//  1. one read of which event ids are taken, one locked read of the tier
//     rows of every member named (tier.Service.Prelock) and one read of
//     the members; when the rules take no locks (no active rule of the
//     trigger has caps or a pool: rules.Service.MayLock), also the locking
//     read of the members' accounts (ledger.Service.Prelock) and the
//     first-paid prefetch hooks' reads (PrefetchFirstPaid), after the tier
//     rows;
//  2. the members' growth and order counts on those rows, in order, so two
//     events of one member count twice (rows missing are inserted and
//     locked then), saved with one UPDATE; unless step 1 ran them, the
//     first-paid prefetch hooks learn which members' first orders these are;
//  3. the rules in memory (rules.Service.ApplyMany): one locked read of
//     the usage the caps need and of the budget pools, which the group's
//     events then draw on in order; one conditional UPDATE per pool for
//     what the group took (a pool is never overspent) and one multi-row
//     upsert of usage;
//  4. the earns through ledger.Service.ApplyLate (one locking read of the
//     accounts unless step 1 made it, multi-row writes; nobody reads the
//     entries' ids);
//  5. one multi-row INSERT of the orders, final points and breakdown
//     included, and one of the event records with their outcomes;
//  6. the first-paid hooks of the events that are a member's first order:
//     OnFirstPaid per event, OnFirstPaidMany once for the group (referral
//     reads the bindings of all of them in one statement, or none when its
//     prefetch hook queued that read at step 2).
//
// The locks are taken in the ordinary path's order: tier rows, usage and
// pools, accounts. In a pipelined transaction (MySQL, repo.DB.InPipelinedTx)
// a group whose rules have no caps or pools is two requests to the
// server: the BEGIN and the reads of step 1; every write of steps 2 to 5
// with the COMMIT. With caps or pools it is four or five: step 1 without
// the accounts; the locked reads of step 3 (carrying the tier UPDATE and
// the bindings' read); when the group drew on a pool, the pools'
// conditional UPDATE, whose answer is awaited (a pool is never
// overspent); the accounts' locking read; the writes with the COMMIT. A member whose tier row is missing gets it
// inserted at step 2, after step 1 may have locked their account: a lone
// event of that member running at the same moment may then deadlock with
// the group, and InnoDB's deadlock detection rolls one back to run again.
//
// An event leaves the group and runs alone through the ordinary path when
// its id is taken (a replay: the ordinary path answers it) or repeated in
// the group, when its order id is repeated in the group, or when its member
// does not exist. If anything fails in the group's transaction (an earn
// refused, a taken order id or ledger key, a pool that changed), the whole
// group rolls back and every event runs alone, so each gets exactly the
// answer it would have got without grouping. Refunds, events naming the
// member by openid or phone and events naming a points hold always run
// alone.

// BatchStore is what group commit needs beyond Store.
type BatchStore interface {
	// TakenEvents marks in taken which of ids are already stored. The read
	// may travel with the transaction's next statement (a pipelined
	// transaction): taken is filled once that statement has run.
	TakenEvents(ctx context.Context, ids []string, taken map[string]bool) error
	// InsertPaid inserts the orders, then the event records with their
	// outcomes. The statements may travel with the transaction's next
	// statement or its COMMIT: a taken order or event id fails that
	// statement (ErrDuplicateEvent, wrapped) and the transaction must roll
	// back.
	InsertPaid(ctx context.Context, events []EventRecord, orders []*Order) error
}

type batchMembers interface {
	ByIDs(ctx context.Context, ids []int64) (map[int64]*member.Member, error)
}

type batchRules interface {
	ApplyMany(ctx context.Context, ins []rules.Input) ([]rules.Result, error)
}

type batchTier interface {
	RecordPaidMany(ctx context.Context, in []tier.Paid) ([]tier.Recorded, error)
}

// rulesLocker is a batchRules that tells whether evaluating events of a
// trigger may lock rows (rules.Service.MayLock).
type rulesLocker interface {
	MayLock(ctx context.Context, trigger rules.Trigger) (bool, error)
}

// ledgerPrelocker is a batchLedger that can lock accounts with the
// transaction's next statement (ledger.Service.Prelock).
type ledgerPrelocker interface {
	Prelock(ctx context.Context, members []int64, withLots map[int64]bool) (func(memberID int64) bool, error)
}

// tierPrelocker is a batchTier that can lock its rows with the
// transaction's next statement (tier.Service.Prelock).
type tierPrelocker interface {
	Prelock(ctx context.Context, memberIDs []int64) error
}

type batchLedger interface {
	Apply(ctx context.Context, ops []ledger.Op) ([]ledger.Entry, []error, error)
}

// lateLedger is a batchLedger whose writes may travel with the COMMIT when
// nobody reads the entries' ids (ledger.Service.ApplyLate).
type lateLedger interface {
	ApplyLate(ctx context.Context, ops []ledger.Op) ([]ledger.Entry, []error, error)
}

type paidJob struct {
	ctx  context.Context
	e    Event
	hash string
	now  time.Time
	done chan paidResult
}

type paidResult struct {
	out   Outcome
	alone bool
}

// GroupStats reports how many groups of paid events have committed and
// how many events they answered (the others ran alone).
func (s *Service) GroupStats() (groups, events int64) {
	return s.group.Stats()
}

type batchDeps struct {
	store   BatchStore
	members batchMembers
	rules   batchRules
	tier    batchTier
	ledger  batchLedger
}

// groupable reports whether e may be handled in a group: a paid event
// naming its member by id and no points hold. Refunds, members named by
// openid or phone, and holds always run alone.
func (e *Event) groupable() bool {
	return e.Type == Paid && e.Member.MemberID > 0 && e.PointsHoldID == 0
}

// batchable returns what group commit needs, when it is on and every
// dependency supports it and ctx carries no unit of work.
func (s *Service) batchable(ctx context.Context, e *Event) (batchDeps, bool) {
	var d batchDeps
	if !e.groupable() {
		return d, false
	}
	var ok [6]bool
	d.store, ok[0] = s.Store.(BatchStore)
	d.members, ok[1] = s.Members.(batchMembers)
	d.rules, ok[2] = s.Rules.(batchRules)
	d.tier, ok[3] = s.Tier.(batchTier)
	d.ledger, ok[4] = s.Ledger.(batchLedger)
	ok[5] = s.GroupCommit.On(ctx, s.Tx)
	for _, b := range ok {
		if !b {
			return d, false
		}
	}
	return d, true
}

// submit queues a paid event for group commit and waits for its answer;
// alone means the caller must run it through the ordinary path.
func (s *Service) submit(ctx context.Context, d batchDeps, e Event, hash string, now time.Time) (Outcome, bool) {
	if ctx.Err() != nil {
		return Outcome{}, true
	}
	j := &paidJob{ctx: ctx, e: e, hash: hash, now: now, done: make(chan paidResult, 1)}
	s.group.Submit(s.GroupCommit, func(jobs []*paidJob) { s.commitGroup(d, jobs) }, j)
	// Once queued the job is answered whatever happens to ctx: the group
	// may already have committed it.
	r := <-j.done
	return r.out, r.alone
}

func (s *Service) commitGroup(d batchDeps, jobs []*paidJob) {
	var outs map[*paidJob]Outcome
	ctx := context.WithoutCancel(jobs[0].ctx)
	err := batch.InTx(ctx, s.Tx, func(ctx context.Context) error {
		// Runs again after a deadlock: it starts from nothing.
		var err error
		outs, err = s.runGroup(ctx, d, jobs)
		return err
	})
	if err == nil {
		s.group.Done(len(outs))
	}
	for _, j := range jobs {
		out, ok := outs[j]
		if err != nil || !ok {
			j.done <- paidResult{alone: true}
			continue
		}
		j.done <- paidResult{out: out}
	}
}

// runGroup handles jobs in the transaction in ctx and returns the outcomes
// of those it handled; the others run alone. The steps are those of the
// group-commit notes.
func (s *Service) runGroup(ctx context.Context, d batchDeps, jobs []*paidJob) (map[*paidJob]Outcome, error) {
	// Step 1: the taken events and the tier rows (locked) of every member
	// named travel with the read of the members: one request.
	ids := make([]string, 0, len(jobs))
	named := make([]int64, 0, len(jobs))
	for _, j := range jobs {
		ids = append(ids, j.e.EventID)
		named = append(named, j.e.Member.MemberID)
	}
	// When the rules will lock nothing, the accounts come next in the
	// ordinary path's lock order: they are locked (and the referral
	// bindings read) in the same request.
	early := false
	if r, ok := d.rules.(rulesLocker); ok {
		mayLock, err := r.MayLock(ctx, rules.OrderPaid)
		if err != nil {
			return nil, err
		}
		early = !mayLock
	}
	taken := map[string]bool{}
	if err := d.store.TakenEvents(ctx, ids, taken); err != nil {
		return nil, err
	}
	if p, ok := d.tier.(tierPrelocker); ok {
		if err := p.Prelock(ctx, named); err != nil {
			return nil, err
		}
	}
	if early {
		if p, ok := d.ledger.(ledgerPrelocker); ok {
			if _, err := p.Prelock(ctx, named, nil); err != nil {
				return nil, err
			}
		}
		if err := s.prefetchFirstPaid(ctx, named); err != nil {
			return nil, err
		}
	}
	mems, err := d.members.ByIDs(ctx, named)
	if err != nil {
		return nil, err
	}
	queued := make([]*Event, len(jobs))
	for i, j := range jobs {
		queued[i] = &j.e
	}
	var keep []*paidJob
	for _, i := range inGroup(queued, taken, func(id int64) bool { return mems[id] != nil }) {
		keep = append(keep, jobs[i])
	}
	if len(keep) == 0 {
		return nil, nil
	}

	// Step 2: growth and order counts on the rows step 1 locked.
	paid := make([]tier.Paid, len(keep))
	for i, j := range keep {
		paid[i] = tier.Paid{MemberID: j.e.Member.MemberID, Fen: j.e.TotalFen, At: j.e.OccurredAt}
	}
	recs, err := d.tier.RecordPaidMany(ctx, paid)
	if err != nil {
		return nil, err
	}
	// Which events are their member's first paid order is known now: the
	// prefetch hooks may queue their reads (unless step 1 did).
	var firstMembers []int64
	var firstOrders []string
	for i, j := range keep {
		if recs[i].After.PaidOrders == 1 {
			firstMembers, firstOrders = append(firstMembers, j.e.Member.MemberID), append(firstOrders, j.e.OrderID)
		}
	}
	if !early {
		if err := s.prefetchFirstPaid(ctx, firstMembers); err != nil {
			return nil, err
		}
	}

	// Step 3: the rules.
	ins := make([]rules.Input, len(keep))
	os := make([]*Order, len(keep))
	for i, j := range keep {
		e, now, mem := &j.e, j.now, mems[j.e.Member.MemberID]
		os[i] = newOrder(*e, now)
		os[i].MemberID, os[i].Status = mem.ID, StatusMatched
		st := stats{tier: recs[i].Before.Level, all: recs[i].After.PaidOrders, week: recs[i].WeekOrders}
		ins[i] = ruleInput(os[i], mem, st)
	}
	res, err := d.rules.ApplyMany(ctx, ins)
	if err != nil {
		return nil, err
	}

	// Step 4: the earns.
	var ops []ledger.Op
	for i := range keep {
		o := os[i]
		setBreakdown(o, res[i])
		if o.Points > 0 {
			in := s.earnInput(o)
			ops = append(ops, ledger.Op{Earn: &in})
		}
	}
	if len(ops) > 0 {
		apply := d.ledger.Apply
		if la, ok := d.ledger.(lateLedger); ok {
			apply = la.ApplyLate // nobody reads the entries' ids
		}
		_, errs, err := apply(ctx, ops)
		if err != nil {
			return nil, err
		}
		for _, err := range errs {
			if err != nil {
				return nil, err // the group rolls back; each event runs alone
			}
		}
	}

	// Step 5: the orders and the event records.
	events := make([]EventRecord, len(keep))
	outs := make(map[*paidJob]Outcome, len(keep))
	for i, j := range keep {
		o := os[i]
		out := Outcome{EventID: j.e.EventID, Type: Paid, Status: Applied, OrderID: o.ID, MemberID: o.MemberID,
			PointsAwarded: o.Points, Breakdown: o.Breakdown}
		events[i] = EventRecord{EventID: j.e.EventID, OrderID: o.ID, Type: Paid, RequestHash: j.hash, Outcome: out, CreatedAt: j.now}
		outs[j] = out
	}
	if err := d.store.InsertPaid(ctx, events, os); err != nil {
		return nil, err
	}

	// Step 6: the first-paid hooks.
	for i := range firstMembers {
		for _, h := range s.OnFirstPaid {
			if err := h(ctx, firstMembers[i], firstOrders[i]); err != nil {
				return nil, err
			}
		}
	}
	if len(firstMembers) > 0 {
		for _, h := range s.OnFirstPaidMany {
			if err := h(ctx, firstMembers, firstOrders); err != nil {
				return nil, err
			}
		}
	}
	return outs, nil
}

// inGroup returns the indexes of the events a group handles, in order;
// the others run alone: an event id already taken (a replay, which the
// ordinary path answers) or repeated in the group, an order id repeated
// in the group, or a member that does not exist.
func inGroup(events []*Event, taken map[string]bool, known func(memberID int64) bool) []int {
	seenEvent, seenOrder := map[string]bool{}, map[string]bool{}
	var keep []int
	for i, e := range events {
		if taken[e.EventID] || seenEvent[e.EventID] || seenOrder[e.OrderID] || !known(e.Member.MemberID) {
			continue
		}
		seenEvent[e.EventID], seenOrder[e.OrderID] = true, true
		keep = append(keep, i)
	}
	return keep
}

// prefetchFirstPaid runs the PrefetchFirstPaid hooks for members.
func (s *Service) prefetchFirstPaid(ctx context.Context, members []int64) error {
	if len(members) == 0 {
		return nil
	}
	for _, h := range s.PrefetchFirstPaid {
		if err := h(ctx, members); err != nil {
			return err
		}
	}
	return nil
}
