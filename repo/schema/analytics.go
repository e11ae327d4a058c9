package schema

import (
	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

// Analytics (domain/analytics): daily facts built from the journal by a
// cursor, the members active each day, and a daily snapshot of the
// outstanding points. Days are Shanghai days as YYYYMMDD.

type analyticsCursorV1 struct {
	Name   string `gorm:"primaryKey;size:32"`
	LastID int64  `gorm:"not null;default:0"`
}

func (analyticsCursorV1) TableName() string { return "analytics_cursors" }

type analyticsPointsDailyV1 struct {
	Day     int    `gorm:"primaryKey;autoIncrement:false"`
	Kind    string `gorm:"primaryKey;size:16"`
	Source  string `gorm:"primaryKey;size:32"`
	Points  int64  `gorm:"not null;default:0"`
	Entries int64  `gorm:"not null;default:0"`
}

func (analyticsPointsDailyV1) TableName() string { return "analytics_points_daily" }

type analyticsActiveDailyV1 struct {
	Day      int   `gorm:"primaryKey;autoIncrement:false"`
	MemberID int64 `gorm:"primaryKey;autoIncrement:false"`
}

func (analyticsActiveDailyV1) TableName() string { return "analytics_active_daily" }

type analyticsOutstandingV1 struct {
	Day    int    `gorm:"primaryKey;autoIncrement:false"`
	Bucket string `gorm:"primaryKey;size:48"` // total | tier:<code> | expires:<YYYY-MM>
	Points int64  `gorm:"not null;default:0"`
}

func (analyticsOutstandingV1) TableName() string { return "analytics_outstanding" }

var analytics = []repo.Migration{
	{Version: 901, Name: "analytics_cursors", Up: repo.CreateTables(&analyticsCursorV1{})},
	{Version: 902, Name: "analytics_points_daily", Up: repo.CreateTables(&analyticsPointsDailyV1{})},
	{Version: 903, Name: "analytics_active_daily", Up: repo.CreateTables(&analyticsActiveDailyV1{})},
	{Version: 904, Name: "analytics_outstanding", Up: repo.CreateTables(&analyticsOutstandingV1{})},
	{Version: 910, Name: "analytics_active_daily_counts", Up: addActiveCounts},
	{Version: 911, Name: "analytics_members_daily", Up: repo.CreateTables(&analyticsMembersDailyV1{})},
}

// analyticsActiveDailyV2 adds to each active member-day the member's
// orders and redemptions, which the repurchase rates are counted from.
type analyticsActiveDailyV2 struct {
	Orders  int64 `gorm:"not null;default:0"`
	Redeems int64 `gorm:"not null;default:0"`
}

func (analyticsActiveDailyV2) TableName() string { return "analytics_active_daily" }

// analyticsMembersDailyV1 is the members who joined on each Shanghai day,
// built from the members table by the "members" cursor.
type analyticsMembersDailyV1 struct {
	Day    int   `gorm:"primaryKey;autoIncrement:false"`
	Joined int64 `gorm:"not null;default:0"`
}

func (analyticsMembersDailyV1) TableName() string { return "analytics_members_daily" }

// addActiveCounts adds the orders and redemptions of 910 and rebuilds the
// journal facts from the start: the job reads the journal again from id 0
// on its next run (idempotent, as every run is), so the member-days
// written before carry their counts too.
func addActiveCounts(tx *gorm.DB) error {
	for _, col := range []string{"Orders", "Redeems"} {
		if err := tx.Migrator().AddColumn(&analyticsActiveDailyV2{}, col); err != nil {
			return err
		}
	}
	for _, q := range []string{"DELETE FROM analytics_points_daily", "DELETE FROM analytics_active_daily", "DELETE FROM analytics_cursors WHERE name = 'points'"} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
