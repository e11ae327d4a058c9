package repo

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
)

// Migration is one versioned schema change. Up uses gorm's migrator (with
// table structs frozen in the migration) so the same schema is produced on
// MySQL and SQLite. The list lives in repo/schema. Versions are grouped by capability: 1xx foundation,
// 2xx ledger, 3xx rules/tiers, 4xx sign-in/tasks, 5xx referral/lottery,
// 6xx reminders, 7xx guides.
type Migration struct {
	Version int
	Name    string
	Up      func(tx *gorm.DB) error
}

type schemaMigration struct {
	Version   int    `gorm:"primaryKey;autoIncrement:false"`
	Name      string `gorm:"size:120;not null"`
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// Migrate applies the migrations not yet recorded in schema_migrations and
// returns the versions it applied. Running it again applies nothing. On
// MySQL a named lock keeps two instances from migrating at once.
func (d *DB) Migrate(ctx context.Context, migrations []Migration) ([]int, error) {
	migrations = append([]Migration(nil), migrations...)
	sort.Slice(migrations, func(i, j int) bool { return migrations[i].Version < migrations[j].Version })
	g := d.gorm.WithContext(ctx)
	if d.dialect == MySQL {
		conn, err := d.sql.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT GET_LOCK('jifen_migrate', 60)"); err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), "SELECT RELEASE_LOCK('jifen_migrate')") //nolint:errcheck
	}
	if err := g.Migrator().AutoMigrate(&schemaMigration{}); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var done []schemaMigration
	if err := g.Find(&done).Error; err != nil {
		return nil, err
	}
	have := map[int]bool{}
	for _, m := range done {
		have[m.Version] = true
	}
	var applied []int
	for _, m := range migrations {
		if have[m.Version] {
			continue
		}
		if err := m.Up(g); err != nil {
			return applied, fmt.Errorf("migration %d %s: %w", m.Version, m.Name, err)
		}
		if err := g.Create(&schemaMigration{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}).Error; err != nil {
			return applied, fmt.Errorf("record migration %d: %w", m.Version, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// CreateTables is the usual body of a migration that adds tables.
func CreateTables(models ...any) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		for _, m := range models {
			if err := tx.Migrator().CreateTable(m); err != nil {
				return err
			}
		}
		return nil
	}
}
