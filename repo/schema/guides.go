package schema

import (
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

// Shop guides (domain/guide). A guide's grants are serialised by locking
// the guide's row; the month's budget use is the sum of its grants, so the
// two can never disagree.

type storeV1 struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	Name      string `gorm:"size:64;not null;uniqueIndex:uk_stores_name"`
	RobotKey  string `gorm:"size:128;not null;default:''"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (storeV1) TableName() string { return "stores" }

type guideV1 struct {
	ID            int64  `gorm:"primaryKey;autoIncrement"`
	UserID        string `gorm:"column:userid;size:64;not null;uniqueIndex:uk_guides_userid"`
	Code          string `gorm:"size:16;not null;uniqueIndex:uk_guides_code"`
	Name          string `gorm:"size:64;not null"`
	StoreID       int64  `gorm:"not null;index:idx_guides_store"`
	MonthlyBudget int64  `gorm:"not null"`
	Status        string `gorm:"size:12;not null"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (guideV1) TableName() string { return "guides" }

type guideCustomerV1 struct {
	MemberID       int64     `gorm:"primaryKey;autoIncrement:false"`
	GuideID        int64     `gorm:"not null;index:idx_guide_customers_guide,priority:1"`
	Source         string    `gorm:"size:12;not null"`
	ExternalUserID string    `gorm:"column:external_userid;size:64;not null;default:''"`
	BoundAt        time.Time `gorm:"not null"`
}

func (guideCustomerV1) TableName() string { return "guide_customers" }

type guideGrantV1 struct {
	ID          int64  `gorm:"primaryKey;autoIncrement"`
	GuideID     int64  `gorm:"not null;uniqueIndex:uk_guide_grants_key,priority:1;index:idx_guide_grants_month,priority:1"`
	IdemKey     string `gorm:"size:128;not null;uniqueIndex:uk_guide_grants_key,priority:2"`
	RequestHash string `gorm:"size:64;not null"`
	MemberID    int64  `gorm:"not null;index:idx_guide_grants_member_day,priority:1"`
	Points      int64  `gorm:"not null"`
	Reason      string `gorm:"size:200;not null"`
	Month       int    `gorm:"not null;index:idx_guide_grants_month,priority:2"`
	Day         int    `gorm:"not null;index:idx_guide_grants_member_day,priority:2"`
	EntryID     int64  `gorm:"not null"`
	CreatedAt   time.Time
}

func (guideGrantV1) TableName() string { return "guide_grants" }

type guidePushV1 struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	GuideID   int64  `gorm:"not null;index:idx_guide_pushes_guide"`
	MemberID  int64  `gorm:"not null;uniqueIndex:uk_guide_pushes_member_day,priority:1"`
	Day       int    `gorm:"not null;uniqueIndex:uk_guide_pushes_member_day,priority:2"`
	Batch     string `gorm:"size:32;not null;index:idx_guide_pushes_batch"`
	MsgID     string `gorm:"column:msgid;size:128;not null;default:''"`
	CreatedAt time.Time
}

func (guidePushV1) TableName() string { return "guide_pushes" }

// wecomCallbackV1 remembers every WeCom callback handled, by a hash of its
// encrypted payload, so a replay changes nothing.
type wecomCallbackV1 struct {
	Digest     string `gorm:"primaryKey;size:64"`
	Event      string `gorm:"size:64;not null"`
	ReceivedAt time.Time
}

func (wecomCallbackV1) TableName() string { return "wecom_callbacks" }

// guideContactV1 keeps a WeCom external contact a guide added before the
// person became a member; the first login with the unionid binds it.
type guideContactV1 struct {
	ExternalUserID string    `gorm:"column:external_userid;primaryKey;size:64"`
	GuideID        int64     `gorm:"primaryKey;autoIncrement:false"`
	UnionID        string    `gorm:"column:unionid;size:64;not null;default:'';index:idx_guide_contacts_unionid"`
	AddedAt        time.Time `gorm:"not null"`
}

func (guideContactV1) TableName() string { return "guide_contacts" }

// guideV2 adds a guide's own phone (set in the console; "" when not
// given): risk control compares it with the phone of each customer the
// guide grants to.
type guideV2 struct {
	Phone string `gorm:"size:20;not null;default:''"`
}

func (guideV2) TableName() string { return "guides" }

var guides = []repo.Migration{
	{Version: 701, Name: "stores", Up: repo.CreateTables(&storeV1{})},
	{Version: 702, Name: "guides", Up: repo.CreateTables(&guideV1{})},
	{Version: 703, Name: "guide_customers", Up: repo.CreateTables(&guideCustomerV1{})},
	{Version: 704, Name: "guide_grants", Up: repo.CreateTables(&guideGrantV1{})},
	{Version: 705, Name: "guide_pushes", Up: repo.CreateTables(&guidePushV1{})},
	{Version: 706, Name: "wecom_callbacks", Up: repo.CreateTables(&wecomCallbackV1{})},
	{Version: 707, Name: "guide_contacts", Up: repo.CreateTables(&guideContactV1{})},
	{Version: 708, Name: "guides_phone", Up: func(tx *gorm.DB) error { return tx.Migrator().AddColumn(&guideV2{}, "Phone") }},
}
