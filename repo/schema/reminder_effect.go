package schema

import (
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

// The reminder effect (issue 24): the outbox indexed by delivery time, so
// the analytics job reads the messages delivered since its cursor as a
// range; and the reach facts it builds from them.
var reminderEffect = []repo.Migration{
	{Version: 1401, Name: "reminder_outbox_sent_at", Up: addOutboxSentIndex},
	{Version: 1402, Name: "analytics_reminder_reach", Up: repo.CreateTables(&analyticsReminderReachV1{})},
}

type reminderOutboxV3 struct {
	SentAt *time.Time `gorm:"index:idx_reminder_outbox_sent"`
}

func (reminderOutboxV3) TableName() string { return "reminder_outbox" }

func addOutboxSentIndex(tx *gorm.DB) error {
	return tx.Migrator().CreateIndex(&reminderOutboxV3{}, "idx_reminder_outbox_sent")
}

// analyticsReminderReachV1 is one member reached (sent a message) or held
// out by one run of a reminder: Run is the outbox campaign key, Reminder
// the campaign or automatic reminder it belongs to ("campaign:12",
// "auto:7"), Day the Shanghai day of ReachedAt. A row is settled once it
// converted or its conversion window ended.
type analyticsReminderReachV1 struct {
	ID          int64     `gorm:"primaryKey;autoIncrement;index:idx_analytics_reach_settled,priority:2"`
	Run         string    `gorm:"size:64;not null;uniqueIndex:uk_analytics_reach,priority:1"`
	MemberID    int64     `gorm:"not null;uniqueIndex:uk_analytics_reach,priority:2"`
	Reminder    string    `gorm:"size:64;not null;index:idx_analytics_reach_day,priority:2"`
	Holdout     bool      `gorm:"not null;default:false"`
	Day         int       `gorm:"not null;index:idx_analytics_reach_day,priority:1"`
	ReachedAt   time.Time `gorm:"not null"`
	ConvertedAt *time.Time
	Settled     bool `gorm:"not null;default:false;index:idx_analytics_reach_settled,priority:1"`
}

func (analyticsReminderReachV1) TableName() string { return "analytics_reminder_reach" }
