package mall

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
)

// # Group commit
//
// A points-only redemption made outside a caller's transaction is, after
// the Gate has reserved its unit, handed to a batch.Committer (GroupCommit;
// an item with a cash part never is: its hold and WeChat order stay one by
// one; nor is a virtual item with a benefit: its delivery stays one by
// one too, service.go deliver). A group commits the redemptions of one item and one day in ONE
// unit of work, each step made once for the whole group:
//
//  1. one load (Store.LoadGroup): the members' rows of the item locked
//     for the unit of work (created if missing), their usage of the item
//     (only when it has limits), the redemptions under the requests' keys
//     (replays answer the stored redemption), the members' points
//     accounts taken, free codes of a coupon item's pool taken, and the
//     item as stored now;
//  2. decide for each request in arrival order — the same decision the
//     one-by-one path makes (commit) — on that state, each accepted
//     redemption counting for the next ones: the item's Sold, the member's
//     usage and points, the next free code. A second request with a key
//     already decided in the group is its replay;
//  3. the redemption rows at once (their ids name the ledger spends), one
//     ledger.ApplyWithoutIDs of every spend, and last the codes given and
//     the item's stock taken for the whole group (Store.SellGroup), which
//     fails the unit of work when fewer units are left than decided.
//
// In which order the store locks, and how many requests a group costs
// the database, is repo/mallstore's (its package doc).
//
// A group reads no balance: the spends are its points check
// (Shopper.PointsUnread). A spend the ledger refuses rolls the group back,
// and it runs again without that request, which runs alone: the one-by-one
// path reads the balance and Decide words the refusal. Any other failure
// (fewer units left than decided (ErrStockShort), a key taken behind the
// group's back, a conflict beyond the retries) rolls the group back and
// every request of it runs alone through the one-by-one path, which
// decides everything again from the database.

type redeemJob struct {
	ctx      context.Context
	it       *Item
	who      Shopper
	tierRead bool
	memberID int64
	key      string
	now      time.Time
	day      int
	done     chan redeemResult
}

type redeemResult struct {
	r       Redemption
	soldOut bool
	err     error
	alone   bool // run it through the one-by-one path
}

// GroupStats reports how many groups have committed and how many
// redemptions they answered (the rest ran alone).
func (s *Service) GroupStats() (groups, grouped int64) {
	return s.group.Stats()
}

// groupMax caps a group: one ApplyWithoutIDs and one INSERT each.
const groupMax = 500

// redeemGrouped hands a redemption to group commit; alone means the caller
// runs it one by one.
func (s *Service) redeemGrouped(ctx context.Context, it *Item, memberID int64, key string, now time.Time, day int) redeemResult {
	who := Shopper{PointsUnread: true}
	if len(it.Tiers) > 0 {
		tier, err := s.Tiers.Code(ctx, memberID)
		if err != nil {
			return redeemResult{err: err}
		}
		who.Tier = tier
	}
	j := &redeemJob{ctx: ctx, it: it, who: who, tierRead: len(it.Tiers) > 0, memberID: memberID, key: key, now: now, day: day, done: make(chan redeemResult, 1)}
	s.group.Submit(s.GroupCommit.CappedAt(min(groupMax, ledger.MaxApply)), s.runGroup, j)
	// Once queued the job is answered whatever happens to ctx: the group
	// may already have committed it.
	return <-j.done
}

// runGroup commits the jobs one unit of work per item and day (nearly
// always one) and answers every job.
func (s *Service) runGroup(jobs []*redeemJob) {
	type part struct {
		item int64
		day  int
	}
	var order []part
	parts := map[part][]*redeemJob{}
	for _, j := range jobs {
		p := part{j.it.ID, j.day}
		if _, ok := parts[p]; !ok {
			order = append(order, p)
		}
		parts[p] = append(parts[p], j)
	}
	for _, p := range order {
		s.commitGroup(parts[p])
	}
}

// errItemChanged rolls back a group whose item, read again, takes cash,
// carries a benefit, or has limits or tiers the group did not read: its
// requests run alone.
var errItemChanged = errors.New("mall: the item changed since the group's requests read it")

// refusedSpends rolls a group back: the ledger refused these spends.
type refusedSpends map[*redeemJob]bool

func (r refusedSpends) Error() string { return fmt.Sprintf("mall: %d spends refused", len(r)) }

func (s *Service) commitGroup(jobs []*redeemJob) {
	ctx := context.WithoutCancel(jobs[0].ctx)
	alone := map[*redeemJob]bool{}
	var answers map[*redeemJob]redeemResult
	var err error
	for attempt := 0; ; attempt++ {
		live := make([]*redeemJob, 0, len(jobs))
		for _, j := range jobs {
			if !alone[j] {
				live = append(live, j)
			}
		}
		if len(live) == 0 {
			answers, err = nil, nil
			break
		}
		err = batch.InTx(ctx, s.Tx, func(ctx context.Context) error {
			// Runs again after a deadlock: everything is decided afresh.
			var err error
			answers, err = s.redeemGroup(ctx, live)
			return err
		})
		var r refusedSpends
		if attempt < 3 && errors.As(err, &r) {
			for j := range r {
				alone[j] = true
			}
			continue
		}
		break
	}
	if err == nil {
		s.group.Done(len(answers))
	}
	for _, j := range jobs {
		a, ok := answers[j]
		if err != nil || !ok {
			a = redeemResult{alone: true}
		}
		j.done <- a
	}
}

