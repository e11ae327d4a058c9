package schema

import (
	"time"

	"github.com/jifen/jifen/repo"
)

// ruleV1 is the current version of each earning rule. Spec is the whole
// rule as JSON (domain/rules.Rule); the other columns are copies for
// querying.
type ruleV1 struct {
	ID          int64  `gorm:"primaryKey;autoIncrement"`
	Name        string `gorm:"size:64;not null"`
	TriggerKind string `gorm:"size:32;not null;index:idx_rules_trigger_status,priority:1"`
	Status      string `gorm:"size:16;not null;index:idx_rules_trigger_status,priority:2"`
	Priority    int    `gorm:"not null;default:0"`
	Version     int    `gorm:"not null"`
	ValidFrom   *time.Time
	ValidTo     *time.Time
	Spec        string    `gorm:"type:text;not null"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

func (ruleV1) TableName() string { return "rules" }

// ruleVersionV1 is the immutable snapshot of every version of a rule.
type ruleVersionV1 struct {
	RuleID    int64     `gorm:"primaryKey;autoIncrement:false"`
	Version   int       `gorm:"primaryKey;autoIncrement:false"`
	Status    string    `gorm:"size:16;not null"`
	Spec      string    `gorm:"type:text;not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (ruleVersionV1) TableName() string { return "rule_versions" }

// ruleUsageV1 is what a rule awarded a member on one Asia/Shanghai day
// (yyyymmdd), for the per-member caps.
type ruleUsageV1 struct {
	MemberID int64 `gorm:"primaryKey;autoIncrement:false"`
	RuleID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Day      int   `gorm:"primaryKey;autoIncrement:false"`
	Points   int64 `gorm:"not null"`
}

func (ruleUsageV1) TableName() string { return "rule_usage" }

// ruleBudgetV1 is a rule's budget pool: what it may award in all (total,
// edited with the rule) and what it has awarded (spent, which only grows and
// never passes total through a reservation).
type ruleBudgetV1 struct {
	RuleID    int64     `gorm:"primaryKey;autoIncrement:false"`
	Total     int64     `gorm:"not null"`
	Spent     int64     `gorm:"not null;default:0"`
	UpdatedAt time.Time `gorm:"not null"`
}

func (ruleBudgetV1) TableName() string { return "rule_budgets" }

var rules = []repo.Migration{
	{Version: 301, Name: "rules", Up: repo.CreateTables(&ruleV1{})},
	{Version: 302, Name: "rule_versions", Up: repo.CreateTables(&ruleVersionV1{})},
	{Version: 303, Name: "rule_usage", Up: repo.CreateTables(&ruleUsageV1{})},
	{Version: 304, Name: "rule_budgets", Up: repo.CreateTables(&ruleBudgetV1{})},
}
