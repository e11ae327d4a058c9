// Package tier keeps member levels (普通, 银卡, 金卡, 钻石 …): the growth value
// that moves a member up, the yearly review that may move them down, and
// buying the next level with points.
//
// Growth is the member's paid yuan net of refunds (kept in fen, shown in
// yuan). A member moves up the moment growth reaches a level's threshold.
// A member moves down only at their yearly review (one year after their
// first growth, then every year), only to the level their growth still
// earns, and never within Protection (12 months) of reaching their current
// level — whether it was reached by growth or bought with points.
//
// Every change runs with the member's tier row locked for the caller's
// unit of work (repo/tierstore says how), so an order's growth and its
// points commit together.
package tier

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// Level is one rung, from configuration.
type Level struct {
	Code     string   // used by rules' tier conditions: "normal", "silver", …
	Name     string   // shown to shoppers: "银卡"
	Growth   int64    // growth value (yuan) that reaches it
	Price    int64    // points to buy it from the level below; 0 = cannot be bought
	Benefits []string // shown to shoppers
}

// State is one member's tier row.
type State struct {
	MemberID  int64
	Level     string // level code
	GrowthFen int64  // paid fen net of refunds, never below zero
	// PaidOrders counts the member's paid orders; WeekOrders those of the
	// ISO week starting WeekStart (yyyymmdd). The rules' order conditions
	// read them; they live here because this row is the member's lock.
	PaidOrders int64
	WeekStart  int
	WeekOrders int64
	ReachedAt  time.Time
	ReviewAt   time.Time // next yearly review
	UpdatedAt  time.Time
}

// Purchase records a level bought with points, keyed by the caller's
// idempotency key.
type Purchase struct {
	MemberID  int64
	Key       string
	From, To  string
	Points    int64
	EntryID   int64
	CreatedAt time.Time
	Replayed  bool // not stored
}

// Store keeps tier rows. Every method joins the transaction in ctx.
type Store interface {
	// Update loads the member's row locked (inserting init first when there
	// is none), calls fn and saves what fn changed when it returns nil.
	Update(ctx context.Context, init State, fn func(st *State) error) error
	// Get reads the row; found is false when the member has none.
	Get(ctx context.Context, memberID int64) (st State, found bool, err error)
	// GetMany reads the rows of the members that have one.
	GetMany(ctx context.Context, memberIDs []int64) (map[int64]State, error)
	// PurchaseByKey finds a purchase by member and key.
	PurchaseByKey(ctx context.Context, memberID int64, key string) (Purchase, bool, error)
	// InsertPurchase stores p; a taken key is a Conflict.
	InsertPurchase(ctx context.Context, p *Purchase) error
	// DueForReview returns up to limit members with id > after whose review
	// is due at now, by id.
	DueForReview(ctx context.Context, now time.Time, after int64, limit int) ([]int64, error)
	// BatchStore: a group's rows in one read and one write.
	BatchStore
}

// Spender debits points (ledger.Service).
type Spender interface {
	Spend(ctx context.Context, in ledger.SpendInput) (ledger.Entry, error)
}

// Service keeps tiers.
type Service struct {
	Levels []Level // ascending by Growth; Levels[0].Growth is 0
	Store  Store
	Ledger Spender
	Tx     domain.UnitOfWork
	Clock  domain.Clock
}

