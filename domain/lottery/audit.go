package lottery

import (
	"context"
	"strconv"

	"github.com/jifen/jifen/domain/audit"
)

// Actor is the console user editing campaigns and prizes. Each edit
// writes one audit row in its unit of work, on lottery_campaign:{id}:
// lottery_campaign.create / update, lottery_prize.create / update.
type Actor = audit.Actor

func (s *Service) audit(ctx context.Context, a Actor, action string, campaignID int64, detail any) error {
	return s.Audit.Insert(ctx, audit.Row(a, action, "lottery_campaign:"+strconv.FormatInt(campaignID, 10), detail, s.Clock.Now()))
}

// campaignFields is what the trail keeps of a campaign's own fields.
func campaignFields(c *Campaign) map[string]any {
	return map[string]any{"name": c.Name, "starts_at": c.StartsAt.UTC(), "ends_at": c.EndsAt.UTC(), "cost_points": c.CostPoints,
		"free_per_day": c.FreePerDay, "limit_total": c.LimitTotal, "limit_daily": c.LimitDaily, "pity_after": c.PityAfter,
		"consolation_name": c.ConsolationName, "consolation_points": c.ConsolationPoints}
}

// prizeFields is what the trail keeps of a prize (not its coupon code);
// stock nil is unlimited.
func prizeFields(p *Prize) map[string]any {
	var stock any
	if p.Stock != Unlimited {
		stock = p.Stock
	}
	return map[string]any{"name": p.Name, "kind": p.Kind, "points": p.Points, "weight": p.Weight, "stock": stock,
		"per_member_limit": p.PerMemberLimit}
}
