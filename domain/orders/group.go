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
// unit of work are handled in groups (domain/batch): a committer takes
// every event queued (up to GroupCommit.Max) and runs them in ONE unit of
// work, in arrival order, as they would run one after another:
//
//  1. the group loaded (BatchStore.LoadPaidGroup): which event ids are
//     taken and the members named, with the tier rows of every member
//     named taken by the unit of work; the store takes their points
//     accounts then too when it may (the group tells it whether the rules
//     may draw on limits: rules.Service.MayLimit), and may run the
//     first-paid load hooks (LoadFirstPaid) for the members named;
//  2. the members' growth and order counts on those rows, in order, so two
//     events of one member count twice (rows missing are added and taken
//     then), saved at once; unless step 1 ran them, the first-paid load
//     hooks learn which members' first orders these are;
//  3. the rules in memory (rules.Service.ApplyMany): the usage the caps
//     need and the budget pools, taken once, which the group's events then
//     draw on in order (a pool is never overspent);
//  4. the earns through ledger.Service.ApplyWithoutIDs (the accounts taken
//     unless step 1 took them; nobody reads the entries' ids);
//  5. the orders, final points and breakdown included, and the event
//     records with their outcomes, saved at once;
//  6. the first-paid hooks of the events that are a member's first order:
//     OnFirstPaid per event, OnFirstPaidMany once for the group (referral
//     loads the bindings of all of them at once, or uses what its load
//     hook asked for at step 2).
//
// The members are taken in the ordinary path's order: tier rows, usage and
// pools, accounts (which is why the store is told whether the rules may
// draw on limits). When the store takes what, how many requests a group
// costs the server, and the one deadlock it may meet, are
// repo/orderstore's (its package doc).
//
// An event leaves the group and runs alone through the ordinary path when
// its id is taken (a replay: the ordinary path answers it) or repeated in
// the group, when its order id is repeated in the group, or when its member
// does not exist. If anything fails in the group's unit of work (an earn
// refused, a taken order id or ledger key, a pool that changed), the whole
// group rolls back and every event runs alone, so each gets exactly the
// answer it would have got without grouping. Refunds, events naming the
// member by openid or phone and events naming a points hold always run
// alone.

// BatchStore is what group commit needs of the order store.
type BatchStore interface {
	// LoadPaidGroup loads what a group of paid events starts from (step 1
	// of the group-commit notes): which of q.EventIDs are already stored
	// and the members of q.Members that exist, with the tier rows of
	// q.Members taken for the unit of work in ctx. It takes their points
	// accounts for it too, with no lots, unless q.Limited (the usage and
	// pools the rules draw on are taken between the tier rows and the
	// accounts); it may run q.LoadFirstPaid for q.Members, and says so.
	LoadPaidGroup(ctx context.Context, q PaidGroupQuery) (PaidGroupState, error)
	// InsertPaid inserts the orders, then the event records with their
	// outcomes. They are saved by the time the unit of work ends: a taken
	// order or event id may then fail the unit of work (ErrDuplicateEvent,
	// wrapped), which must roll back.
	InsertPaid(ctx context.Context, events []EventRecord, orders []*Order) error
}

// PaidGroupQuery is what a group of paid events loads first.
type PaidGroupQuery struct {
	EventIDs []string
	Members  []int64 // the members the events name (repeats allowed)
	// Limited: the group's rules may draw on caps or budget pools
	// (rules.Service.MayLimit).
	Limited bool
	// LoadFirstPaid runs the group's first-paid load hooks for members
	// whose first paid orders the group may hold (a superset).
	LoadFirstPaid func(ctx context.Context, members []int64) error
}

