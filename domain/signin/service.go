package signin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/leaderboard"
)

// Service signs members in.
type Service struct {
	Store   Store
	Cache   Calendar
	Tx      domain.UnitOfWork
	Ledger  Ledger
	Clock   domain.Clock
	Rewards Rewards
	Tiers   Tiers       // the member's tier for Rewards.TierPermille (tier.Service); nil: everyone "normal"
	Streaks StreakBoard // optional
	// Joined tells when a member joined (registered): no make-up of a day
	// before it. Optional: nil checks nothing.
	Joined func(ctx context.Context, memberID int64) (time.Time, error)
	Points PointsBoard // optional
	// Cards are the members' make-up cards; nil: none, every make-up is
	// paid in points.
	Cards Cards
	// GroupCommit turns on group commit of sign-ins (see group.go); it needs a
	// Tx that tells whether a context carries a transaction.
	GroupCommit batch.Settings

	group batch.Committer[*job]
}

// Result answers a sign-in.
type Result struct {
	Day     domain.Day
	Streak  int
	Awarded []Line
	Balance int64
	// A make-up's payment: PointsSpent points (0 when a card paid),
	// CardUsed, and the cards left after it (CardsLeft).
	PointsSpent int64
	CardUsed    bool
	CardsLeft   int
}

// SignIn signs the member in for today. A second sign-in the same day is
// AlreadySignedIn and changes nothing. Outside a caller's transaction it
// goes through group commit when Group is set; inside one, or when its
// group fails, it runs alone.
func (s *Service) SignIn(ctx context.Context, memberID int64) (Result, error) {
	if memberID <= 0 {
		return Result{}, domain.FieldError("member_id", "must be positive")
	}
	now := s.Clock.Now()
	var res Result
	var err error
	alone, marked := true, false
	if s.grouped(ctx) {
		res, alone, marked, err = s.submit(ctx, memberID, now)
	}
	if alone {
		res, err = s.signInAlone(ctx, memberID, now)
	}
	if err != nil {
		return Result{}, err
	}
	if alone {
		res.Balance = s.shown(ctx, map[int64]int64{memberID: res.Balance})[memberID]
	}
	if !marked {
		// A mark that fails is the Calendar's to send again.
		_ = s.Cache.Mark(ctx, memberID, res.Day)
		s.afterCommit(ctx, []leaderboard.SignIn{{MemberID: memberID, Streak: res.Streak, Earned: Total(res.Awarded)}})
	}
	return res, nil
}

// shown is the balance each sign-in answers, from its award entry's
// BalanceAfter: the member's available points as every read shows them
// (ledger.Service.Shown), once the awards have committed. The entry alone
// is not that: an earn reads no lots, so when nothing has settled the
// account since points passed their expiry instant (or pending points
// came due) its balance_after still counts the expired points (or not yet
// the due ones). A member whose read fails keeps the entry's figure: the
// sign-in has happened.
func (s *Service) shown(ctx context.Context, afterEarn map[int64]int64) map[int64]int64 {
	out, _ := s.Ledger.Shown(ctx, afterEarn)
	return out
}

