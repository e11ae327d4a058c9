package schema

import (
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

type memberV1 struct {
	ID         int64   `gorm:"primaryKey;autoIncrement"`
	OpenID     string  `gorm:"column:openid;size:64;not null;uniqueIndex:uk_members_openid"`
	UnionID    *string `gorm:"column:unionid;size:64;index:idx_members_unionid"`
	SessionKey string  `gorm:"size:128;not null;default:''"`
	Phone      *string `gorm:"size:20;uniqueIndex:uk_members_phone"`
	Nickname   string  `gorm:"size:64;not null;default:''"`
	AvatarURL  string  `gorm:"size:512;not null;default:''"`
	Birthday   *string `gorm:"size:10"`
	CreatedAt  time.Time
	LastActive time.Time
}

func (memberV1) TableName() string { return "members" }

type refreshTokenV1 struct {
	ID        int64     `gorm:"primaryKey;autoIncrement"`
	Audience  string    `gorm:"size:16;not null"`
	Subject   int64     `gorm:"not null;index:idx_refresh_subject"`
	Family    string    `gorm:"size:32;not null;index:idx_refresh_family"`
	TokenHash string    `gorm:"size:64;not null;uniqueIndex:uk_refresh_hash"`
	ExpiresAt time.Time `gorm:"not null"`
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

func (refreshTokenV1) TableName() string { return "refresh_tokens" }

type auditV1 struct {
	ID        int64     `gorm:"primaryKey;autoIncrement"`
	Actor     string    `gorm:"size:64;not null"`
	ActorRole string    `gorm:"size:16;not null"`
	Action    string    `gorm:"size:64;not null"`
	Target    string    `gorm:"size:64;not null;index:idx_audit_target"`
	Detail    string    `gorm:"type:text"`
	CreatedAt time.Time `gorm:"index:idx_audit_created"`
}

func (auditV1) TableName() string { return "audit_log" }

// consoleFormKeyV1 remembers which console form renderings were sent and
// where their write landed (domain/formkey), a day from the first send.
type consoleFormKeyV1 struct {
	Actor     string    `gorm:"primaryKey;size:64"`
	Form      string    `gorm:"primaryKey;size:128"`
	FormKey   string    `gorm:"primaryKey;size:64"`
	Result    string    `gorm:"size:255;not null;default:''"` // MEDIUMTEXT since 115
	CreatedAt time.Time `gorm:"not null;index:idx_console_form_keys_created"`
}

func (consoleFormKeyV1) TableName() string { return "console_form_keys" }

var foundation = []repo.Migration{
	{Version: 101, Name: "members", Up: repo.CreateTables(&memberV1{})},
	{Version: 102, Name: "refresh_tokens", Up: repo.CreateTables(&refreshTokenV1{})},
	{Version: 103, Name: "audit_log", Up: repo.CreateTables(&auditV1{})},
	// WeChat session keys were stored and never read: forget the ones kept.
	// The column stays (empty) so older binaries still run during a deploy.
	{Version: 110, Name: "members_forget_session_keys", Up: func(tx *gorm.DB) error {
		return tx.Exec("UPDATE members SET session_key = '' WHERE session_key <> ''").Error
	}},
	{Version: 111, Name: "members_phone_tail", Up: addPhoneTail},
	{Version: 112, Name: "token_denylist", Up: repo.CreateTables(&tokenDenylistV1{})},
	{Version: 113, Name: "token_denylist_unsent", Up: repo.CreateTables(&tokenDenylistUnsentV1{})},
	{Version: 114, Name: "console_form_keys", Up: repo.CreateTables(&consoleFormKeyV1{})},
	// The JSON API's creates sent with an Idempotency-Key keep their whole
	// answer there, to replay it (bff/console createOnce): more than 255
	// characters. SQLite does not hold a text column to its size.
	{Version: 115, Name: "console_form_keys_result_text", Up: func(tx *gorm.DB) error {
		if tx.Dialector.Name() != "mysql" {
			return nil
		}
		return tx.Exec("ALTER TABLE console_form_keys MODIFY result MEDIUMTEXT NOT NULL").Error
	}},
	{Version: 780, Name: "audit_log_actor_action", Up: addAuditFilterIndexes},
}

// auditV2 indexes the trail by actor and by action, so the console's audit
// log filtered by either reads only the rows it shows (InnoDB's secondary
// index ends in the primary key, which orders the page).
type auditV2 struct {
	Actor  string `gorm:"size:64;not null;index:idx_audit_actor"`
	Action string `gorm:"size:64;not null;index:idx_audit_action"`
}

func (auditV2) TableName() string { return "audit_log" }

func addAuditFilterIndexes(tx *gorm.DB) error {
	for _, name := range []string{"idx_audit_actor", "idx_audit_action"} {
		if err := tx.Migrator().CreateIndex(&auditV2{}, name); err != nil {
			return err
		}
	}
	return nil
}

// tokenDenylistV1 lists the sessions (s:<family>) and access tokens
// (j:<jti>) that must not be accepted before they expire: a logout, a
// replayed refresh token, a console sign-out. Redis keeps a copy for the
// request path; this table is the truth it is rebuilt from.
type tokenDenylistV1 struct {
	TokenID   string    `gorm:"primaryKey;size:64"`
	ExpiresAt time.Time `gorm:"not null;index:idx_token_denylist_expires"`
}

func (tokenDenylistV1) TableName() string { return "token_denylist" }

// tokenDenylistUnsentV1 lists the denials whose copy to Redis failed when
// they were made (written in the same transaction as their
// token_denylist row): every instance copies them to Redis and deletes
// them (sessionstore.Denylist.Sync), so a logout made where Redis could
// not be reached is seen by the instances that trust Redis. Usually empty.
type tokenDenylistUnsentV1 struct {
	ID        int64     `gorm:"primaryKey;autoIncrement"`
	TokenID   string    `gorm:"size:64;not null"`
	ExpiresAt time.Time `gorm:"not null"`
}

func (tokenDenylistUnsentV1) TableName() string { return "token_denylist_unsent" }

// memberV2 adds the last four digits of the bound phone, indexed, so the
// console finds a member by what a shopper reads out at the till ("尾号
// 1234") without scanning every phone.
type memberV2 struct {
	PhoneTail *string `gorm:"size:4;index:idx_members_phone_tail"`
}

func (memberV2) TableName() string { return "members" }

func addPhoneTail(tx *gorm.DB) error {
	m := tx.Migrator()
	if err := m.AddColumn(&memberV2{}, "PhoneTail"); err != nil {
		return err
	}
	if err := m.CreateIndex(&memberV2{}, "idx_members_phone_tail"); err != nil {
		return err
	}
	// SUBSTR with a negative start counts from the end in MySQL and SQLite.
	return tx.Exec("UPDATE members SET phone_tail = SUBSTR(phone, -4) WHERE phone IS NOT NULL").Error
}
