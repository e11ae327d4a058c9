package schema

import (
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

// orderEventV1 claims an order event id (the webhook's idempotency key) and
// keeps the answer given to it.
type orderEventV1 struct {
	EventID     string    `gorm:"primaryKey;size:64"`
	OrderID     string    `gorm:"size:64;not null;index"`
	Type        string    `gorm:"size:16;not null"`
	RequestHash string    `gorm:"size:64;not null"`
	Outcome     string    `gorm:"type:text"`
	CreatedAt   time.Time `gorm:"not null"`
}

func (orderEventV1) TableName() string { return "order_events" }

// orderV1 is a paid order: member (0 while unmatched, with the openid or
// phone to match later), amounts, lines and refunds as JSON, and the points
// awarded with the breakdown of rule versions that produced them.
type orderV1 struct {
	OrderID     string    `gorm:"primaryKey;size:64"`
	MemberID    int64     `gorm:"not null;index:idx_orders_member_time,priority:1"`
	OpenID      string    `gorm:"column:openid;size:64;not null;default:'';index"`
	Phone       string    `gorm:"size:20;not null;default:'';index"`
	Status      string    `gorm:"size:16;not null"`
	StoreID     string    `gorm:"size:64;not null;default:''"`
	Channel     string    `gorm:"size:32;not null;default:''"`
	TotalFen    int64     `gorm:"not null"`
	RefundedFen int64     `gorm:"not null;default:0"`
	Lines       string    `gorm:"type:text;not null"`
	Refunded    string    `gorm:"type:text;not null"`
	Points      int64     `gorm:"not null;default:0"`
	Reversed    int64     `gorm:"not null;default:0"`
	Breakdown   string    `gorm:"type:text;not null"`
	OccurredAt  time.Time `gorm:"not null;index:idx_orders_member_time,priority:2"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

func (orderV1) TableName() string { return "orders" }

// memberTierV1 is a member's level and growth (fen, net of refunds), and
// their paid order counts (ever, and in the ISO week starting week_start,
// yyyymmdd) for the rules' order conditions.
type memberTierV1 struct {
	MemberID   int64     `gorm:"primaryKey;autoIncrement:false"`
	Level      string    `gorm:"size:32;not null"`
	GrowthFen  int64     `gorm:"not null;default:0"`
	PaidOrders int64     `gorm:"not null;default:0"`
	WeekStart  int       `gorm:"not null;default:0"`
	WeekOrders int64     `gorm:"not null;default:0"`
	ReachedAt  time.Time `gorm:"not null"`
	ReviewAt   time.Time `gorm:"not null;index"`
	UpdatedAt  time.Time `gorm:"not null"`
}

func (memberTierV1) TableName() string { return "member_tiers" }

// tierPurchaseV1 is a level bought with points, keyed per member by the
// shopper's Idempotency-Key.
type tierPurchaseV1 struct {
	MemberID  int64     `gorm:"primaryKey;autoIncrement:false"`
	IdemKey   string    `gorm:"primaryKey;size:100"`
	FromLevel string    `gorm:"size:32;not null"`
	ToLevel   string    `gorm:"size:32;not null"`
	Points    int64     `gorm:"not null"`
	EntryID   int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (tierPurchaseV1) TableName() string { return "tier_purchases" }

// birthdayAwardV1 marks a member's birthday bonus of one year as handled.
type birthdayAwardV1 struct {
	MemberID  int64     `gorm:"primaryKey;autoIncrement:false"`
	Year      int       `gorm:"primaryKey;autoIncrement:false"`
	Points    int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (birthdayAwardV1) TableName() string { return "birthday_awards" }

// orderV2 adds the quantities refunded per SKU (JSON, as refunded; NULL on
// orders no refund line with a qty has touched), so a refund never takes
// back more of a SKU than was ordered.
type orderV2 struct {
	OrderID     string `gorm:"primaryKey;size:64"`
	RefundedQty string `gorm:"type:text"`
}

func (orderV2) TableName() string { return "orders" }

var orders = []repo.Migration{
	{Version: 310, Name: "order_events", Up: repo.CreateTables(&orderEventV1{})},
	{Version: 311, Name: "orders", Up: repo.CreateTables(&orderV1{})},
	{Version: 312, Name: "member_tiers", Up: repo.CreateTables(&memberTierV1{})},
	{Version: 313, Name: "tier_purchases", Up: repo.CreateTables(&tierPurchaseV1{})},
	{Version: 314, Name: "birthday_awards", Up: repo.CreateTables(&birthdayAwardV1{})},
	{Version: 315, Name: "orders_refunded_qty", Up: func(tx *gorm.DB) error { return tx.Migrator().AddColumn(&orderV2{}, "RefundedQty") }},
}