// redeemGroup is the unit of work of a group of one item and one day (see
// the notes above); an error fails the whole group.
func (s *Service) redeemGroup(ctx context.Context, jobs []*redeemJob) (map[*redeemJob]redeemResult, error) {
	itemID, day := jobs[0].it.ID, jobs[0].day
	members := make([]int64, 0, len(jobs))
	keys := make([]RedemptionKey, 0, len(jobs))
	for _, j := range jobs {
		members = append(members, j.memberID)
		keys = append(keys, RedemptionKey{MemberID: j.memberID, Key: j.key})
	}
	slices.Sort(members)
	members = slices.Compact(members)
	limited := jobs[0].it.LimitTotal > 0 || jobs[0].it.LimitDaily > 0

	// Step 1: everything the decision needs, in one load.
	q := RedemptionGroupQuery{ItemID: itemID, Day: day, Members: members, Keys: keys, Usage: limited}
	if needsCode(jobs[0].it) {
		q.Codes = len(jobs)
	}
	loaded, err := s.Store.LoadGroup(ctx, q)
	if err != nil {
		return nil, err
	}
	it, usage, prior, pool := loaded.Item, loaded.Usage, loaded.Prior, loaded.Codes
	if it.CashFen > 0 || it.Benefit != BenefitNone || (!limited && (it.LimitTotal > 0 || it.LimitDaily > 0)) {
		return nil, errItemChanged // a cash part or limits since the requests read it (ItemTTL)
	}
	for _, j := range jobs {
		if len(it.Tiers) > 0 && !j.tierRead {
			return nil, errItemChanged // tiers since the request read it
		}
	}
	free := pool

	// Step 2: the one decision, request by request.
	out := make(map[*redeemJob]redeemResult, len(jobs))
	type member struct {
		who  Shopper
		used Usage
	}
	state := map[int64]*member{}
	decided := map[RedemptionKey]*Redemption{}
	var rs []*Redemption
	var payers []*redeemJob
	var replays []*redeemJob
	for _, j := range jobs {
		k := RedemptionKey{MemberID: j.memberID, Key: j.key}
		if p, ok := prior[k]; ok {
			p.Replayed = true
			out[j] = redeemResult{r: p}
			continue
		}
		if _, ok := decided[k]; ok {
			replays = append(replays, j)
			continue
		}
		m := state[j.memberID]
		if m == nil {
			m = &member{who: j.who, used: usage[j.memberID]}
			state[j.memberID] = m
		}
		r, err := decide(it, m.who, m.used, free, j.memberID, j.key, j.now, j.day)
		if err != nil {
			out[j] = redeemResult{err: err, soldOut: it.Left() <= 0}
			continue
		}
		if r.CouponCode != "" {
			free = free[1:]
		}
		it.Sold++
		m.used.Total++
		m.used.Today++
		m.who.Available -= it.Points
		rs = append(rs, &r)
		payers = append(payers, j)
		decided[k] = &r
	}
	if len(rs) == 0 {
		return out, nil
	}

	// Step 3: the writes, the hot row last.
	if err := s.Store.InsertRedemptions(ctx, rs); err != nil {
		return nil, err
	}
	ops := make([]ledger.Op, len(rs))
	for i, r := range rs {
		in := spendOf(it, r)
		ops[i] = ledger.Op{Spend: &in}
	}
	_, errs, err := s.Points.ApplyWithoutIDs(ctx, ops)
	if err != nil {
		return nil, err
	}
	refused := refusedSpends{}
	for i, e := range errs {
		if e != nil {
			refused[payers[i]] = true
		}
	}
	if len(refused) > 0 {
		return nil, refused
	}
	// The codes went in the pool's order, one per coupon redemption.
	var given []PoolCode
	for _, r := range rs {
		if r.CouponCode != "" {
			c := pool[len(given)]
			c.RedemptionID = r.ID
			given = append(given, c)
		}
	}
	// The codes and the item's stock last.
	if err := s.Store.SellGroup(ctx, itemID, int64(len(rs)), given); err != nil {
		return nil, err
	}
	for i, j := range payers {
		out[j] = redeemResult{r: *rs[i]}
	}
	for _, j := range replays {
		r := *decided[RedemptionKey{MemberID: j.memberID, Key: j.key}]
		r.Replayed = true
		out[j] = redeemResult{r: r}
	}
	return out, nil
}

// spendOf is the ledger spend of a points-only redemption (charge and a
// group make the same).
func spendOf(it *Item, r *Redemption) ledger.SpendInput {
	return ledger.SpendInput{MemberID: r.MemberID, Points: it.Points, Key: "mall:" + strconv.FormatInt(r.ID, 10),
		Ref: ledgerRef(r.ID), Title: "积分兑换 " + clip(it.Name, 50), Operator: "member"}
}

// grouping reports whether a redemption of it with ctx goes through group
// commit: grouping on, no caller's transaction, no cash part and no
// benefit. An item with a benefit (make-up cards) always takes the
// one-by-one path, whose commit delivers it (deliver); a group finding
// one since its requests read the item runs them alone (errItemChanged).
func (s *Service) grouping(ctx context.Context, it *Item) bool {
	return it.CashFen == 0 && it.Benefit == BenefitNone && s.GroupCommit.On(ctx, s.Tx)
}
