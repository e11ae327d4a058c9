package schema

import (
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

// Points as cash at checkout (domain/checkout). A policy edit is a new
// row (the highest version is current), so a stale edit fails on the
// primary key. A checkout's LiveOrder is its order id while it is held or
// captured and NULL once released: the unique index keeps one live
// checkout per order.

type checkoutPolicyV1 struct {
	Version            int    `gorm:"primaryKey;autoIncrement:false"`
	Enabled            bool   `gorm:"not null"`
	PointsPerUnit      int64  `gorm:"not null"`
	UnitFen            int64  `gorm:"not null"`
	MaxSharePermille   int64  `gorm:"not null"`
	MinOrderFen        int64  `gorm:"not null;default:0"`
	ExcludedCategories string `gorm:"type:text;not null"` // JSON array
	UpdatedBy          string `gorm:"size:64;not null;default:''"`
	UpdatedAt          time.Time
}

func (checkoutPolicyV1) TableName() string { return "checkout_policies" }

type checkoutV1 struct {
	ID             int64     `gorm:"primaryKey;autoIncrement"`
	MemberID       int64     `gorm:"not null;index:idx_checkouts_member"`
	OrderID        string    `gorm:"size:64;not null;index:idx_checkouts_order"`
	LiveOrder      *string   `gorm:"size:64;uniqueIndex:uk_checkouts_live_order"`
	IdemKey        string    `gorm:"size:100;not null;uniqueIndex:uk_checkouts_key"`
	RequestHash    string    `gorm:"size:64;not null"`
	Status         string    `gorm:"size:10;not null"`
	TotalFen       int64     `gorm:"not null"`
	EligibleFen    int64     `gorm:"not null"`
	Points         int64     `gorm:"not null"`
	ValueFen       int64     `gorm:"not null"`
	PointsPerUnit  int64     `gorm:"not null"`
	UnitFen        int64     `gorm:"not null"`
	PolicyVersion  int       `gorm:"not null"`
	Deadline       time.Time `gorm:"not null"`
	ReturnedPoints int64     `gorm:"not null;default:0"`
	ReturnedFen    int64     `gorm:"not null;default:0"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (checkoutV1) TableName() string { return "checkouts" }

var checkout = []repo.Migration{
	{Version: 861, Name: "checkout_policies", Up: func(tx *gorm.DB) error {
		if err := tx.Migrator().CreateTable(&checkoutPolicyV1{}); err != nil {
			return err
		}
		// Version 1: 100 points = 1 yuan, up to half of the order
		// (checkout.DefaultPolicy).
		return tx.Create(&checkoutPolicyV1{Version: 1, Enabled: true, PointsPerUnit: 100, UnitFen: 100,
			MaxSharePermille: 500, ExcludedCategories: "[]", UpdatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}).Error
	}},
	{Version: 862, Name: "checkouts", Up: repo.CreateTables(&checkoutV1{})},
}
