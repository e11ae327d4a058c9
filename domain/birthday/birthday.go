// Package birthday keeps a member's birthday, set once by the shopper, and
// pays the yearly birthday bonus through the rule engine (trigger
// "birthday"). The daily job is idempotent per member and year: a row
// (member, year) is claimed in the same unit of work as the points.
package birthday

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/rules"
)

// Store is what birthdays need beyond member.Store.
type Store interface {
	// BornOn returns up to limit members with id > after whose birthday is
	// on month-day (any year), by id.
	BornOn(ctx context.Context, month time.Month, day int, after int64, limit int) ([]*member.Member, error)
	// ClaimYear records that memberID's bonus for year was handled; false
	// when it already was.
	ClaimYear(ctx context.Context, memberID int64, year int, points int64, at time.Time) (bool, error)
}

// RuleEngine evaluates rules (rules.Service).
type RuleEngine interface {
	Apply(ctx context.Context, in rules.Input) (rules.Result, error)
}

// Earner credits points (ledger.Service).
type Earner interface {
	Earn(ctx context.Context, in ledger.EarnInput) (ledger.Entry, error)
}

// Service sets birthdays and pays birthday bonuses.
type Service struct {
	Members member.Store
	Store   Store
	Rules   RuleEngine
	Ledger  Earner
	Tier    interface {
		Code(ctx context.Context, memberID int64) (string, error)
	}
	Tx    domain.UnitOfWork
	Clock domain.Clock
}

// Set records the member's birthday ("YYYY-MM-DD"). It can be set once: a
// second time is a Conflict. A date in the future or before 1900 is Invalid.
func (s *Service) Set(ctx context.Context, memberID int64, birthday string) (*member.Member, error) {
	d, err := domain.ParseDay(birthday)
	if err != nil || d.String() != birthday {
		return nil, domain.FieldError("birthday", "must be a date YYYY-MM-DD")
	}
	if d.Year < 1900 || domain.DayOf(s.Clock.Now()).Before(d) {
		return nil, domain.FieldError("birthday", "must be a past date after 1900")
	}
	var m *member.Member
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if m, err = s.Members.ByID(ctx, memberID); err != nil {
			return err
		}
		if m.Birthday != "" {
			return domain.Errorf(domain.Conflict, "the birthday is already set and cannot be changed")
		}
		m.Birthday = birthday
		return s.Members.SetBirthday(ctx, memberID, birthday)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// PayDay pays the bonus to every member whose birthday is on day (members
// born on 29 February are paid on 28 February in other years) and returns
// how many members were paid. Rerunning the same day pays nobody twice.
func (s *Service) PayDay(ctx context.Context, day domain.Day) (int, error) {
	targets := []domain.Day{day}
	if day.Month == time.February && day.Day == 28 && domain.DayOf(day.Start().AddDate(0, 0, 1)).Month == time.March {
		targets = append(targets, domain.Day{Year: day.Year, Month: time.February, Day: 29})
	}
	paid := 0
	for _, t := range targets {
		var after int64
		for {
			ms, err := s.Store.BornOn(ctx, t.Month, t.Day, after, 100)
			if err != nil {
				return paid, err
			}
			if len(ms) == 0 {
				break
			}
			for _, m := range ms {
				ok, err := s.pay(ctx, m, day)
				if err != nil {
					return paid, fmt.Errorf("birthday of member %d: %w", m.ID, err)
				}
				if ok {
					paid++
				}
			}
			after = ms[len(ms)-1].ID
		}
	}
	return paid, nil
}

func (s *Service) pay(ctx context.Context, m *member.Member, day domain.Day) (bool, error) {
	now := s.Clock.Now()
	paid := false
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		tierCode, err := s.Tier.Code(ctx, m.ID)
		if err != nil {
			return err
		}
		res, err := s.Rules.Apply(ctx, rules.Input{Trigger: rules.Birthday, At: day.Start().Add(12 * time.Hour),
			Member: rules.Member{ID: m.ID, Tier: tierCode, Birthday: m.Birthday}})
		if err != nil {
			return err
		}
		claimed, err := s.Store.ClaimYear(ctx, m.ID, day.Year, res.Total, now)
		if err != nil || !claimed {
			paid = false
			if err == nil {
				err = errAlready
			}
			return err
		}
		if res.Total > 0 {
			year := strconv.Itoa(day.Year)
			if _, err := s.Ledger.Earn(ctx, ledger.EarnInput{MemberID: m.ID, Points: res.Total,
				Key: "birthday:" + strconv.FormatInt(m.ID, 10) + ":" + year, Ref: ledger.Ref{Type: "birthday", ID: year},
				Title: "生日礼遇", Operator: "system"}); err != nil {
				return err
			}
			paid = true
		}
		return nil
	})
	if err == errAlready {
		return false, nil
	}
	return paid, err
}

// errAlready rolls back the rules' usage when the year was claimed before.
var errAlready = fmt.Errorf("birthday already handled this year")
