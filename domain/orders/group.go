package orders

import (
	"context"
	"time"

	"github.com/jifen/jifen/domain/group"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/rules"
	"github.com/jifen/jifen/domain/tier"
)

// # Group commit of paid events
//
// Paid events that name their member by id and arrive outside a caller's
// unit of work are handled in groups (package group): a committer takes
// every event queued (up to GroupCommit.MaxBatch) and runs them in ONE
// transaction, in arrival order, as they would run one after another:
//
//  1. one read of which event ids are taken and one of the members;
//  2. one locked read (and one write) of the members' tier rows: growth
//     and order counts, in order, so two events of one member count twice;
//  3. the rules in memory (rules.Service.ApplyMany): one locked read of
//     the usage the caps need and of the budget pools, which the group's
//     events then draw on in order; one conditional UPDATE per pool for
//     what the group took (a pool is never overspent) and one multi-row
//     upsert of usage;
//  4. the earns through ledger.Service.Apply (one locking read of the
//     accounts, multi-row writes);
//  5. one multi-row INSERT of the orders, final points and breakdown
//     included, and one of the event records with their outcomes;
//  6. the first-paid hooks of the events that are a member's first order:
//     OnFirstPaid per event, OnFirstPaidMany once for the group (referral
//     reads the bindings of all of them in one statement).
//
// An event leaves the group and runs alone through the ordinary path when
// its id is taken (a replay: the ordinary path answers it) or repeated in
// the group, when its order id is repeated in the group, or when its member
// does not exist. If anything fails in the group's transaction (an earn
// refused, a taken order id, a pool that changed), the whole group rolls
// back and every event runs alone, so each gets exactly the answer it
// would have got without grouping. Refunds and events naming the member by
// openid or phone always run alone.

// GroupCommit configures group commit of paid events. The zero value
// turns it off.
type GroupCommit struct {
	// Committers is how many groups may commit at once (0: off).
	Committers int
	// MaxBatch caps the events in one group (64 when 0).
	MaxBatch int
}

// BatchStore is what group commit needs beyond Store.
type BatchStore interface {
	// TakenEvents returns which of ids are already stored.
	TakenEvents(ctx context.Context, ids []string) (map[string]bool, error)
	// InsertPaid inserts the orders, then the event records with their
	// outcomes; a taken order or event id is ErrDuplicateEvent.
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

type batchLedger interface {
	Apply(ctx context.Context, ops []ledger.Op) ([]ledger.Entry, []error, error)
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

// batchable returns what group commit needs, when it is on and every
// dependency supports it and ctx carries no unit of work.
func (s *Service) batchable(ctx context.Context, e *Event) (batchDeps, bool) {
	var d batchDeps
	if e.Type != Paid || e.Member.MemberID <= 0 {
		return d, false
	}
	var ok [6]bool
	d.store, ok[0] = s.Store.(BatchStore)
	d.members, ok[1] = s.Members.(batchMembers)
	d.rules, ok[2] = s.Rules.(batchRules)
	d.tier, ok[3] = s.Tier.(batchTier)
	d.ledger, ok[4] = s.Ledger.(batchLedger)
	ok[5] = group.Eligible(ctx, s.GroupCommit.Committers, s.Tx)
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
	s.group.Submit(s.GroupCommit.Committers, s.GroupCommit.MaxBatch, func(jobs []*paidJob) { s.commitGroup(d, jobs) }, j)
	// Once queued the job is answered whatever happens to ctx: the group
	// may already have committed it.
	r := <-j.done
	return r.out, r.alone
}

func (s *Service) commitGroup(d batchDeps, jobs []*paidJob) {
	var outs map[*paidJob]Outcome
	ctx := context.WithoutCancel(jobs[0].ctx)
	err := group.InTx(ctx, s.Tx, func(ctx context.Context) error {
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
// of those it handled; the others run alone.
func (s *Service) runGroup(ctx context.Context, d batchDeps, jobs []*paidJob) (map[*paidJob]Outcome, error) {
	ids := make([]string, 0, len(jobs))
	for _, j := range jobs {
		ids = append(ids, j.e.EventID)
	}
	taken, err := d.store.TakenEvents(ctx, ids)
	if err != nil {
		return nil, err
	}
	seenEvent, seenOrder := map[string]bool{}, map[string]bool{}
	var memberIDs []int64
	var keep []*paidJob
	for _, j := range jobs {
		if taken[j.e.EventID] || seenEvent[j.e.EventID] || seenOrder[j.e.OrderID] {
			continue
		}
		seenEvent[j.e.EventID], seenOrder[j.e.OrderID] = true, true
		keep = append(keep, j)
		memberIDs = append(memberIDs, j.e.Member.MemberID)
	}
	if len(keep) == 0 {
		return nil, nil
	}
	mems, err := d.members.ByIDs(ctx, memberIDs)
	if err != nil {
		return nil, err
	}
	jobs, keep = keep, nil
	for _, j := range jobs {
		if mems[j.e.Member.MemberID] != nil {
			keep = append(keep, j)
		}
	}
	if len(keep) == 0 {
		return nil, nil
	}

	paid := make([]tier.Paid, len(keep))
	for i, j := range keep {
		paid[i] = tier.Paid{MemberID: j.e.Member.MemberID, Fen: j.e.TotalFen, At: j.e.OccurredAt}
	}
	recs, err := d.tier.RecordPaidMany(ctx, paid)
	if err != nil {
		return nil, err
	}
	ins := make([]rules.Input, len(keep))
	os := make([]*Order, len(keep))
	for i, j := range keep {
		e, now, mem := &j.e, j.now, mems[j.e.Member.MemberID]
		os[i] = &Order{ID: e.OrderID, MemberID: mem.ID, OpenID: e.Member.OpenID, Phone: e.Member.Phone, Status: StatusMatched,
			StoreID: e.StoreID, Channel: e.Channel, TotalFen: e.TotalFen, Lines: e.Lines, Refunded: map[string]int64{},
			Breakdown: []BreakdownLine{}, OccurredAt: e.OccurredAt, CreatedAt: now, UpdatedAt: now}
		st := stats{tier: recs[i].Before.Level, all: recs[i].After.PaidOrders, week: recs[i].WeekOrders}
		ins[i] = ruleInput(os[i], mem, st)
	}
	res, err := d.rules.ApplyMany(ctx, ins)
	if err != nil {
		return nil, err
	}
	var ops []ledger.Op
	for i, j := range keep {
		o := os[i]
		setBreakdown(o, res[i])
		if o.Points > 0 {
			in := s.earnInput(o, j.now)
			ops = append(ops, ledger.Op{Earn: &in})
		}
	}
	if len(ops) > 0 {
		_, errs, err := d.ledger.Apply(ctx, ops)
		if err != nil {
			return nil, err
		}
		for _, err := range errs {
			if err != nil {
				return nil, err // the group rolls back; each event runs alone
			}
		}
	}
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
	var firstMembers []int64
	var firstOrders []string
	for i := range keep {
		if recs[i].After.PaidOrders != 1 {
			continue
		}
		firstMembers, firstOrders = append(firstMembers, os[i].MemberID), append(firstOrders, os[i].ID)
		for _, h := range s.OnFirstPaid {
			if err := h(ctx, os[i].MemberID, os[i].ID); err != nil {
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