// Validate checks a level list (the configuration). A problem comes back
// as an Invalid error whose field is the level's path below prefix
// ("tier.levels[1].growth" for prefix "tier.levels").
func Validate(prefix string, levels []Level) error {
	if len(levels) == 0 {
		return domain.FieldError(prefix, "at least one level")
	}
	seen := map[string]bool{}
	for i, l := range levels {
		key := fmt.Sprintf("%s[%d]", prefix, i)
		if strings.TrimSpace(l.Code) == "" || strings.TrimSpace(l.Name) == "" {
			return domain.FieldError(key, "code and name required")
		}
		if seen[l.Code] {
			return domain.FieldError(key+".code", fmt.Sprintf("duplicate code %q", l.Code))
		}
		seen[l.Code] = true
		switch {
		case i == 0 && l.Growth != 0:
			return domain.FieldError(key+".growth", "the first level starts at 0")
		case i > 0 && l.Growth <= levels[i-1].Growth:
			return domain.FieldError(key+".growth", "must be above the level below")
		}
		if maxYuan := int64(domain.MaxFen / 100); l.Growth > maxYuan { // growth is in yuan
			return domain.FieldError(key+".growth", fmt.Sprintf("at most %d (yuan)", maxYuan))
		}
		if _, err := domain.ParsePointsOrZero(key+".price", l.Price); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) rank(code string) int {
	for i, l := range s.Levels {
		if l.Code == code {
			return i
		}
	}
	return 0 // a code no longer configured counts as the first level
}

// forGrowth is the highest level growthFen reaches.
func (s *Service) forGrowth(growthFen int64) int {
	r := 0
	for i, l := range s.Levels {
		if growthFen/100 >= l.Growth {
			r = i
		}
	}
	return r
}

func (s *Service) init(memberID int64, now time.Time) State {
	return State{MemberID: memberID, Level: s.Levels[0].Code, ReachedAt: now, ReviewAt: now.AddDate(1, 0, 0), UpdatedAt: now}
}

// Code returns the member's level code ("normal" for a member with no row).
func (s *Service) Code(ctx context.Context, memberID int64) (string, error) {
	st, found, err := s.Store.Get(ctx, memberID)
	if err != nil {
		return "", err
	}
	if !found {
		return s.Levels[0].Code, nil
	}
	return s.Levels[s.rank(st.Level)].Code, nil
}

// TierOf is Code: the member's level code, for features that scale by
// tier (the sign-in multiplier).
func (s *Service) TierOf(ctx context.Context, memberID int64) (string, error) {
	return s.Code(ctx, memberID)
}

// TiersOf returns the level codes of members in one read: Code for each.
func (s *Service) TiersOf(ctx context.Context, memberIDs []int64) (map[int64]string, error) {
	sts, err := s.Store.GetMany(ctx, memberIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(memberIDs))
	for _, id := range memberIDs {
		out[id] = s.Levels[0].Code
		if st, ok := sts[id]; ok {
			out[id] = s.Levels[s.rank(st.Level)].Code
		}
	}
	return out, nil
}

// RecordPaid records a paid order of fen that occurred at: growth and the
// order counts, upgrading at once when a threshold is crossed. It returns
// the state before and after, and how many paid orders the member has in
// the order's ISO week, this one included (an order reported after a later
// week's order counts as 1 in its week).
func (s *Service) RecordPaid(ctx context.Context, memberID, fen int64, at time.Time) (before, after State, weekOrders int64, err error) {
	monday := weekOf(at)
	before, after, err = s.update(ctx, memberID, fen, func(st *State) { weekOrders = countPaid(st, monday) })
	return before, after, weekOrders, err
}

// weekOf is the Monday (yyyymmdd) of at's ISO week, in Shanghai.
func weekOf(at time.Time) int {
	day := domain.DayOf(at)
	return day.AddDays(-(int(day.Start().Weekday()+6) % 7)).Int()
}

// countPaid counts a paid order of the week starting monday (yyyymmdd) and
// returns the week's count, this order included.
func countPaid(st *State, monday int) int64 {
	st.PaidOrders++
	switch {
	case monday == st.WeekStart:
		st.WeekOrders++
		return st.WeekOrders
	case monday > st.WeekStart:
		st.WeekStart, st.WeekOrders = monday, 1
	}
	return 1
}

// Paid is one paid order for RecordPaidMany.
type Paid struct {
	MemberID, Fen int64
	At            time.Time
}

// Recorded is what RecordPaid returns, for one order of RecordPaidMany.
type Recorded struct {
	Before, After State
	WeekOrders    int64
}

// BatchStore is what RecordPaidMany needs of the Store.
type BatchStore interface {
	// LockMany adds the rows of inits that are missing, then returns all
	// of them locked for the unit of work in ctx.
	LockMany(ctx context.Context, inits []State) (map[int64]State, error)
	// SaveMany saves the rows (taken by LockMany) at once; they are saved
	// by the time the unit of work ends.
	SaveMany(ctx context.Context, sts []State) error
	// RowTaker: a group's rows taken before its LockMany.
	RowTaker
}

// RowTaker takes for the unit of work in ctx the rows a later LockMany of
// the same members will lock; that LockMany then returns them as taken,
// loading only the rows it had to add. The caller takes them at the point
// of its lock order where the tier rows come; how and when the store
// sends the locking read is repo/tierstore's.
type RowTaker interface {
	TakeRows(ctx context.Context, memberIDs []int64) error
}

// LockMembers takes the tier rows of memberIDs for the unit of work in
// ctx (RowTaker); a RecordPaidMany of those members in it then loads
// nothing more. Members without a row (or that do not exist) are
// harmless: RecordPaidMany adds the rows it needs.
func (s *Service) LockMembers(ctx context.Context, memberIDs []int64) error {
	return s.Store.TakeRows(ctx, memberIDs)
}

// RecordPaidMany records paid orders as RecordPaid would one after another,
// in order (two orders of one member count as two), in the unit of work in
// ctx: all the members' rows locked at once, and saved at once.
func (s *Service) RecordPaidMany(ctx context.Context, in []Paid) ([]Recorded, error) {
	now := s.Clock.Now()
	var out []Recorded
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		seen := map[int64]bool{}
		var inits []State
		for _, p := range in {
			if !seen[p.MemberID] {
				seen[p.MemberID] = true
				inits = append(inits, s.init(p.MemberID, now))
			}
		}
		sort.Slice(inits, func(i, k int) bool { return inits[i].MemberID < inits[k].MemberID })
		rows, err := s.Store.LockMany(ctx, inits)
		if err != nil {
			return err
		}
		out = make([]Recorded, len(in))
		for i, p := range in {
			st, ok := rows[p.MemberID]
			if !ok {
				return fmt.Errorf("tier row of member %d missing", p.MemberID)
			}
			out[i].Before = st
			out[i].WeekOrders = countPaid(&st, weekOf(p.At))
			s.grow(&st, p.Fen, now)
			out[i].After = st
			rows[p.MemberID] = st
		}
		sts := make([]State, 0, len(inits))
		for _, init := range inits {
			sts = append(sts, rows[init.MemberID])
		}
		return s.Store.SaveMany(ctx, sts)
	})
	if err != nil {
		return nil, fmt.Errorf("growth of %d orders: %w", len(in), err)
	}
	return out, nil
}

