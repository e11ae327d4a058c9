package console

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/mall"
)

// mallActor is the console user editing the mall, for its audit rows.
func mallActor(c *gin.Context) mall.Actor {
	cl := web.Claims(c)
	return mall.Actor{Name: cl.Subject, Role: cl.Role}
}

// mallItemRequest is an item as the console writes it (create and full
// update). Absent times mean no start / no end.
type mallItemRequest struct {
	Kind        string     `json:"kind"`
	Name        string     `json:"name"`
	Images      []string   `json:"images"`
	Description string     `json:"description"`
	Category    string     `json:"category"`
	Points      int64      `json:"points"`
	CashFen     int64      `json:"cash_fen"`
	Stock       int64      `json:"stock"`
	LimitDaily  int        `json:"limit_daily"`
	LimitTotal  int        `json:"limit_total"`
	Tiers       []string   `json:"tiers"`
	Stores      []int64    `json:"stores"`
	Benefit     string     `json:"benefit"`
	BenefitQty  int        `json:"benefit_qty"`
	StartsAt    *time.Time `json:"starts_at"`
	EndsAt      *time.Time `json:"ends_at"`
	Sort        int        `json:"sort"`
	Enabled     bool       `json:"enabled"`
}

func (r *mallItemRequest) toDomain() *mall.Item {
	it := &mall.Item{Kind: mall.Kind(r.Kind), Name: r.Name, Images: r.Images, Description: r.Description, Category: r.Category,
		Points: r.Points, CashFen: r.CashFen, Stock: r.Stock, LimitDaily: r.LimitDaily, LimitTotal: r.LimitTotal,
		Tiers: r.Tiers, Stores: r.Stores, Benefit: mall.Benefit(r.Benefit), BenefitQty: r.BenefitQty, Sort: r.Sort, Enabled: r.Enabled}
	if r.StartsAt != nil {
		it.StartsAt = *r.StartsAt
	}
	if r.EndsAt != nil {
		it.EndsAt = *r.EndsAt
	}
	return it
}

type mallItemJSON struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	Name        string     `json:"name"`
	Images      []string   `json:"images"`
	Description string     `json:"description"`
	Category    string     `json:"category"`
	Points      int64      `json:"points"`
	CashFen     int64      `json:"cash_fen"`
	Stock       int64      `json:"stock"`
	Sold        int64      `json:"sold"`
	LimitDaily  int        `json:"limit_daily"`
	LimitTotal  int        `json:"limit_total"`
	Tiers       []string   `json:"tiers"`
	Stores      []int64    `json:"stores"`
	Benefit     string     `json:"benefit"`
	BenefitQty  int        `json:"benefit_qty"`
	StartsAt    *time.Time `json:"starts_at"`
	EndsAt      *time.Time `json:"ends_at"`
	Sort        int        `json:"sort"`
	Enabled     bool       `json:"enabled"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

func toMallItemJSON(it *mall.Item) mallItemJSON {
	return mallItemJSON{ID: it.ID, Kind: string(it.Kind), Name: it.Name, Images: append([]string{}, it.Images...),
		Description: it.Description, Category: it.Category, Points: it.Points, CashFen: it.CashFen, Stock: it.Stock, Sold: it.Sold,
		LimitDaily: it.LimitDaily, LimitTotal: it.LimitTotal, Tiers: append([]string{}, it.Tiers...), Stores: append([]int64{}, it.Stores...),
		Benefit: string(it.Benefit), BenefitQty: it.BenefitQty, StartsAt: web.OptTime(it.StartsAt), EndsAt: web.OptTime(it.EndsAt), Sort: it.Sort, Enabled: it.Enabled,
		CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC()}
}

type mallRedemptionJSON struct {
	ID         int64     `json:"id"`
	ItemID     int64     `json:"item_id"`
	MemberID   int64     `json:"member_id"`
	ItemName   string    `json:"item_name"`
	Kind       string    `json:"kind"`
	Points     int64     `json:"points"`
	CashFen    int64     `json:"cash_fen"`
	Status     string    `json:"status"`
	CouponCode string    `json:"coupon_code"`
	PickupCode string    `json:"pickup_code"`
	Carrier    string    `json:"carrier"`
	TrackingNo string    `json:"tracking_no"`
	StoreID    int64     `json:"store_id"`
	Note       string    `json:"note"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toMallRedemptionJSON(r mall.Redemption) mallRedemptionJSON {
	return mallRedemptionJSON{ID: r.ID, ItemID: r.ItemID, MemberID: r.MemberID, ItemName: r.ItemName, Kind: string(r.Kind),
		Points: r.Points, CashFen: r.CashFen, Status: string(r.Status), CouponCode: r.CouponCode, PickupCode: r.PickupCode,
		Carrier: r.Carrier, TrackingNo: r.TrackingNo, StoreID: r.StoreID, Note: r.Note, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}
