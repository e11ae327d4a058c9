package rules

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
)

// Store keeps rules and their versions. Writes must run inside a unit of
// work (Service opens one). Missing rules are a *domain.Error NotFound.
type Store interface {
	// Create inserts r as version 1, with its snapshot and its budget pool,
	// and sets r.ID, r.Version and r.CreatedAt.
	Create(ctx context.Context, r *Rule) error
	// Update stores r as a new version of rule r.ID. r.Version is the
	// version the editor started from: if it is no longer current the
	// update is a Conflict. On success r.Version is the new version.
	Update(ctx context.Context, r *Rule) error
	// Delete marks the rule deleted, as a new version.
	Delete(ctx context.Context, id int64, at time.Time) error
	// Get returns the current version (deleted rules included).
	Get(ctx context.Context, id int64) (Rule, error)
	// GetVersion returns the snapshot of one version.
	GetVersion(ctx context.Context, id int64, version int) (Rule, error)
	// List returns the rules matching f, current versions, by id.
	List(ctx context.Context, f Filter) ([]Rule, error)
	// ActiveFor returns the active rules of trigger whose validity window
	// contains at.
	ActiveFor(ctx context.Context, trigger Trigger, at time.Time) ([]Rule, error)
}

// Usage is what rules have already awarded each member, for the caps.
type Usage interface {
	// Awarded returns the points rule ruleID awarded member memberID on the
	// Asia/Shanghai days from..to (inclusive). Inside a unit of work it
	// locks the member's usage of the rule for that period (even when
	// there is none yet), so two concurrent events of one member cannot
	// both pass a cap.
	Awarded(ctx context.Context, memberID, ruleID int64, from, to domain.Day) (int64, error)
	// Add records points awarded by rule ruleID to memberID on day.
	Add(ctx context.Context, memberID, ruleID int64, day domain.Day, points int64) error
	// BatchUsage: the same for a group (ApplyMany).
	BatchUsage
}

// Budget holds the rules' budget pools.
type Budget interface {
	// Remaining returns what the pool of ruleID still holds.
	Remaining(ctx context.Context, ruleID int64) (int64, error)
	// Reserve atomically takes up to points from the pool of ruleID, in the
	// unit of work carried by ctx, and returns what it took (0 when the pool
	// is empty). It never takes the pool below zero.
	Reserve(ctx context.Context, ruleID int64, points int64) (granted int64, err error)
	// BatchBudget: the same for a group (ApplyMany).
	BatchBudget
}

// Service edits and evaluates rules.
type Service struct {
	Store  Store
	Usage  Usage
	Budget Budget
	Tx     domain.UnitOfWork
	Clock  domain.Clock
	// CacheTTL keeps each trigger's active rules in memory this long
	// (0: read them for every evaluation). Edits made through this Service
	// drop the cache at once; edits made by another process apply within
	// CacheTTL.
	CacheTTL time.Duration

	cache ruleCache
}

// Create validates r and stores it as version 1.
func (s *Service) Create(ctx context.Context, r Rule) (Rule, error) {
	Normalize(&r)
	if err := Validate(&r); err != nil {
		return Rule{}, err
	}
	r.ID, r.Version, r.BudgetRemaining = 0, 0, 0
	now := s.Clock.Now()
	r.CreatedAt, r.UpdatedAt = now, now
	var out Rule
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.Create(ctx, &r); err != nil {
			return err
		}
		var err error
		out, err = s.Store.Get(ctx, r.ID)
		return err
	})
	s.cache.drop()
	if err != nil {
		return Rule{}, fmt.Errorf("create rule: %w", err)
	}
	return out, nil
}

