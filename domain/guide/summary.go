package guide

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// StoreSummary is one store's customers with points expiring soon.
type StoreSummary struct {
	Store     Store
	Customers int
	Points    int64
	Days      int
	Text      string
}

// StoreSummaries counts, per store, the customers of its guides whose
// available points expire within Rules.SummaryWindowDays, and the points.
// Stores with none are left out.
func (s *Service) StoreSummaries(ctx context.Context) ([]StoreSummary, error) {
	stores, err := s.Repo.ListStores(ctx)
	if err != nil {
		return nil, err
	}
	storeOf := map[int64]int64{} // guide → store
	for after := int64(0); ; {
		gs, err := s.Repo.ListGuides(ctx, after, 500)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			storeOf[g.ID], after = g.StoreID, g.ID
		}
		if len(gs) < 500 {
			break
		}
	}
	days := s.Rules.SummaryWindowDays
	now := s.Clock.Now()
	count, points := map[int64]int{}, map[int64]int64{}
	for after := int64(0); ; {
		page, err := s.Ledger.ExpiringBetween(ctx, now, now.Add(time.Duration(days)*24*time.Hour), after, 500)
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(page))
		for i, e := range page {
			ids[i], after = e.MemberID, e.MemberID
		}
		guideOf, err := s.Repo.GuidesOf(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if g, ok := guideOf[e.MemberID]; ok {
				count[storeOf[g]]++
				points[storeOf[g]] += e.Amount
			}
		}
		if len(page) < 500 {
			break
		}
	}
	var out []StoreSummary
	for _, st := range stores {
		if count[st.ID] == 0 {
			continue
		}
		out = append(out, StoreSummary{Store: st, Customers: count[st.ID], Points: points[st.ID], Days: days,
			Text: fmt.Sprintf("本店 %d 位顾客的 %s 积分将在 %d 天内过期", count[st.ID], thousands(points[st.ID]), days)})
	}
	return out, nil
}

// SendStoreSummaries sends each store's summary to its group robot, for
// the daily job. Stores without a robot key are skipped; a failed send does
// not stop the others. It returns how many were sent.
func (s *Service) SendStoreSummaries(ctx context.Context) (int, error) {
	if s.Notifier == nil {
		return 0, errors.New("guide: no StoreNotifier wired for store summaries")
	}
	sums, err := s.StoreSummaries(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, sum := range sums {
		if sum.Store.RobotKey == "" {
			continue
		}
		if err := s.Notifier.SendStoreSummary(ctx, sum.Store.RobotKey, sum.Text); err != nil {
			errs = append(errs, fmt.Errorf("store %d summary: %w", sum.Store.ID, err))
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

// thousands formats 15600 as "15,600".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}
