package shopper

import (
	"time"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/mall"
)

// mallItemJSON is an item as shoppers see it: what is left, not what sold.
type mallItemJSON struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	Name        string     `json:"name"`
	Images      []string   `json:"images"`
	Description string     `json:"description"`
	Category    string     `json:"category"`
	Points      int64      `json:"points"`
	CashFen     int64      `json:"cash_fen"`
	Left        int64      `json:"left"`
	LimitDaily  int        `json:"limit_daily"`
	LimitTotal  int        `json:"limit_total"`
	Tiers       []string   `json:"tiers"`
	Benefit     string     `json:"benefit"`
	BenefitQty  int        `json:"benefit_qty"`
	StartsAt    *time.Time `json:"starts_at"`
	EndsAt      *time.Time `json:"ends_at"`
}

func toMallItemJSON(it *mall.Item) mallItemJSON {
	return mallItemJSON{ID: it.ID, Kind: string(it.Kind), Name: it.Name, Images: append([]string{}, it.Images...),
		Description: it.Description, Category: it.Category, Points: it.Points, CashFen: it.CashFen, Left: it.Left(),
		LimitDaily: it.LimitDaily, LimitTotal: it.LimitTotal, Tiers: append([]string{}, it.Tiers...),
		Benefit: string(it.Benefit), BenefitQty: it.BenefitQty, StartsAt: web.OptTime(it.StartsAt), EndsAt: web.OptTime(it.EndsAt)}
}

// mallRedemptionJSON is a redemption as its shopper sees it.
type mallRedemptionJSON struct {
	ID         int64     `json:"id"`
	ItemID     int64     `json:"item_id"`
	ItemName   string    `json:"item_name"`
	Kind       string    `json:"kind"`
	Points     int64     `json:"points"`
	CashFen    int64     `json:"cash_fen"`
	Status     string    `json:"status"`
	CouponCode string    `json:"coupon_code"`
	PickupCode string    `json:"pickup_code"`
	Carrier    string    `json:"carrier"`
	TrackingNo string    `json:"tracking_no"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toMallRedemptionJSON(r mall.Redemption) mallRedemptionJSON {
	return mallRedemptionJSON{ID: r.ID, ItemID: r.ItemID, ItemName: r.ItemName, Kind: string(r.Kind), Points: r.Points,
		CashFen: r.CashFen, Status: string(r.Status), CouponCode: r.CouponCode, PickupCode: r.PickupCode, Carrier: r.Carrier,
		TrackingNo: r.TrackingNo, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}
