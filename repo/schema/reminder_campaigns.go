package schema

import (
	"time"

	"gorm.io/gorm"
)

// reminderCampaignV2 adds to reminder_campaigns (604) what a resumable,
// exclusive run needs: the open run's number, reused when a paused or
// crashed run resumes (so its outbox key, and its recipients, stay the
// same), and the lease of the instance running it.
type reminderCampaignV2 struct {
	ID         int64     `gorm:"primaryKey;autoIncrement"`
	OpenRun    int       `gorm:"not null;default:0"`
	LeaseUntil time.Time `gorm:"not null;default:'1970-01-01 00:00:00'"`
}

func (reminderCampaignV2) TableName() string { return "reminder_campaigns" }

func addCampaignRunColumns(tx *gorm.DB) error {
	for _, col := range []string{"OpenRun", "LeaseUntil"} {
		if err := tx.Migrator().AddColumn(&reminderCampaignV2{}, col); err != nil {
			return err
		}
	}
	return nil
}
