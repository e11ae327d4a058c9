package guide

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/adjustment"
)

// GrantRequest is a guide giving a customer points.
type GrantRequest struct {
	MemberID int64
	Points   int64
	Reason   string
	Key      string // idempotency key, scoped to the guide
}

func monthOf(t time.Time) int {
	d := domain.DayOf(t)
	return d.Year*100 + int(d.Month)
}

func (r *GrantRequest) validate() error {
	r.Reason = strings.TrimSpace(r.Reason)
	_, pointsErr := domain.ParsePoints("points", r.Points)
	switch {
	case r.MemberID < 1:
		return domain.FieldError("member_id", "required")
	case pointsErr != nil:
		return pointsErr
	case r.Points > MaxBudget:
		return domain.FieldError("points", "too large")
	case r.Reason == "":
		return domain.FieldError("reason", "required")
	case utf8.RuneCountInString(r.Reason) > 200:
		return domain.FieldError("reason", "at most 200 characters")
	case r.Key == "" || len(r.Key) > 100:
		return domain.FieldError("Idempotency-Key", "1–100 characters")
	}
	return nil
}

func (r *GrantRequest) hash() string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%d\x00%d\x00%s", r.MemberID, r.Points, r.Reason)))
	return hex.EncodeToString(h[:])
}

// checkBudget refuses a grant of points over what is left of a monthly
// budget of which used is spent.
func checkBudget(budget, used, points int64) error {
	if left := budget - used; points > left {
		return domain.Errorf(domain.RuleViolation, "over the monthly budget: %d points left", max(left, 0))
	}
	return nil
}

// checkDailyCap refuses a grant of points to a customer who got today
// from guides already when it passes DailyCapPerCustomer (0: no cap).
func (r Rules) checkDailyCap(today, points int64) error {
	limit := r.DailyCapPerCustomer
	if limit <= 0 {
		return nil
	}
	if after, err := domain.Points(today).Add(domain.Points(points)); err != nil || int64(after) > limit {
		return domain.Errorf(domain.RuleViolation, "over the daily cap of %d points per customer: %d left today", limit, max(limit-today, 0))
	}
	return nil
}

// Grant gives a customer points from the guide's monthly budget, as an
// audited adjustment with the guide as operator. Strangers (not the guide's
// customers) are NotFound; going over the budget or the per-customer daily
// cap is a RuleViolation. The same key with the same request answers the
// first grant; with another request, IdempotencyConflict.
//
// The guide's row is locked first, so two grants of one guide never both
// see the same remaining budget.
func (s *Service) Grant(ctx context.Context, guideID int64, r GrantRequest) (Grant, error) {
	if err := r.validate(); err != nil {
		return Grant{}, err
	}
	now := s.Clock.Now()
	month, day := monthOf(now), domain.DayOf(now).Int()
	hash := r.hash()
	var out Grant
	var guide *Guide
	var usedAfter int64
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		g, err := s.Repo.LockGuide(ctx, guideID)
		guide = g // nil on an error, which returns below
		if err != nil {
			return err
		}
		if g.Status != Active {
			return domain.Errorf(domain.Forbidden, "this guide is disabled")
		}
		prior, found, err := s.Repo.GrantByKey(ctx, g.ID, r.Key)
		if err != nil {
			return err
		}
		if found {
			if prior.RequestHash != hash {
				return domain.Errorf(domain.IdempotencyConflict, "idempotency key %q was used for a different grant", r.Key)
			}
			prior.Replayed = true
			out = prior
			return nil
		}
		b, bound, err := s.Repo.Binding(ctx, r.MemberID)
		if err != nil {
			return err
		}
		if !bound || b.GuideID != g.ID {
			return domain.Errorf(domain.NotFound, "no customer %d", r.MemberID)
		}
		used, err := s.Repo.MonthGranted(ctx, g.ID, month)
		if err != nil {
			return err
		}
		if err := checkBudget(g.MonthlyBudget, used, r.Points); err != nil {
			return err
		}
		usedAfter = used + r.Points
		if s.Rules.DailyCapPerCustomer > 0 {
			today, err := s.Repo.DayGranted(ctx, r.MemberID, day)
			if err != nil {
				return err
			}
			if err := s.Rules.checkDailyCap(today, r.Points); err != nil {
				return err
			}
		}
		e, err := s.Adjust.Adjust(ctx, adjustment.Actor{Name: g.UserID, Role: "guide"}, adjustment.Request{
			MemberID: r.MemberID, Delta: domain.Points(r.Points), Reason: r.Reason, Title: "导购赠送",
			Scope: fmt.Sprintf("guide:%d:", g.ID), Key: r.Key,
		})
		if err != nil {
			return err
		}
		out = Grant{GuideID: g.ID, MemberID: r.MemberID, Points: r.Points, Reason: r.Reason, Key: r.Key,
			RequestHash: hash, Month: month, Day: day, EntryID: e.ID, CreatedAt: now}
		return s.Repo.InsertGrant(ctx, &out)
	})
	if err != nil {
		return Grant{}, err
	}
	if s.Watch != nil && !out.Replayed {
		s.Watch.GrantMade(ctx, *guide, out, usedAfter)
	}
	return out, nil
}

// GrantWatcher hears of a grant after it committed: the guide, the grant
// and the points the guide has granted this month with it. It cannot
// change the grant.
type GrantWatcher interface {
	GrantMade(ctx context.Context, g Guide, gr Grant, usedThisMonth int64)
}