// Update validates r and stores it as a new version of rule r.ID; r.Version
// must be the current version (the one the marketer edited), else Conflict.
func (s *Service) Update(ctx context.Context, r Rule) (Rule, error) {
	if r.ID <= 0 {
		return Rule{}, domain.FieldError("id", "required")
	}
	if r.Version <= 0 {
		return Rule{}, domain.FieldError("version", "required: the version being edited")
	}
	Normalize(&r)
	if err := Validate(&r); err != nil {
		return Rule{}, err
	}
	r.UpdatedAt = s.Clock.Now()
	var out Rule
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.Update(ctx, &r); err != nil {
			return err
		}
		var err error
		out, err = s.Store.Get(ctx, r.ID)
		return err
	})
	s.cache.drop()
	if err != nil {
		return Rule{}, fmt.Errorf("update rule %d: %w", r.ID, err)
	}
	return out, nil
}

// Delete soft-deletes the rule: it stops applying, its versions stay.
func (s *Service) Delete(ctx context.Context, id int64) error {
	now := s.Clock.Now()
	err := s.Tx.InTx(ctx, func(ctx context.Context) error { return s.Store.Delete(ctx, id, now) })
	s.cache.drop()
	if err != nil {
		return fmt.Errorf("delete rule %d: %w", id, err)
	}
	return nil
}

// Get returns the current version of a rule.
func (s *Service) Get(ctx context.Context, id int64) (Rule, error) { return s.Store.Get(ctx, id) }

// GetVersion returns one version of a rule as it was saved.
func (s *Service) GetVersion(ctx context.Context, id int64, version int) (Rule, error) {
	return s.Store.GetVersion(ctx, id, version)
}

// List returns the rules matching f.
func (s *Service) List(ctx context.Context, f Filter) ([]Rule, error) {
	if f.Trigger != "" && !f.Trigger.Valid() {
		return nil, domain.FieldError("trigger", "unknown trigger")
	}
	switch f.Status {
	case "", Active, Inactive, Deleted:
	default:
		return nil, domain.FieldError("status", "must be active, inactive or deleted")
	}
	return s.Store.List(ctx, f)
}

// Simulate answers "what would this event earn": it reads rules, caps usage
// and budget pools, and writes nothing. With in.Draft it answers what the
// event would earn once the draft is saved and active.
func (s *Service) Simulate(ctx context.Context, in Input) (Result, error) {
	in.DryRun = true
	if in.Draft != nil {
		if err := checkDraft(&in); err != nil {
			return Result{}, err
		}
	}
	return s.Evaluate(ctx, in)
}

// Apply evaluates for real, in the unit of work carried by ctx (or its
// own): it reserves from the budget pools and records usage for the caps.
// The caller stores the result (the ledger entry) in the same unit of work.
func (s *Service) Apply(ctx context.Context, in Input) (Result, error) {
	in.DryRun = false
	return s.Evaluate(ctx, in)
}

// Evaluate runs the rules of in.Trigger on the event, as a dry run when
// in.DryRun is set. See the package doc for the order of application.
func (s *Service) Evaluate(ctx context.Context, in Input) (Result, error) {
	if err := in.check(); err != nil {
		return Result{}, err
	}
	if !in.DryRun && in.Member.ID <= 0 {
		return Result{}, domain.FieldError("member.id", "required")
	}
	at := in.eventTime()
	if at.IsZero() {
		at = s.Clock.Now()
	}
	var res Result
	run := func(ctx context.Context) error {
		rs, err := s.active(ctx, in.Trigger, at)
		if err != nil {
			return err
		}
		var lim limiter = direct{s}
		var tempID int64
		if in.Draft != nil {
			rs, tempID = withDraft(rs, *in.Draft)
			if tempID != 0 {
				lim = draftLimiter{limiter: lim, id: tempID, budget: in.Draft.Budget}
			}
		}
		res, err = Calculate(rs, in, at)
		if err != nil {
			return err
		}
		byID := make(map[int64]*Rule, len(rs))
		for i := range rs {
			byID[rs[i].ID] = &rs[i]
		}
		if err := s.limit(ctx, &res, byID, lim); err != nil {
			return err
		}
		for i := range res.Lines {
			if tempID != 0 && res.Lines[i].RuleID == tempID {
				res.Lines[i].RuleID, res.Lines[i].Version = 0, 0
			}
		}
		return nil
	}
	var err error
	if in.DryRun {
		err = run(ctx)
	} else {
		err = s.Tx.InTx(ctx, run)
	}
	if err != nil {
		return Result{}, fmt.Errorf("evaluate %s for member %d: %w", in.Trigger, in.Member.ID, err)
	}
	return res, nil
}

