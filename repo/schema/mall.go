package schema

import (
	"time"

	"github.com/jifen/jifen/repo"
)

// The points mall (domain/mall). The item row's Sold is the stock guard (a
// conditional UPDATE, sold < stock); mall_members serialises one member's
// redemptions of one item (limits); a code row names the one redemption it
// was given to, for ever.

type mallItemV1 struct {
	ID          int64  `gorm:"primaryKey;autoIncrement;index:idx_mall_items_order,priority:3"`
	Kind        string `gorm:"size:12;not null"`
	Name        string `gorm:"size:64;not null"`
	Images      string `gorm:"type:text;not null"` // JSON array of URLs
	Description string `gorm:"type:text;not null"`
	Category    string `gorm:"size:32;not null;index:idx_mall_items_order,priority:1"`
	Points      int64  `gorm:"not null"`
	CashFen     int64  `gorm:"not null;default:0"`
	Stock       int64  `gorm:"not null;default:0"`
	Sold        int64  `gorm:"not null;default:0"`
	LimitDaily  int    `gorm:"not null;default:0"`
	LimitTotal  int    `gorm:"not null;default:0"`
	Tiers       string `gorm:"size:200;not null;default:''"` // comma-separated tier codes
	Stores      string `gorm:"size:500;not null;default:''"` // comma-separated store ids (pickup)
	StartsAt    *time.Time
	EndsAt      *time.Time
	SortOrder   int       `gorm:"not null;default:0;index:idx_mall_items_order,priority:2"`
	Enabled     bool      `gorm:"not null;default:false"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

func (mallItemV1) TableName() string { return "mall_items" }

type mallMemberV1 struct {
	ItemID    int64 `gorm:"primaryKey;autoIncrement:false"`
	MemberID  int64 `gorm:"primaryKey;autoIncrement:false"`
	UpdatedAt time.Time
}

func (mallMemberV1) TableName() string { return "mall_members" }

type mallRedemptionV1 struct {
	ID         int64   `gorm:"primaryKey;autoIncrement;index:idx_mall_redemptions_member,priority:2"`
	ItemID     int64   `gorm:"not null;index:idx_mall_redemptions_usage,priority:2;index:idx_mall_redemptions_item_day,priority:1"`
	MemberID   int64   `gorm:"not null;uniqueIndex:uk_mall_redemptions_key,priority:1;index:idx_mall_redemptions_usage,priority:1;index:idx_mall_redemptions_member,priority:1"`
	IdemKey    string  `gorm:"size:128;not null;uniqueIndex:uk_mall_redemptions_key,priority:2"`
	Day        int     `gorm:"not null;index:idx_mall_redemptions_item_day,priority:2"`
	Kind       string  `gorm:"size:12;not null"`
	ItemName   string  `gorm:"size:64;not null"`
	Points     int64   `gorm:"not null"`
	CashFen    int64   `gorm:"not null;default:0"`
	Status     string  `gorm:"size:12;not null"`
	CouponCode string  `gorm:"size:64;not null;default:''"`
	PickupCode *string `gorm:"size:32;uniqueIndex:uk_mall_redemptions_pickup"`
	Carrier    string  `gorm:"size:32;not null;default:''"`
	TrackingNo string  `gorm:"size:64;not null;default:''"`
	StoreID    int64   `gorm:"not null;default:0"`
	Note       string  `gorm:"size:200;not null;default:''"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (mallRedemptionV1) TableName() string { return "mall_redemptions" }

type mallCodeV1 struct {
	ID           int64  `gorm:"primaryKey;autoIncrement;index:idx_mall_codes_free,priority:3"`
	ItemID       int64  `gorm:"not null;uniqueIndex:uk_mall_codes,priority:1;index:idx_mall_codes_free,priority:1"`
	Code         string `gorm:"size:64;not null;uniqueIndex:uk_mall_codes,priority:2"`
	RedemptionID int64  `gorm:"not null;default:0;index:idx_mall_codes_free,priority:2"` // 0: not given out
	CreatedAt    time.Time
}

func (mallCodeV1) TableName() string { return "mall_codes" }

var mall = []repo.Migration{
	{Version: 851, Name: "mall_items", Up: repo.CreateTables(&mallItemV1{})},
	{Version: 852, Name: "mall_members", Up: repo.CreateTables(&mallMemberV1{})},
	{Version: 853, Name: "mall_redemptions", Up: repo.CreateTables(&mallRedemptionV1{})},
	{Version: 854, Name: "mall_codes", Up: repo.CreateTables(&mallCodeV1{})},
}
