package schema

import (
	"time"

	"github.com/jifen/jifen/repo"
	"gorm.io/gorm"
)

// signinV1 is one sign-in: a row per member per Asia/Shanghai day
// (yyyymmdd), the truth behind the Redis calendar and the streak board.
// Streak is the run of consecutive signed days ending that day.
type signinV1 struct {
	MemberID  int64     `gorm:"primaryKey;autoIncrement:false"`
	Day       int       `gorm:"primaryKey;autoIncrement:false;index:idx_signins_day"`
	Streak    int       `gorm:"not null"`
	Points    int64     `gorm:"not null;default:0"`
	Makeup    bool      `gorm:"not null;default:false"`
	CreatedAt time.Time `gorm:"not null"`
}

func (signinV1) TableName() string { return "signins" }

// taskV1 is a marketer-defined task.
type taskV1 struct {
	ID         int64  `gorm:"primaryKey;autoIncrement"`
	Type       string `gorm:"size:32;not null;index:idx_tasks_type_status,priority:1"`
	Title      string `gorm:"size:64;not null"`
	Period     string `gorm:"size:16;not null"`
	Target     int    `gorm:"not null"`
	Reward     int64  `gorm:"not null"`
	MinSeconds int    `gorm:"not null;default:0"`
	ValidFrom  *time.Time
	ValidTo    *time.Time
	Status     string    `gorm:"size:16;not null;index:idx_tasks_type_status,priority:2"`
	CreatedAt  time.Time `gorm:"not null"`
	UpdatedAt  time.Time `gorm:"not null"`
}

func (taskV1) TableName() string { return "tasks" }

// taskProgressV1 is a member's progress on a task in one period ("once",
// "d20261123", "w2026-48").
type taskProgressV1 struct {
	MemberID  int64  `gorm:"primaryKey;autoIncrement:false"`
	TaskID    int64  `gorm:"primaryKey;autoIncrement:false"`
	Period    string `gorm:"primaryKey;size:16"`
	Count     int    `gorm:"not null"`
	ClaimedAt *time.Time
	UpdatedAt time.Time `gorm:"not null"`
}

func (taskProgressV1) TableName() string { return "task_progress" }

// taskEventV1 records an event that counted once (a browse token, a review
// id, an official-account push), so a replay counts nothing.
type taskEventV1 struct {
	Source    string    `gorm:"primaryKey;size:16"`
	EventID   string    `gorm:"primaryKey;size:96"`
	MemberID  int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (taskEventV1) TableName() string { return "task_events" }

var engage = []repo.Migration{
	{Version: 401, Name: "signins", Up: repo.CreateTables(&signinV1{})},
	{Version: 402, Name: "tasks", Up: repo.CreateTables(&taskV1{}, &taskProgressV1{}, &taskEventV1{})},
	// The points_week board sums this week's earn entries when rebuilt.
	{Version: 403, Name: "ledger_entries_created_at", Up: func(tx *gorm.DB) error {
		return tx.Exec("CREATE INDEX idx_ledger_entries_created ON ledger_entries (created_at)").Error
	}},
}
