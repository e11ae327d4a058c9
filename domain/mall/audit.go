package mall

import (
	"context"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain/audit"
)

// Actor is the console user editing the catalogue or moving a
// redemption. Each such change writes one audit row in its unit of work:
// mall_item.create / mall_item.update and mall_codes.import on
// mall_item:{id}, mall_redemption.ship / deliver / cancel / refund on
// member:{id}.
type Actor = audit.Actor

func (s *Service) audit(ctx context.Context, a Actor, action, target string, detail any) error {
	return s.Audit.Insert(ctx, audit.Row(a, action, target, detail, s.Clock.Now()))
}

func itemTarget(id int64) string { return "mall_item:" + strconv.FormatInt(id, 10) }

// itemFields is what the trail keeps of an item: what a shopper pays and
// may take, not its images or description.
func itemFields(it *Item) map[string]any {
	return map[string]any{"name": it.Name, "category": it.Category, "points": it.Points, "cash_fen": it.CashFen,
		"stock": it.Stock, "limit_daily": it.LimitDaily, "limit_total": it.LimitTotal, "starts_at": optTime(it.StartsAt),
		"ends_at": optTime(it.EndsAt), "enabled": it.Enabled}
}

// redemptionDetail is what the trail keeps of a redemption event: the
// status it moved from and to, and for a cancel or refund the points (and
// cash) given back.
func redemptionDetail(r *Redemption, from Status, note string) map[string]any {
	d := map[string]any{"redemption_id": r.ID, "item_id": r.ItemID, "from": from, "to": r.Status}
	if r.Status == StatusShipped {
		d["carrier"], d["tracking_no"] = r.Carrier, r.TrackingNo
	}
	if !r.Status.Live() {
		d["points_back"] = r.Points
		if r.CashFen > 0 {
			d["cash_fen"] = r.CashFen
		}
	}
	if note != "" {
		d["note"] = note
	}
	return d
}

func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
