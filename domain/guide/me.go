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

// Usage is what guides have granted this Asia/Shanghai month against
// their monthly budgets, for the console.
type Usage struct {
	Month string          // YYYY-MM, Shanghai
	Used  map[int64]int64 // guide id → points granted this month
}

// MonthUsage sums this month's grants of each guide in ids (a console page
// of at most a few dozen), over the same (guide, month) sums the grant's
// budget check reads.
func (s *Service) MonthUsage(ctx context.Context, ids []int64) (Usage, error) {
	month := monthOf(s.Clock.Now())
	u := Usage{Month: fmt.Sprintf("%04d-%02d", month/100, month%100), Used: make(map[int64]int64, len(ids))}
	for _, id := range ids {
		used, err := s.Repo.MonthGranted(ctx, id, month)
		if err != nil {
			return Usage{}, fmt.Errorf("month granted by guide %d: %w", id, err)
		}
		u.Used[id] = used
	}
	return u, nil
}
