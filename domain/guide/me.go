package guide

import (
	"context"
	"fmt"
)

// Me is a guide's own page.
type Me struct {
	Guide  Guide
	Store  Store
	Month  string // YYYY-MM, Shanghai
	Budget int64
	Used   int64
	Left   int64
	Grants []Grant // this month's, newest first (at most 100)
}

// Me returns the guide, their store and this month's budget and grants.
func (s *Service) Me(ctx context.Context, guideID int64) (Me, error) {
	g, err := s.active(ctx, guideID)
	if err != nil {
		return Me{}, err
	}
	st, err := s.Repo.StoreByID(ctx, g.StoreID)
	if err != nil {
		return Me{}, err
	}
	month := monthOf(s.Clock.Now())
	used, err := s.Repo.MonthGranted(ctx, g.ID, month)
	if err != nil {
		return Me{}, err
	}
	grants, err := s.Repo.Grants(ctx, g.ID, month, 100)
	if err != nil {
		return Me{}, err
	}
	return Me{Guide: *g, Store: *st, Month: fmt.Sprintf("%04d-%02d", month/100, month%100),
		Budget: g.MonthlyBudget, Used: used, Left: max(g.MonthlyBudget-used, 0), Grants: grants}, nil
}