// signInAlone is the one-by-one executor: one transaction for this
// sign-in, deciding with Rewards.Decide.
func (s *Service) signInAlone(ctx context.Context, memberID int64, now time.Time) (Result, error) {
	tiers, err := s.tiersOf(ctx, []int64{memberID})
	if err != nil {
		return Result{}, fmt.Errorf("tier of member %d: %w", memberID, err)
	}
	m := Member{ID: memberID, Tier: tiers[memberID]}
	var res Result
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		// The member first, as a group and a make-up take it: the locks
		// are taken in one order everywhere (the store's docs tell why).
		// Then claim the day as if yesterday were not signed: concurrent
		// taps wait on this row and then find it taken, before any other
		// work.
		if err := s.Ledger.LockMember(ctx, memberID); err != nil {
			return err
		}
		rec, lines, _ := s.Rewards.Decide(m, now)
		if err := s.Store.Insert(ctx, rec); err != nil {
			if errors.Is(err, ErrDuplicate) {
				_, _, err = s.Rewards.Decide(Member{ID: memberID, Taken: true}, now)
			}
			return err
		}
		// Yesterday's row as a make-up of it may still be writing it (see
		// Store.Get's lock), and the decision again with its streak.
		prev, found, err := s.Store.Get(ctx, memberID, rec.Day.AddDays(-1), true)
		if err != nil {
			return err
		}
		if found {
			m.Yesterday = prev.Streak
			rec, lines, _ = s.Rewards.Decide(m, now)
			if err := s.Store.Settle(ctx, memberID, rec.Day, rec.Streak, rec.Points); err != nil {
				return err
			}
		}
		res = Result{Day: rec.Day, Streak: rec.Streak, Awarded: lines}
		res.Balance, err = s.award(ctx, rec)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// award earns rec's points in the transaction in ctx and returns the
// member's balance after it.
func (s *Service) award(ctx context.Context, rec Record) (int64, error) {
	if rec.Points > 0 {
		e, err := s.Ledger.Earn(ctx, earning(rec))
		return e.BalanceAfter, err
	}
	b, err := s.Ledger.Balance(ctx, rec.MemberID)
	return b.Available, err
}

// afterCommit updates the boards in Redis for sign-ins just committed (the
// calendar bit is set by the caller or its group); failures are left to
// the boards' rebuild from SQL when they expire.
func (s *Service) afterCommit(ctx context.Context, signins []leaderboard.SignIn) {
	if b, ok := s.Streaks.(Boards); ok && any(s.Points) == any(s.Streaks) {
		b.SignedIn(ctx, signins)
		return
	}
	for _, in := range signins {
		if s.Streaks != nil {
			s.Streaks.StreakChanged(ctx, in.MemberID, in.Streak)
		}
		if s.Points != nil && in.Earned > 0 {
			s.Points.Earned(ctx, in.MemberID, in.Earned)
		}
	}
}

// Makeup signs the member in for a missed day of the current month before
// today, paid with a make-up card or Rewards.MakeupCost points (payMakeup),
// and reconnects the streak.
func (s *Service) Makeup(ctx context.Context, memberID int64, date string) (Result, error) {
	day, err := domain.ParseDay(date)
	if err != nil {
		return Result{}, err
	}
	now := s.Clock.Now()
	today := domain.DayOf(now)
	var joined domain.Day
	if s.Joined != nil {
		at, err := s.Joined(ctx, memberID)
		if err != nil {
			return Result{}, err
		}
		joined = domain.DayOf(at)
	}
	if err := MakeupDay(day, today, joined); err != nil {
		return Result{}, err
	}
	first := domain.Day{Year: today.Year, Month: today.Month, Day: 1}
	var res Result
	var current int
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		// The member first, as a sign-in takes it: a group of sign-ins
		// that took it before is waited for, and one that comes after
		// waits for this make-up before reading yesterday's streak.
		if err := s.Ledger.LockMember(ctx, memberID); err != nil {
			return err
		}
		month, err := s.Store.Month(ctx, memberID, first)
		if err != nil {
			return err
		}
		if err := s.Rewards.AllowMakeup(month, day); err != nil {
			return err
		}
		rec := Record{MemberID: memberID, Day: day, Streak: 1, Makeup: true, CreatedAt: now}
		if err := s.Store.Insert(ctx, rec); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return makeupTaken(day)
			}
			return err
		}
		prev, found, err := s.Store.Get(ctx, memberID, day.AddDays(-1), true)
		if err != nil {
			return err
		}
		if found {
			rec.Streak = prev.Streak + 1
			if err := s.Store.Settle(ctx, memberID, day, rec.Streak, 0); err != nil {
				return err
			}
		}
		// Renumber the run that follows the filled day, a page at a time.
		next, streak := day.AddDays(1), rec.Streak
		for {
			later, err := s.Store.After(ctx, memberID, next.AddDays(-1), 64)
			if err != nil {
				return err
			}
			var changed []Record
			changed, next, streak = Renumber(next, streak, later)
			for _, c := range changed {
				if err := s.Store.SetStreak(ctx, memberID, c.Day, c.Streak); err != nil {
					return err
				}
			}
			if len(changed) < len(later) || len(later) < 64 {
				break
			}
		}
		current = CurrentStreak(next, streak, today)
		res = Result{Day: day, Streak: rec.Streak, Awarded: []Line{}}
		return s.payMakeup(ctx, memberID, day, &res)
	})
	if err != nil {
		return Result{}, err
	}
	_ = s.Cache.Mark(ctx, memberID, day) // a mark that fails is the Calendar's to send again
	if s.Streaks != nil && current > 0 {
		s.Streaks.StreakChanged(ctx, memberID, current)
	}
	return res, nil
}

