package signin

import (
	"strconv"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// The sign-in rules, each written once. These functions are pure: they
// decide over what a unit of work loaded, and the two executors — one
// sign-in per transaction (Service.signInAlone, Service.Makeup) and a
// group of sign-ins in one transaction (group.go) — differ only in how
// they load that state and save the answer.

// Member is what a unit of work loaded about one member's sign-in of
// today.
type Member struct {
	ID int64
	// Taken: today's row exists already (or an earlier request of the
	// same group takes it).
	Taken bool
	// Yesterday is the streak of the member's row of yesterday; 0 when
	// yesterday is not signed.
	Yesterday int
	// Tier names the member's tier for Rewards.TierPermille.
	Tier string
}

// Decide is the sign-in of m at now: the day row to store (streak and
// points) and the reward lines, or AlreadySignedIn when today is taken.
func (r Rewards) Decide(m Member, now time.Time) (Record, []Line, error) {
	today := domain.DayOf(now)
	if m.Taken {
		return Record{}, nil, alreadySigned(today)
	}
	streak := m.Yesterday + 1
	lines := r.For(streak, m.Tier)
	return Record{MemberID: m.ID, Day: today, Streak: streak, Points: Total(lines), CreatedAt: now}, lines, nil
}

func alreadySigned(today domain.Day) error {
	return domain.Errorf(domain.AlreadySignedIn, "already signed in on %s", today)
}

// earning is the ledger earn of a stored sign-in's reward (rec.Points > 0),
// keyed by member and day so that it happens once.
func earning(rec Record) ledger.EarnInput {
	return ledger.EarnInput{MemberID: rec.MemberID, Points: rec.Points,
		Key: "signin:" + strconv.FormatInt(rec.MemberID, 10) + ":" + strconv.Itoa(rec.Day.Int()),
		Ref: ledger.Ref{Type: "signin", ID: rec.Day.String()}, Title: "签到奖励", Operator: "system"}
}

// MakeupDay checks a day asked for as a make-up against today and the
// day the member joined: a day before today, of the current month, not
// before the member existed (joined zero: not known, not checked).
func MakeupDay(day, today, joined domain.Day) error {
	switch {
	case !day.Before(today):
		return domain.Errorf(domain.RuleViolation, "only a day before today can be made up")
	case day.Year != today.Year || day.Month != today.Month:
		return domain.Errorf(domain.RuleViolation, "only a day of the current month can be made up")
	case joined != (domain.Day{}) && day.Before(joined):
		return domain.Errorf(domain.RuleViolation, "only a day since you joined (%s) can be made up", joined)
	}
	return nil
}

// AllowMakeup decides whether day may be made up given the member's rows
// of its month: not signed yet, and make-ups left this month.
func (r Rewards) AllowMakeup(month []Record, day domain.Day) error {
	for _, rec := range month {
		if rec.Day == day {
			return makeupTaken(day)
		}
	}
	if used := madeUp(month); used >= r.MakeupsPerMonth {
		return domain.Errorf(domain.RuleViolation, "no make-ups left this month (%d allowed)", r.MakeupsPerMonth)
	}
	return nil
}

func makeupTaken(day domain.Day) error {
	return domain.Errorf(domain.AlreadySignedIn, "%s is already signed", day)
}

// MakeupsLeft is how many make-ups the member has left in a month whose
// rows are month.
func (r Rewards) MakeupsLeft(month []Record) int {
	return max(0, r.MakeupsPerMonth-madeUp(month))
}

func madeUp(month []Record) int {
	used := 0
	for _, rec := range month {
		if rec.Makeup {
			used++
		}
	}
	return used
}

// makeupCharge is the ledger spend paying the member's make-up of day.
func (r Rewards) makeupCharge(memberID int64, day domain.Day) ledger.SpendInput {
	return ledger.SpendInput{MemberID: memberID, Points: r.MakeupCost,
		Key: "signin-makeup:" + strconv.FormatInt(memberID, 10) + ":" + strconv.Itoa(day.Int()),
		Ref: ledger.Ref{Type: "signin_makeup", ID: day.String()}, Title: "补签", Operator: "system"}
}

// Renumber continues a run of consecutive days: next is the first day
// after the run, streak the streak of its last day, later the member's
// rows from next on (oldest first). It returns the rows of later that
// extend the run with their new streaks, and the run's new next day and
// streak. The run ends inside later when fewer rows extend it than later
// holds.
func Renumber(next domain.Day, streak int, later []Record) (changed []Record, end domain.Day, endStreak int) {
	for _, rec := range later {
		if rec.Day != next {
			break
		}
		streak++
		rec.Streak = streak
		changed = append(changed, rec)
		next = next.AddDays(1)
	}
	return changed, next, streak
}

// CurrentStreak is the member's current streak after a run that ends the
// day before next with streak: the run counts while it reaches yesterday
// or today, else it is 0.
func CurrentStreak(next domain.Day, streak int, today domain.Day) int {
	if !next.AddDays(-1).Before(today.AddDays(-1)) {
		return streak
	}
	return 0
}
