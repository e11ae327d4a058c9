package guide

import (
	"context"
	"time"

	"github.com/jifen/jifen/domain"
)

// Customer is what a guide sees of one of their customers.
type Customer struct {
	MemberID    int64
	PhoneMasked string
	Nickname    string
	Tier        string // tier code (tier.Service)
	Available   int64
	// NextExpiry is the next day on which points expire (nil: none).
	NextExpiry *NextExpiry
	LastActive time.Time
	BoundAt    time.Time
	Source     string
}

// NextExpiry is the amount expiring on the next expiry day.
type NextExpiry struct {
	Amount int64
	At     time.Time
}

// Tiers tells a member's tier code (tier.Service).
type Tiers interface {
	Code(ctx context.Context, memberID int64) (string, error)
}

// CustomerQuery pages a guide's customers by member id.
type CustomerQuery struct {
	// ExpiringWithinDays, when positive, keeps only customers with points
	// expiring within that many days.
	ExpiringWithinDays int
	After              int64
	Limit              int
}

// scanFactor bounds how many customers one filtered page reads: a page may
// hold fewer than Limit customers, and next_cursor goes on from there.
const scanFactor = 10

// Customers lists the guide's own customers. next is 0 at the end.
func (s *Service) Customers(ctx context.Context, guideID int64, q CustomerQuery) ([]Customer, int64, error) {
	if _, err := s.active(ctx, guideID); err != nil {
		return nil, 0, err
	}
	if q.ExpiringWithinDays < 0 || q.ExpiringWithinDays > 366 {
		return nil, 0, domain.FieldError("expiring_within_days", "must be from 1 to 366")
	}
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 20
	}
	until := s.Clock.Now().Add(time.Duration(q.ExpiringWithinDays) * 24 * time.Hour)
	var out []Customer
	after, scanned := q.After, 0
	for len(out) < q.Limit && scanned < q.Limit*scanFactor {
		batch, err := s.Repo.Customers(ctx, guideID, after, q.Limit)
		if err != nil {
			return nil, 0, err
		}
		for _, b := range batch {
			after = b.MemberID
			scanned++
			c, err := s.customer(ctx, b)
			if err != nil {
				return nil, 0, err
			}
			if q.ExpiringWithinDays > 0 && (c.NextExpiry == nil || c.NextExpiry.At.After(until)) {
				continue
			}
			out = append(out, c)
			if len(out) == q.Limit {
				break
			}
		}
		if len(batch) < q.Limit {
			return out, 0, nil
		}
	}
	return out, after, nil
}

// Customer returns one of the guide's customers; anyone else's is NotFound.
func (s *Service) Customer(ctx context.Context, guideID, memberID int64) (Customer, error) {
	if _, err := s.active(ctx, guideID); err != nil {
		return Customer{}, err
	}
	b, found, err := s.Repo.Binding(ctx, memberID)
	if err != nil {
		return Customer{}, err
	}
	if !found || b.GuideID != guideID {
		return Customer{}, domain.Errorf(domain.NotFound, "no customer %d", memberID)
	}
	return s.customer(ctx, b)
}

func (s *Service) customer(ctx context.Context, b Binding) (Customer, error) {
	m, err := s.Members.ByID(ctx, b.MemberID)
	if err != nil {
		return Customer{}, err
	}
	bal, err := s.Ledger.Balance(ctx, b.MemberID)
	if err != nil {
		return Customer{}, err
	}
	tier := "normal"
	if s.Tiers != nil {
		if tier, err = s.Tiers.Code(ctx, b.MemberID); err != nil {
			return Customer{}, err
		}
	}
	c := Customer{MemberID: m.ID, PhoneMasked: m.PhoneMasked(), Nickname: m.Nickname, Tier: tier,
		Available: bal.Available, LastActive: m.LastActive, BoundAt: b.BoundAt, Source: b.Source}
	if len(bal.Expiring) > 0 {
		c.NextExpiry = &NextExpiry{Amount: bal.Expiring[0].Amount, At: bal.Expiring[0].ExpiresAt}
	}
	return c, nil
}