// PaidGroupState is what LoadPaidGroup found.
type PaidGroupState struct {
	Taken   map[string]bool          // the event ids already stored
	Members map[int64]*member.Member // the members that exist, by id
	// FirstPaidLoaded: LoadFirstPaid ran for every member of the query.
	FirstPaidLoaded bool
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

// groupable reports whether e may be handled in a group: a paid event
// naming its member by id and no points hold. Refunds, members named by
// phone, and holds always run alone; a member named by openid is grouped
// by id once known (grouped).
func (e *Event) groupable() bool {
	return e.Type == Paid && e.Member.MemberID > 0 && e.PointsHoldID == 0
}

// grouped returns the event as its group handles it, false when it runs
// alone: a groupable event, or a paid event naming by openid a member who
// exists, named by id instead (an openid's member never changes, so the
// look-up may come before the group's unit of work; its request hash is
// the event's as sent). Group commit must be on, with no unit of work in
// ctx.
func (s *Service) grouped(ctx context.Context, e Event) (Event, bool) {
	if !s.GroupCommit.On(ctx, s.Tx) || e.Type != Paid || e.PointsHoldID != 0 {
		return e, false
	}
	if e.Member.MemberID == 0 && e.Member.OpenID != "" {
		id, ok := s.openIDs.Get(e.Member.OpenID)
		if !ok {
			m, err := s.Members.ByOpenID(ctx, e.Member.OpenID)
			if err != nil {
				return e, false // unknown (an unmatched order) or unreadable: alone
			}
			id = m.ID
			s.openIDs.Put(e.Member.OpenID, id)
		}
		e.Member = MemberRef{MemberID: id, OpenID: e.Member.OpenID}
	}
	return e, e.groupable()
}

// submit queues a paid event for group commit and waits for its answer;
// alone means the caller must run it through the ordinary path.
func (s *Service) submit(ctx context.Context, e Event, hash string, now time.Time) (Outcome, bool) {
	if ctx.Err() != nil {
		return Outcome{}, true
	}
	j := &paidJob{ctx: ctx, e: e, hash: hash, now: now, done: make(chan paidResult, 1)}
	s.group.Submit(s.GroupCommit, func(jobs []*paidJob) { s.commitGroup(jobs) }, j)
	// Once queued the job is answered whatever happens to ctx: the group
	// may already have committed it.
	r := <-j.done
	return r.out, r.alone
}

func (s *Service) commitGroup(jobs []*paidJob) {
	var outs map[*paidJob]Outcome
	ctx := context.WithoutCancel(jobs[0].ctx)
	err := batch.InTx(ctx, s.Tx, func(ctx context.Context) error {
		// Runs again after a deadlock: it starts from nothing.
		var err error
		outs, err = s.runGroup(ctx, jobs)
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
func (s *Service) runGroup(ctx context.Context, jobs []*paidJob) (map[*paidJob]Outcome, error) {
	// Step 1: the taken events and the members, their tier rows (and
	// perhaps their accounts) taken for the unit of work.
	ids := make([]string, 0, len(jobs))
	named := make([]int64, 0, len(jobs))
	for _, j := range jobs {
		ids = append(ids, j.e.EventID)
		named = append(named, j.e.Member.MemberID)
	}
	limited, err := s.Rules.MayLimit(ctx, rules.OrderPaid)
	if err != nil {
		return nil, err
	}
	loaded, err := s.Store.LoadPaidGroup(ctx, PaidGroupQuery{EventIDs: ids, Members: named, Limited: limited, LoadFirstPaid: s.loadFirstPaid})
	if err != nil {
		return nil, err
	}
	taken, mems := loaded.Taken, loaded.Members
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
	recs, err := s.Tier.RecordPaidMany(ctx, paid)
	if err != nil {
		return nil, err
	}
	// Which events are their member's first paid order is known now: the
	// load hooks may ask for what they need (unless step 1 ran them).
	var firstMembers []int64
	var firsts []int // indexes in keep of the members' first paid orders
	for i, j := range keep {
		if recs[i].After.PaidOrders == 1 {
			firstMembers, firsts = append(firstMembers, j.e.Member.MemberID), append(firsts, i)
		}
	}
	if !loaded.FirstPaidLoaded {
		if err := s.loadFirstPaid(ctx, firstMembers); err != nil {
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
	res, err := s.Rules.ApplyMany(ctx, ins)
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
		// Nobody reads the entries' ids.
		_, errs, err := s.Ledger.ApplyWithoutIDs(ctx, ops)
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
	if err := s.Store.InsertPaid(ctx, events, os); err != nil {
		return nil, err
	}

	// Step 6: the first-paid hooks, as an event alone runs them.
	ps := make([]FirstPaid, len(firsts))
	for k, i := range firsts {
		ps[k] = s.firstOf(os[i])
	}
	if err := s.firstPaid(ctx, ps); err != nil {
		return nil, err
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

// loadFirstPaid runs the LoadFirstPaid hooks for members.
func (s *Service) loadFirstPaid(ctx context.Context, members []int64) error {
	if len(members) == 0 {
		return nil
	}
	for _, h := range s.LoadFirstPaid {
		if err := h(ctx, members); err != nil {
			return err
		}
	}
	return nil
}
