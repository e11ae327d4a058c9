package schema

import (
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

// Virtual mall items that deliver something (issue 18): a mall item's
// benefit ("" none, "makeup_card") and how many per unit (1501), and the
// members' make-up cards a make-up sign-in uses before points (1502).
// Neither reads the other, so either order leaves the same schema.

type mallItemV2 struct {
	ID         int64  `gorm:"primaryKey;autoIncrement"`
	Benefit    string `gorm:"size:16;not null;default:''"`
	BenefitQty int    `gorm:"not null;default:0"`
}

func (mallItemV2) TableName() string { return "mall_items" }

func addItemBenefit(tx *gorm.DB) error {
	for _, col := range []string{"Benefit", "BenefitQty"} {
		if err := tx.Migrator().AddColumn(&mallItemV2{}, col); err != nil {
			return err
		}
	}
	return nil
}

type signinCardV1 struct {
	MemberID  int64     `gorm:"primaryKey;autoIncrement:false"`
	Cards     int       `gorm:"not null;default:0"`
	UpdatedAt time.Time `gorm:"not null"`
}

func (signinCardV1) TableName() string { return "signin_cards" }

var mallBenefit = []repo.Migration{
	{Version: 1501, Name: "mall_items_benefit", Up: addItemBenefit},
	{Version: 1502, Name: "signin_cards", Up: repo.CreateTables(&signinCardV1{})},
}
