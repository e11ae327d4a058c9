package rules

import (
	"context"
	"fmt"
	"sort"

	"github.com/jifen/jifen/domain"
)

// MayLimit reports whether evaluating events of trigger for real may draw
// on limits (caps per member, budget pools): true unless the cache is on
// and none of the trigger's active rules has caps or a pool. A group that
// would take the members' accounts earlier when no limit is involved (the
// order webhook's) asks it; the answer holds until the cache is reloaded
// (a rule edit, or CacheTTL).
func (s *Service) MayLimit(ctx context.Context, trigger Trigger) (bool, error) {
	if s.CacheTTL <= 0 {
		return true, nil
	}
	rs, err := s.cached(ctx, trigger)
	if err != nil {
		return true, err
	}
	for i := range rs {
		if rs[i].Caps.any() || rs[i].Budget > 0 {
			return true, nil
		}
	}
	return false, nil
}

// # Many evaluations in one unit of work
//
// ApplyMany evaluates a group of events the way Apply would evaluate them
// one after another, in order, in the caller's unit of work, loading and
// saving the group's usage and pools at once: the usage the caps need and
// the budget pools are loaded (and taken by the unit of work) once, the
// group's draws on each pool are taken in one step that fails if the pool
// no longer holds them (a pool is never overspent), and the usage is saved
// once (repo/rulestore says how).
// Caps and pools are kept in memory between the events of the group, so
// two events of one member, or many events drawing on one pool, get what
// they would get one after another.

// MemberRule names one member's usage of one rule.
type MemberRule struct{ Member, Rule int64 }

// UsageAdd is points awarded to Member by Rule on Day.
type UsageAdd struct {
	MemberRule
	Day    domain.Day
	Points int64
}

// BatchUsage is what ApplyMany needs of the usage store.
type BatchUsage interface {
	// UsageDays returns, taken by the unit of work, what each pair's rule
	// awarded its member per day (yyyymmdd) on days from..to. Unlike
	// Awarded it records nothing for a period without usage: ApplyMany's
	// callers have taken their members already (the order group takes the
	// members' tier rows first).
	UsageDays(ctx context.Context, pairs []MemberRule, from, to domain.Day) (map[MemberRule]map[int]int64, error)
	// AddMany records the awards (as Add does for each). The store may
	// save them as late as the end of the unit of work; a failure then
	// fails the unit of work.
	AddMany(ctx context.Context, adds []UsageAdd) error
}

// BatchBudget is what ApplyMany needs of the budget pools.
type BatchBudget interface {
	// LockPools returns, taken by the unit of work, what the pools of
	// ruleIDs still hold; a
	// rule without a pool row holds 0.
	LockPools(ctx context.Context, ruleIDs []int64) (map[int64]int64, error)
	// TakePools takes taken[rule] from each pool; a pool that no longer
	// holds that much is an error (nothing may be overspent).
	TakePools(ctx context.Context, taken map[int64]int64) error
}

