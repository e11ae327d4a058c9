package schema

import (
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

// Risk control (domain/risk). A policy edit is a new row (the highest
// version is current; none stored means risk.DefaultPolicy). A flag is
// unique per rule + key + window, so one burst raises one flag however
// often it is counted. A member has at most one hold (the primary key).

type riskPolicyV1 struct {
	Version   int    `gorm:"primaryKey;autoIncrement:false"`
	Rules     string `gorm:"type:text;not null"` // JSON array of risk.Rule
	UpdatedBy string `gorm:"size:64;not null;default:''"`
	UpdatedAt time.Time
}

func (riskPolicyV1) TableName() string { return "risk_policies" }

type riskFlagV1 struct {
	ID        int64     `gorm:"primaryKey;autoIncrement;index:idx_risk_flags_member,priority:2;index:idx_risk_flags_status,priority:2"`
	MemberID  int64     `gorm:"not null;index:idx_risk_flags_member,priority:1"`
	Rule      string    `gorm:"size:48;not null;uniqueIndex:uk_risk_flags_burst,priority:1"`
	Action    string    `gorm:"size:16;not null"`
	Dimension string    `gorm:"size:16;not null"`
	Key       string    `gorm:"column:subject;size:64;not null;uniqueIndex:uk_risk_flags_burst,priority:2"`
	Window    time.Time `gorm:"column:window_start;not null;uniqueIndex:uk_risk_flags_burst,priority:3"`
	Count     int64     `gorm:"column:event_count;not null"`
	Limit     int64     `gorm:"column:max_per_hour;not null"`
	Held      bool      `gorm:"not null;default:false"`
	Status    string    `gorm:"size:10;not null;index:idx_risk_flags_status,priority:1"`
	DecidedBy string    `gorm:"size:64;not null;default:''"`
	DecidedAt *time.Time
	Note      string `gorm:"size:500;not null;default:''"`
	CreatedAt time.Time
}

func (riskFlagV1) TableName() string { return "risk_flags" }

type riskHoldV1 struct {
	MemberID  int64  `gorm:"primaryKey;autoIncrement:false"`
	FlagID    int64  `gorm:"not null;default:0"`
	Reason    string `gorm:"size:200;not null"`
	HeldBy    string `gorm:"size:64;not null"`
	CreatedAt time.Time
}

func (riskHoldV1) TableName() string { return "risk_holds" }

// riskFlagV2 adds a flag's evidence beyond its counted key: what a pattern
// rule saw (a referral ring's members and bindings), as JSON.
type riskFlagV2 struct {
	Evidence string `gorm:"type:text"`
}

func (riskFlagV2) TableName() string { return "risk_flags" }

// riskPaymentV1 is shared_payer's record of the payment accounts paid
// orders named: one row per paid order (the primary key), read by account
// and time.
type riskPaymentV1 struct {
	Account  string    `gorm:"column:payer_account;primaryKey;size:64;index:idx_risk_payments_account,priority:1"`
	OrderID  string    `gorm:"primaryKey;size:64"`
	MemberID int64     `gorm:"not null"`
	PaidAt   time.Time `gorm:"not null;index:idx_risk_payments_account,priority:2"`
}

func (riskPaymentV1) TableName() string { return "risk_payments" }

var risk = []repo.Migration{
	{Version: 1001, Name: "risk_policies", Up: repo.CreateTables(&riskPolicyV1{})},
	{Version: 1002, Name: "risk_flags", Up: repo.CreateTables(&riskFlagV1{})},
	{Version: 1003, Name: "risk_holds", Up: repo.CreateTables(&riskHoldV1{})},
	{Version: 1004, Name: "risk_payments", Up: repo.CreateTables(&riskPaymentV1{})},
	{Version: 1301, Name: "risk_flags_evidence", Up: func(tx *gorm.DB) error { return tx.Migrator().AddColumn(&riskFlagV2{}, "Evidence") }},
}
