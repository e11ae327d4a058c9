package shopper

import (
	"time"

	"github.com/jifen/jifen/domain/lottery"
)

// lotteryPrizeJSON is a prize as shoppers see it: no weight, no stock.
type lotteryPrizeJSON struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Points int64  `json:"points"`
}

type drawJSON struct {
	ID         int64     `json:"id"`
	CampaignID int64     `json:"campaign_id"`
	PrizeID    int64     `json:"prize_id"`
	PrizeKind  string    `json:"prize_kind"`
	PrizeName  string    `json:"prize_name"`
	Points     int64     `json:"points"`
	CouponCode string    `json:"coupon_code"`
	CostPoints int64     `json:"cost_points"`
	Free       bool      `json:"free"`
	Pity       bool      `json:"pity"`
	CreatedAt  time.Time `json:"created_at"`
}

func toDrawJSON(d lottery.Draw) drawJSON {
	return drawJSON{ID: d.ID, CampaignID: d.CampaignID, PrizeID: d.PrizeID, PrizeKind: string(d.PrizeKind), PrizeName: d.PrizeName,
		Points: d.Points, CouponCode: d.CouponCode, CostPoints: d.CostPoints, Free: d.Free, Pity: d.Pity, CreatedAt: d.CreatedAt.UTC()}
}
