package schema

import "github.com/jifen/jifen/repo"

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
}
