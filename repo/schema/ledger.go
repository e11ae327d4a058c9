package schema

import (
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/repo"
)

// The points ledger (domain/ledger). Idempotency keys live on the entry the
// request wrote (uk_ledger_entries_key), next to the request hash, so the
// key and the effect are one row of one transaction.

type ledgerAccountV1 struct {
	MemberID       int64 `gorm:"primaryKey;autoIncrement:false"`
	Available      int64 `gorm:"not null;default:0"`
	Pending        int64 `gorm:"not null;default:0"`
	Held           int64 `gorm:"not null;default:0"`
	Debt           int64 `gorm:"not null;default:0"`
	LifetimeEarned int64 `gorm:"not null;default:0"`
	Version        int64 `gorm:"not null;default:0"`
	UpdatedAt      time.Time
}

func (ledgerAccountV1) TableName() string { return "ledger_accounts" }

type ledgerLotV1 struct {
	ID       int64 `gorm:"primaryKey;autoIncrement"`
	MemberID int64 `gorm:"not null;index:idx_ledger_lots_member,priority:1"`
	EntryID  int64 `gorm:"not null"`
	Amount   int64 `gorm:"not null"`
	// Remaining is what is still usable (active) or waiting (pending).
	Remaining int64  `gorm:"not null"`
	Expired   int64  `gorm:"not null;default:0"`
	State     string `gorm:"size:8;not null;index:idx_ledger_lots_member,priority:2;index:idx_ledger_lots_expiry,priority:1"`
	// The expiry job scans (state, expires_at), and so does the pending
	// release job (pending lots are few). Every other lookup starts from the
	// member, whose account lock is held: lots carry no more indexes, each
	// costs every earning a write.
	AvailableAt time.Time `gorm:"not null"`
	ExpiresAt   time.Time `gorm:"not null;index:idx_ledger_lots_member,priority:3;index:idx_ledger_lots_expiry,priority:2"`
	CreatedAt   time.Time
}

func (ledgerLotV1) TableName() string { return "ledger_lots" }

type ledgerEntryV1 struct {
	// (member_id, id) serves the newest-first history with keyset paging.
	ID           int64  `gorm:"primaryKey;autoIncrement;index:idx_ledger_entries_member,priority:2"`
	MemberID     int64  `gorm:"not null;index:idx_ledger_entries_member,priority:1;index:idx_ledger_entries_ref,priority:1"`
	Kind         string `gorm:"size:12;not null"`
	Amount       int64  `gorm:"not null"`
	Delta        int64  `gorm:"not null"`
	BalanceAfter int64  `gorm:"not null"`
	RefType      string `gorm:"size:32;not null;default:'';index:idx_ledger_entries_ref,priority:2"`
	RefID        string `gorm:"size:64;not null;default:'';index:idx_ledger_entries_ref,priority:3"`
	RelatedID    int64  `gorm:"not null;default:0;index:idx_ledger_entries_related"`
	IdemKey      string `gorm:"size:128;not null;uniqueIndex:uk_ledger_entries_key"`
	RequestHash  string `gorm:"size:64;not null;default:''"`
	Title        string `gorm:"size:64;not null;default:''"`
	Reason       string `gorm:"size:200;not null;default:''"`
	Operator     string `gorm:"size:64;not null;default:''"`
	CreatedAt    time.Time
}

func (ledgerEntryV1) TableName() string { return "ledger_entries" }

type ledgerAllocationV1 struct {
	EntryID int64 `gorm:"primaryKey;autoIncrement:false"`
	LotID   int64 `gorm:"primaryKey;autoIncrement:false;index:idx_ledger_allocations_lot"`
	Amount  int64 `gorm:"not null"`
}

func (ledgerAllocationV1) TableName() string { return "ledger_allocations" }

type ledgerHoldV1 struct {
	ID        int64     `gorm:"primaryKey;autoIncrement"`
	MemberID  int64     `gorm:"not null;index:idx_ledger_holds_ref,priority:1"`
	EntryID   int64     `gorm:"not null"`
	RefType   string    `gorm:"size:32;not null;index:idx_ledger_holds_ref,priority:2"`
	RefID     string    `gorm:"size:64;not null;index:idx_ledger_holds_ref,priority:3"`
	Amount    int64     `gorm:"not null"`
	Status    string    `gorm:"size:10;not null;index:idx_ledger_holds_due,priority:1"`
	Deadline  time.Time `gorm:"not null;index:idx_ledger_holds_due,priority:2"`
	ClosedAt  *time.Time
	CreatedAt time.Time
}

func (ledgerHoldV1) TableName() string { return "ledger_holds" }

var ledger = []repo.Migration{
	{Version: 201, Name: "ledger_accounts", Up: repo.CreateTables(&ledgerAccountV1{})},
	{Version: 202, Name: "ledger_lots", Up: repo.CreateTables(&ledgerLotV1{})},
	{Version: 203, Name: "ledger_entries", Up: repo.CreateTables(&ledgerEntryV1{})},
	{Version: 204, Name: "ledger_allocations", Up: repo.CreateTables(&ledgerAllocationV1{})},
	{Version: 205, Name: "ledger_holds", Up: repo.CreateTables(&ledgerHoldV1{})},
	// Lots spent to nothing are 'spent' (ledger.LotSpent) since 1101, out
	// of the member's active range that every spend reads from its start;
	// this moves the ones spent before.
	{Version: 1101, Name: "ledger_lots_spent", Up: func(tx *gorm.DB) error {
		return tx.Exec("UPDATE ledger_lots SET state = 'spent' WHERE state = 'active' AND remaining = 0").Error
	}},
}