// limit applies the caps, then the budget pools, to each line, then keeps
// the total from going negative; when not a dry run it records what each
// rule awarded.
func (s *Service) limit(ctx context.Context, res *Result, byID map[int64]*Rule, lim limiter) error {
	day := domain.DayOf(res.At)
	member := res.MemberID
	for i := range res.Lines {
		l := &res.Lines[i]
		r := byID[l.RuleID]
		if l.Points <= 0 || r == nil {
			continue
		}
		if r.Caps.any() && member > 0 {
			if err := applyCaps(ctx, lim, l, r, member, day); err != nil {
				return err
			}
		}
		if r.Budget > 0 && l.Points > 0 {
			granted, err := lim.reserve(ctx, r.ID, l.Points, res.DryRun)
			if err != nil {
				return fmt.Errorf("budget of rule %d: %w", r.ID, err)
			}
			if granted < l.Points {
				l.Points, l.Limited = max(granted, 0), "budget"
			}
		}
	}

	var total int64
	for _, l := range res.Lines {
		total += l.Points
	}
	for i := len(res.Lines) - 1; i >= 0 && total < 0; i-- {
		if l := &res.Lines[i]; l.Points < 0 {
			lift := min(-l.Points, -total)
			l.Points += lift
			total += lift
			l.Limited = "floor"
		}
	}
	res.Total = total

	if res.DryRun {
		return nil
	}
	for _, l := range res.Lines {
		if l.Points > 0 {
			if err := lim.add(ctx, member, l.RuleID, day, l.Points); err != nil {
				return fmt.Errorf("record usage of rule %d: %w", l.RuleID, err)
			}
		}
	}
	return nil
}

func applyCaps(ctx context.Context, lim limiter, l *Line, r *Rule, member int64, day domain.Day) error {
	wd := int(day.Start().Weekday()+6) % 7 // days since Monday
	monday := day.AddDays(-wd)
	first := domain.Day{Year: day.Year, Month: day.Month, Day: 1}
	periods := []struct {
		cap      int64
		from, to domain.Day
		name     string
	}{
		{r.Caps.PerDay, day, day, "cap_day"},
		{r.Caps.PerWeek, monday, monday.AddDays(6), "cap_week"},
		{r.Caps.PerMonth, first, domain.DayOf(first.Start().AddDate(0, 1, -1)), "cap_month"},
	}
	for _, p := range periods {
		if p.cap <= 0 {
			continue
		}
		used, err := lim.awarded(ctx, member, r.ID, p.from, p.to)
		if err != nil {
			return fmt.Errorf("usage of rule %d: %w", r.ID, err)
		}
		if left := max(p.cap-used, 0); l.Points > left {
			l.Points, l.Limited = left, p.name
		}
	}
	return nil
}

// limiter is where caps and budget pools are read and taken: the stores
// directly (one evaluation), or a group's in-memory view (ApplyMany).
type limiter interface {
	awarded(ctx context.Context, member, rule int64, from, to domain.Day) (int64, error)
	reserve(ctx context.Context, rule, points int64, dryRun bool) (int64, error)
	add(ctx context.Context, member, rule int64, day domain.Day, points int64) error
}

// direct reads and writes the stores for each call.
type direct struct{ s *Service }

func (d direct) awarded(ctx context.Context, member, rule int64, from, to domain.Day) (int64, error) {
	return d.s.Usage.Awarded(ctx, member, rule, from, to)
}

func (d direct) reserve(ctx context.Context, rule, points int64, dryRun bool) (int64, error) {
	if dryRun {
		left, err := d.s.Budget.Remaining(ctx, rule)
		return min(left, points), err
	}
	return d.s.Budget.Reserve(ctx, rule, points)
}

func (d direct) add(ctx context.Context, member, rule int64, day domain.Day, points int64) error {
	return d.s.Usage.Add(ctx, member, rule, day, points)
}
