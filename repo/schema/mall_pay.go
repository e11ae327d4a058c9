package schema

import (
	"time"

	"github.com/jifen/jifen/repo"
)

// mall_payments: the WeChat Pay part of a points + cash redemption (issue
// #18), one row per redemption. Status pending → paid | closed |
// refund_needed; the hold-timeouts job finds pending rows past their
// deadline through idx_mall_payments_due.
type mallPaymentV1 struct {
	RedemptionID  int64     `gorm:"primaryKey;autoIncrement:false"`
	MemberID      int64     `gorm:"not null"`
	ItemID        int64     `gorm:"not null"`
	OutTradeNo    string    `gorm:"size:32;not null;uniqueIndex:uk_mall_payments_trade_no"`
	CashFen       int64     `gorm:"not null"`
	Status        string    `gorm:"size:16;not null;index:idx_mall_payments_due,priority:1"`
	PrepayID      string    `gorm:"size:64;not null;default:''"`
	TransactionID string    `gorm:"size:32;not null;default:''"`
	Deadline      time.Time `gorm:"not null;index:idx_mall_payments_due,priority:2"`
	Note          string    `gorm:"size:200;not null;default:''"`
	CreatedAt     time.Time `gorm:"not null"`
	UpdatedAt     time.Time `gorm:"not null"`
}

func (mallPaymentV1) TableName() string { return "mall_payments" }

var mallPay = []repo.Migration{
	{Version: 1201, Name: "mall_payments", Up: repo.CreateTables(&mallPaymentV1{})},
}
