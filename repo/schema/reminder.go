package schema

import (
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

// Reminders (domain/reminder): the expiry and release jobs' leased member
// ranges, the delivery outbox, mini-program subscription quotas and
// marketer campaigns.

type expiryRangeV1 struct {
	ID int64 `gorm:"primaryKey;autoIncrement"`
	// RunDay (yyyymmdd, Shanghai) and Lo name one range of one day's run;
	// the unique key lets every instance create the ranges without racing.
	RunDay     int       `gorm:"not null;uniqueIndex:uk_expiry_ranges_run,priority:1"`
	Lo         int64     `gorm:"not null;uniqueIndex:uk_expiry_ranges_run,priority:2"`
	Hi         int64     `gorm:"not null"` // exclusive
	Cursor     int64     `gorm:"not null;default:0"`
	Done       bool      `gorm:"not null;default:false"`
	Owner      string    `gorm:"size:64;not null;default:''"`
	LeaseUntil time.Time `gorm:"not null"`
	Expired    int64     `gorm:"not null;default:0"`
	UpdatedAt  time.Time
}

func (expiryRangeV1) TableName() string { return "expiry_ranges" }

// releaseRangeV1 is one member range of the pending release job, which
// runs every minute: one row per range, reused run after run (RunKey is
// the Unix minute of the run that last claimed it) rather than a row per
// range and run.
type releaseRangeV1 struct {
	ID           int64     `gorm:"primaryKey;autoIncrement"`
	Lo           int64     `gorm:"not null;uniqueIndex:uk_release_ranges_lo"`
	Hi           int64     `gorm:"not null"` // exclusive
	RunKey       int64     `gorm:"not null;default:0"`
	CursorMember int64     `gorm:"not null;default:0"` // last member settled in run RunKey
	Done         bool      `gorm:"not null;default:false"`
	Owner        string    `gorm:"size:64;not null;default:''"`
	LeaseUntil   time.Time `gorm:"not null"`
	Released     int64     `gorm:"not null;default:0"` // lots released in run RunKey
	UpdatedAt    time.Time
}

func (releaseRangeV1) TableName() string { return "release_ranges" }

type reminderOutboxV1 struct {
	ID int64 `gorm:"primaryKey;autoIncrement"`
	// One row per campaign × member × channel: the unique key is what makes
	// a second enqueue of the same campaign a no-op.
	Campaign string    `gorm:"size:64;not null;uniqueIndex:uk_reminder_outbox,priority:1;index:idx_reminder_outbox_report,priority:1"`
	MemberID int64     `gorm:"not null;uniqueIndex:uk_reminder_outbox,priority:2"`
	Channel  string    `gorm:"size:16;not null;uniqueIndex:uk_reminder_outbox,priority:3;index:idx_reminder_outbox_rate,priority:1"`
	Status   string    `gorm:"size:10;not null;index:idx_reminder_outbox_due,priority:1;index:idx_reminder_outbox_report,priority:2"`
	NextAt   time.Time `gorm:"not null;index:idx_reminder_outbox_due,priority:2"`
	Payload  string    `gorm:"type:text;not null"`
	// QuietFrom/QuietTo are minutes of the Shanghai day; equal means none.
	QuietFrom   int       `gorm:"not null;default:0"`
	QuietTo     int       `gorm:"not null;default:0"`
	Attempts    int       `gorm:"not null;default:0"`
	Owner       string    `gorm:"size:64;not null;default:''"`
	LeaseUntil  time.Time `gorm:"not null"`
	AttemptedAt time.Time `gorm:"not null;index:idx_reminder_outbox_rate,priority:2"`
	ErrCode     int64     `gorm:"not null;default:0"`
	Reason      string    `gorm:"size:200;not null;default:''"`
	SentAt      *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (reminderOutboxV1) TableName() string { return "reminder_outbox" }

type reminderSubscriptionV1 struct {
	MemberID   int64  `gorm:"primaryKey;autoIncrement:false"`
	TemplateID string `gorm:"primaryKey;size:64"`
	Quota      int64  `gorm:"not null;default:0"`
	UpdatedAt  time.Time
}

func (reminderSubscriptionV1) TableName() string { return "reminder_subscriptions" }

type reminderCampaignV1 struct {
	ID        int64      `gorm:"primaryKey;autoIncrement"`
	Name      string     `gorm:"size:64;not null"`
	Status    string     `gorm:"size:10;not null;index:idx_reminder_campaigns_due,priority:1"`
	Spec      string     `gorm:"type:text;not null"` // audience, channels, template, schedule… as JSON
	NextRunAt *time.Time `gorm:"index:idx_reminder_campaigns_due,priority:2"`
	Runs      int        `gorm:"not null;default:0"`
	CreatedBy string     `gorm:"size:64;not null;default:''"`
	Version   int64      `gorm:"not null;default:0"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (reminderCampaignV1) TableName() string { return "reminder_campaigns" }

// officialFollowerV1 is one user of the official account, written by the
// push hook (subscribe/unsubscribe) and the daily follower sync; the
// template channel joins it to members by unionid.
type officialFollowerV1 struct {
	OpenID     string `gorm:"column:openid;primaryKey;size:64"`
	UnionID    string `gorm:"column:unionid;size:64;not null;default:'';index:idx_official_followers_unionid"`
	Subscribed bool   `gorm:"not null;default:false"`
	UpdatedAt  time.Time
}

func (officialFollowerV1) TableName() string { return "official_followers" }

var reminder = []repo.Migration{
	{Version: 601, Name: "expiry_ranges", Up: repo.CreateTables(&expiryRangeV1{})},
	{Version: 602, Name: "reminder_outbox", Up: repo.CreateTables(&reminderOutboxV1{})},
	{Version: 603, Name: "reminder_subscriptions", Up: repo.CreateTables(&reminderSubscriptionV1{})},
	{Version: 604, Name: "reminder_campaigns", Up: repo.CreateTables(&reminderCampaignV1{})},
	{Version: 605, Name: "official_followers", Up: repo.CreateTables(&officialFollowerV1{})},
	{Version: 610, Name: "reminder_campaigns_run_lease", Up: addCampaignRunColumns},
	{Version: 611, Name: "release_ranges", Up: repo.CreateTables(&releaseRangeV1{})},
	{Version: 612, Name: "reminder_outbox_attempted", Up: addOutboxAttemptedIndex},
}

// reminderOutboxV2 indexes the outbox by the last attempt, so the console's
// daily delivery outcomes (every reminder, not one campaign's) are range
// reads rather than scans; status makes the index cover the count.
type reminderOutboxV2 struct {
	AttemptedAt time.Time `gorm:"not null;index:idx_reminder_outbox_attempted,priority:1"`
	Status      string    `gorm:"size:10;not null;index:idx_reminder_outbox_attempted,priority:2"`
}

func (reminderOutboxV2) TableName() string { return "reminder_outbox" }

func addOutboxAttemptedIndex(tx *gorm.DB) error {
	return tx.Migrator().CreateIndex(&reminderOutboxV2{}, "idx_reminder_outbox_attempted")
}