// payMakeup pays the make-up of day in the transaction in ctx (which holds
// the member's lock, LockMember) and fills res's payment: one make-up card
// when the member holds one, else Rewards.MakeupCost points through the
// ledger (PointsInsufficient when they are not available). This is the
// one place that decides between a card and points. The card is taken by
// a conditional write (Cards.UseCard), so the count never goes below zero
// and two make-ups never use the same card, whatever the locks.
func (s *Service) payMakeup(ctx context.Context, memberID int64, day domain.Day, res *Result) error {
	if s.Cards != nil {
		used, err := s.Cards.UseCard(ctx, memberID)
		if err != nil {
			return err
		}
		if used {
			res.CardUsed = true
			if res.CardsLeft, err = s.Cards.Cards(ctx, memberID); err != nil {
				return err
			}
			b, err := s.Ledger.Balance(ctx, memberID)
			res.Balance = b.Available
			return err
		}
	}
	in := s.Rewards.makeupCharge(memberID, day)
	e, err := s.Ledger.Spend(ctx, in)
	if err != nil {
		return err
	}
	res.Balance, res.PointsSpent = e.BalanceAfter, in.Points
	return nil
}

// AddMakeupCards gives the member n make-up cards in the transaction in
// ctx (the points mall delivers its make-up card items through it, in the
// redemption's unit of work).
func (s *Service) AddMakeupCards(ctx context.Context, memberID int64, n int) error {
	if s.Cards == nil {
		return domain.Errorf(domain.RuleViolation, "this server keeps no make-up cards")
	}
	if n <= 0 {
		return domain.FieldError("benefit_qty", "must be positive")
	}
	return s.Cards.AddCards(ctx, memberID, n)
}

// MakeupCards returns how many make-up cards the member holds.
func (s *Service) MakeupCards(ctx context.Context, memberID int64) (int, error) {
	if s.Cards == nil {
		return 0, nil
	}
	return s.Cards.Cards(ctx, memberID)
}

// CalendarView is a member's month.
type CalendarView struct {
	Month       string // YYYY-MM
	SignedDays  []int
	Today       domain.Day
	SignedToday bool
	Streak      int // current: ends today or yesterday, else 0
	MakeupsLeft int // this (the current) month
	MakeupCost  int64
	MakeupCards int // make-up cards held: a make-up uses one before points
	Rewards     Rewards
}

// Calendar returns the month ("YYYY-MM", "" = current) of the member.
func (s *Service) Calendar(ctx context.Context, memberID int64, month string) (CalendarView, error) {
	today := domain.DayOf(s.Clock.Now())
	first := domain.Day{Year: today.Year, Month: today.Month, Day: 1}
	if month != "" {
		d, err := domain.ParseDay(month + "-01")
		if err != nil || len(month) != 7 {
			return CalendarView{}, domain.FieldError("month", "must be YYYY-MM")
		}
		first = d
	}
	v := CalendarView{Month: fmt.Sprintf("%04d-%02d", first.Year, first.Month), Today: today,
		SignedDays: []int{}, MakeupCost: s.Rewards.MakeupCost, Rewards: s.Rewards}
	bits, err := s.monthBits(ctx, memberID, first)
	if err != nil {
		return CalendarView{}, err
	}
	for d := 1; d <= 31; d++ {
		if bits&(1<<d) != 0 {
			v.SignedDays = append(v.SignedDays, d)
		}
	}
	cur := domain.Day{Year: today.Year, Month: today.Month, Day: 1}
	curBits := bits
	if cur != first {
		if curBits, err = s.monthBits(ctx, memberID, cur); err != nil {
			return CalendarView{}, err
		}
	}
	v.SignedToday = curBits&(1<<today.Day) != 0
	// Make-ups are counted from SQL: the bitmap does not tell them apart.
	rows, err := s.Store.Month(ctx, memberID, cur)
	if err != nil {
		return CalendarView{}, err
	}
	v.MakeupsLeft = s.Rewards.MakeupsLeft(rows)
	if v.MakeupCards, err = s.MakeupCards(ctx, memberID); err != nil {
		return CalendarView{}, err
	}
	last, found, err := s.Store.Latest(ctx, memberID, today)
	if err != nil {
		return CalendarView{}, err
	}
	if found && !last.Day.Before(today.AddDays(-1)) {
		v.Streak = last.Streak
	}
	return v, nil
}

func (s *Service) monthBits(ctx context.Context, memberID int64, first domain.Day) (uint64, error) {
	bits, ok, err := s.Cache.Month(ctx, memberID, first)
	if err == nil && ok {
		return bits, nil
	}
	rows, err := s.Store.Month(ctx, memberID, first)
	if err != nil {
		return 0, err
	}
	days := make([]int, 0, len(rows))
	bits = 0
	for _, r := range rows {
		days = append(days, r.Day.Day)
		bits |= 1 << r.Day.Day
	}
	_ = s.Cache.Fill(ctx, memberID, first, days)
	return bits, nil
}