// ApplyMany evaluates ins for real, in order, in the unit of work carried
// by ctx (or its own). Any error fails the whole group (the caller rolls
// back and may evaluate the events one by one).
func (s *Service) ApplyMany(ctx context.Context, ins []Input) ([]Result, error) {
	type prepared struct {
		res  Result
		byID map[int64]*Rule
	}
	var out []Result
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		out = make([]Result, len(ins))
		preps := make([]prepared, len(ins))
		pairs := map[MemberRule]bool{}
		pools := map[int64]bool{}
		var from, to domain.Day
		for i := range ins {
			in := ins[i]
			in.DryRun = false
			if err := in.check(); err != nil {
				return err
			}
			if in.Member.ID <= 0 {
				return domain.FieldError("member.id", "required")
			}
			at := in.eventTime()
			if at.IsZero() {
				at = s.Clock.Now()
			}
			rs, err := s.active(ctx, in.Trigger, at)
			if err != nil {
				return err
			}
			res, err := Calculate(rs, in, at)
			if err != nil {
				return err
			}
			byID := make(map[int64]*Rule, len(rs))
			for k := range rs {
				byID[rs[k].ID] = &rs[k]
			}
			preps[i] = prepared{res, byID}
			day := domain.DayOf(at)
			wd := int(day.Start().Weekday()+6) % 7
			lo, hi := day.AddDays(-wd), day.AddDays(6-wd)
			first := domain.Day{Year: day.Year, Month: day.Month, Day: 1}
			last := domain.DayOf(first.Start().AddDate(0, 1, -1))
			if first.Int() < lo.Int() {
				lo = first
			}
			if last.Int() > hi.Int() {
				hi = last
			}
			for _, l := range res.Lines {
				r := byID[l.RuleID]
				if l.Points <= 0 || r == nil {
					continue
				}
				if r.Caps.any() {
					pairs[MemberRule{in.Member.ID, r.ID}] = true
					if from.Year == 0 || lo.Int() < from.Int() {
						from = lo
					}
					if hi.Int() > to.Int() {
						to = hi
					}
				}
				if r.Budget > 0 {
					pools[r.ID] = true
				}
			}
		}
		g := &groupLimiter{usage: map[MemberRule]map[int]int64{}, left: map[int64]int64{}, taken: map[int64]int64{}, adds: map[UsageAdd]int64{}}
		if len(pairs) > 0 {
			list := make([]MemberRule, 0, len(pairs))
			for p := range pairs {
				list = append(list, p)
			}
			sort.Slice(list, func(i, k int) bool {
				if list[i].Member != list[k].Member {
					return list[i].Member < list[k].Member
				}
				return list[i].Rule < list[k].Rule
			})
			u, err := s.Usage.UsageDays(ctx, list, from, to)
			if err != nil {
				return err
			}
			for p, days := range u {
				g.usage[p] = days
			}
		}
		if len(pools) > 0 {
			ids := make([]int64, 0, len(pools))
			for id := range pools {
				ids = append(ids, id)
			}
			sort.Slice(ids, func(i, k int) bool { return ids[i] < ids[k] })
			left, err := s.Budget.LockPools(ctx, ids)
			if err != nil {
				return err
			}
			g.left = left
		}
		for i := range preps {
			p := &preps[i]
			if err := s.limit(ctx, &p.res, p.byID, g); err != nil {
				return fmt.Errorf("evaluate %s for member %d: %w", p.res.Trigger, p.res.MemberID, err)
			}
			out[i] = p.res
		}
		if len(g.taken) > 0 {
			if err := s.Budget.TakePools(ctx, g.taken); err != nil {
				return err
			}
		}
		if len(g.adds) > 0 {
			adds := make([]UsageAdd, 0, len(g.adds))
			for k, n := range g.adds {
				k.Points = n
				adds = append(adds, k)
			}
			sort.Slice(adds, func(i, k int) bool {
				a, b := adds[i], adds[k]
				if a.Member != b.Member {
					return a.Member < b.Member
				}
				if a.Rule != b.Rule {
					return a.Rule < b.Rule
				}
				return a.Day.Int() < b.Day.Int()
			})
			if err := s.Usage.AddMany(ctx, adds); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// groupLimiter is a group's view of the caps and pools: what the stores
// held when read (locked), plus what earlier events of the group took.
type groupLimiter struct {
	usage map[MemberRule]map[int]int64 // day → points
	left  map[int64]int64              // pool → what it still holds
	taken map[int64]int64              // pool → taken by the group
	adds  map[UsageAdd]int64           // (member, rule, day) with Points 0 → points
}

func (g *groupLimiter) awarded(_ context.Context, member, rule int64, from, to domain.Day) (int64, error) {
	var n int64
	for day, p := range g.usage[MemberRule{member, rule}] {
		if day >= from.Int() && day <= to.Int() {
			n += p
		}
	}
	return n, nil
}

func (g *groupLimiter) reserve(_ context.Context, rule, points int64, dryRun bool) (int64, error) {
	n := min(max(g.left[rule], 0), points)
	if !dryRun && n > 0 {
		g.left[rule] -= n
		g.taken[rule] += n
	}
	return n, nil
}

func (g *groupLimiter) add(_ context.Context, member, rule int64, day domain.Day, points int64) error {
	k := MemberRule{member, rule}
	if g.usage[k] == nil {
		g.usage[k] = map[int]int64{}
	}
	g.usage[k][day.Int()] += points
	g.adds[UsageAdd{MemberRule: k, Day: day}] += points
	return nil
}