// grow adds deltaFen to st's growth and upgrades at once when a threshold
// is crossed.
func (s *Service) grow(st *State, deltaFen int64, now time.Time) {
	st.GrowthFen = max(st.GrowthFen+deltaFen, 0)
	if g := s.forGrowth(st.GrowthFen); g > s.rank(st.Level) {
		st.Level, st.ReachedAt = s.Levels[g].Code, now
	}
	st.UpdatedAt = now
}

// AddGrowth adds deltaFen (negative for a refund) to the member's growth in
// the unit of work in ctx and upgrades at once when a threshold is crossed.
// It returns the state before and after.
func (s *Service) AddGrowth(ctx context.Context, memberID, deltaFen int64) (before, after State, err error) {
	return s.update(ctx, memberID, deltaFen, nil)
}

func (s *Service) update(ctx context.Context, memberID, deltaFen int64, also func(st *State)) (before, after State, err error) {
	now := s.Clock.Now()
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		return s.Store.Update(ctx, s.init(memberID, now), func(st *State) error {
			before = *st
			if also != nil {
				also(st)
			}
			s.grow(st, deltaFen, now)
			after = *st
			return nil
		})
	})
	if err != nil {
		return State{}, State{}, fmt.Errorf("growth of member %d: %w", memberID, err)
	}
	return before, after, nil
}

// Status is what the shopper sees.
type Status struct {
	Level         Level
	Growth        int64  // yuan
	Next          *Level // nil at the top
	NextThreshold int64  // growth of Next, 0 at the top
	// Progress is the way from this level's threshold to the next one, in
	// per-mille (0–1000); 1000 at the top.
	Progress  int64
	ReachedAt time.Time
	ReviewAt  time.Time
}

// Get returns the member's level, growth and the way to the next level.
func (s *Service) Get(ctx context.Context, memberID int64) (Status, error) {
	st, found, err := s.Store.Get(ctx, memberID)
	if err != nil {
		return Status{}, err
	}
	if !found {
		st = s.init(memberID, s.Clock.Now())
		st.ReachedAt, st.ReviewAt = time.Time{}, time.Time{}
	}
	return s.status(st), nil
}

// status is what the shopper sees of st.
func (s *Service) status(st State) Status {
	r := s.rank(st.Level)
	out := Status{Level: s.Levels[r], Growth: st.GrowthFen / 100, ReachedAt: st.ReachedAt, ReviewAt: st.ReviewAt, Progress: 1000}
	if r+1 < len(s.Levels) {
		next := s.Levels[r+1]
		out.Next, out.NextThreshold = &next, next.Growth
		span := next.Growth - s.Levels[r].Growth
		done := min(max(out.Growth-s.Levels[r].Growth, 0), span)
		out.Progress = done * 1000 / span
	}
	return out
}

// nextToBuy is the level a member at level can buy with points: a
// RuleViolation at the top or when the next level has no price.
func (s *Service) nextToBuy(level string) (Level, error) {
	r := s.rank(level)
	if r+1 >= len(s.Levels) {
		return Level{}, domain.Errorf(domain.RuleViolation, "already at the top level %s", s.Levels[r].Name)
	}
	next := s.Levels[r+1]
	if next.Price <= 0 {
		return Level{}, domain.Errorf(domain.RuleViolation, "%s cannot be bought with points", next.Name)
	}
	return next, nil
}

// Upgrade buys the next level with its price in points. key makes it
// idempotent: the same key returns the first purchase. At the top level,
// or for a level without a price, it is a RuleViolation; without enough
// points, PointsInsufficient.
func (s *Service) Upgrade(ctx context.Context, memberID int64, key string) (Purchase, error) {
	if strings.TrimSpace(key) == "" {
		return Purchase{}, domain.FieldError("Idempotency-Key", "required")
	}
	now := s.Clock.Now()
	var out Purchase
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		return s.Store.Update(ctx, s.init(memberID, now), func(st *State) error {
			prior, found, err := s.Store.PurchaseByKey(ctx, memberID, key)
			if err != nil {
				return err
			}
			if found {
				prior.Replayed = true
				out = prior
				return nil
			}
			next, err := s.nextToBuy(st.Level)
			if err != nil {
				return err
			}
			e, err := s.Ledger.Spend(ctx, ledger.SpendInput{MemberID: memberID, Points: next.Price,
				Key: "tier:" + fmt.Sprint(memberID) + ":" + key, Ref: ledger.Ref{Type: "tier", ID: next.Code},
				Title: "积分升级" + next.Name, Operator: "member"})
			if err != nil {
				return err
			}
			out = Purchase{MemberID: memberID, Key: key, From: st.Level, To: next.Code, Points: next.Price, EntryID: e.ID, CreatedAt: now}
			if err := s.Store.InsertPurchase(ctx, &out); err != nil {
				return err
			}
			st.Level, st.ReachedAt, st.UpdatedAt = next.Code, now, now
			return nil
		})
	})
	if err != nil {
		return Purchase{}, fmt.Errorf("upgrade member %d: %w", memberID, err)
	}
	return out, nil
}

// review is one member's yearly review at now, when due: down to the level
// their growth earns unless they reached their level less than 12 months
// ago, and the next review a year on (past every missed one). It reports
// whether the member moved down.
func (s *Service) review(st *State, now time.Time) (moved bool) {
	if st.ReviewAt.After(now) {
		return false
	}
	g, r := s.forGrowth(st.GrowthFen), s.rank(st.Level)
	if g < r && !now.Before(st.ReachedAt.AddDate(1, 0, 0)) {
		st.Level, st.ReachedAt = s.Levels[g].Code, now
		moved = true
	}
	for !st.ReviewAt.After(now) {
		st.ReviewAt = st.ReviewAt.AddDate(1, 0, 0)
	}
	st.UpdatedAt = now
	return moved
}

// Review runs the yearly reviews due at now, batchSize members per unit of
// work, and returns how many members moved down. A member whose growth no
// longer earns their level goes down to the level it earns, unless they
// reached their level less than 12 months ago. Rerunning finds nothing due.
func (s *Service) Review(ctx context.Context, now time.Time, batchSize int) (int, error) {
	if batchSize <= 0 {
		batchSize = 100
	}
	moved := 0
	var after int64
	for {
		ids, err := s.Store.DueForReview(ctx, now, after, batchSize)
		if err != nil || len(ids) == 0 {
			return moved, err
		}
		err = s.Tx.InTx(ctx, func(ctx context.Context) error {
			for _, id := range ids {
				err := s.Store.Update(ctx, s.init(id, now), func(st *State) error {
					if s.review(st, now) {
						moved++
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return moved, fmt.Errorf("tier review: %w", err)
		}
		after = ids[len(ids)-1]
	}
}
