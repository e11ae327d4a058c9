package repo

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Migration is one versioned schema change. Up uses gorm's migrator (with
// table structs frozen in the migration) so the same schema is produced on
// MySQL and SQLite. The list lives in repo/schema. Versions are grouped by
// capability (see repo/schema), so a migration added later can carry a
// lower version than one already applied: a database that is upgraded
// applies it after the higher ones, a fresh one in version order. That is
// safe because every migration only creates or changes the tables of its
// own capability and never reads another's; repo/schema's tests check
// that every order leaves the same schema.
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

// MigrateLockWait is how long Migrate waits for another instance's
// migration to finish before it gives up.
const MigrateLockWait = 60 * time.Second

// Migrate applies the migrations not yet recorded in schema_migrations and
// returns the versions it applied. Running it again applies nothing. On
// MySQL a named lock (one per database) keeps two instances from migrating
// at once; one that cannot get it within MigrateLockWait fails rather than
// migrate beside the other.
func (d *DB) Migrate(ctx context.Context, migrations []Migration) ([]int, error) {
	return d.MigrateWaiting(ctx, migrations, MigrateLockWait)
}

// MigrateWaiting is Migrate with its own lock wait (whole seconds, at
// least one).
func (d *DB) MigrateWaiting(ctx context.Context, migrations []Migration, wait time.Duration) ([]int, error) {
	migrations = append([]Migration(nil), migrations...)
	sort.Slice(migrations, func(i, j int) bool { return migrations[i].Version < migrations[j].Version })
	g := d.gorm.WithContext(ctx)
	if d.dialect == MySQL {
		conn, err := d.sql.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		secs := max(int(wait/time.Second), 1)
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(CONCAT('jifen_migrate:', DATABASE()), ?)", secs).Scan(&got); err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		if !got.Valid || got.Int64 != 1 {
			return nil, fmt.Errorf("migration lock: another jifen migrate has held it for %ds; nothing was applied (run it again when that one is done)", secs)
		}
		defer conn.ExecContext(context.Background(), "SELECT RELEASE_LOCK(CONCAT('jifen_migrate:', DATABASE()))") //nolint:errcheck
	}
	if d.dialect == MySQL {
		// Tables are utf8mb4 whatever the database's default: a latin1
		// database would refuse the first Chinese rule name (Error 1366).
		coll, err := d.tableCollation(g)
		if err != nil {
			return nil, err
		}
		g = g.Set("gorm:table_options", "DEFAULT CHARSET=utf8mb4 COLLATE="+coll).Session(&gorm.Session{})
		if err := convertToUTF8MB4(g, coll); err != nil {
			return nil, err
		}
	}
	have, err := d.applied(g)
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range migrations {
		if _, ok := have[m.Version]; ok {
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

// tableCollation is the collation of Jifen's tables on MySQL: the
// database's own when it is a utf8mb4 one (tables created by earlier
// releases have it, and comparing columns of two collations is an error),
// else utf8mb4_unicode_ci.
func (d *DB) tableCollation(g *gorm.DB) (string, error) {
	var charset, coll string
	if err := g.Raw("SELECT @@character_set_database, @@collation_database").Row().Scan(&charset, &coll); err != nil {
		return "", fmt.Errorf("database charset: %w", err)
	}
	if charset == "utf8mb4" {
		return coll, nil
	}
	return "utf8mb4_unicode_ci", nil
}

// convertToUTF8MB4 converts the database's tables that are not utf8mb4 —
// created by a release that did not say, in a database whose default is
// latin1 — to coll. On a database created utf8mb4 it does nothing.
func convertToUTF8MB4(g *gorm.DB, coll string) error {
	var tables []string
	if err := g.Raw(`SELECT TABLE_NAME FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_COLLATION NOT LIKE 'utf8mb4!_%' ESCAPE '!'`).Scan(&tables).Error; err != nil {
		return fmt.Errorf("list tables to convert to utf8mb4: %w", err)
	}
	for _, t := range tables {
		if err := g.Exec("ALTER TABLE `" + strings.ReplaceAll(t, "`", "``") + "` CONVERT TO CHARACTER SET utf8mb4 COLLATE " + coll).Error; err != nil {
			return fmt.Errorf("convert %s to utf8mb4: %w", t, err)
		}
	}
	return nil
}

// applied returns when each recorded migration was applied, creating
// schema_migrations first if needed.
func (d *DB) applied(g *gorm.DB) (map[int]time.Time, error) {
	if err := g.Migrator().AutoMigrate(&schemaMigration{}); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var done []schemaMigration
	if err := g.Find(&done).Error; err != nil {
		return nil, err
	}
	have := make(map[int]time.Time, len(done))
	for _, m := range done {
		have[m.Version] = m.AppliedAt
	}
	return have, nil
}

// MigrationState is one migration as `jifen migrate status` shows it.
type MigrationState struct {
	Version   int
	Name      string
	AppliedAt *time.Time // nil: pending
	// Unknown: recorded in the database but not in this binary (a newer
	// release migrated it).
	Unknown bool
}

// MigrationStatus lists every migration in version order, applied or
// pending, and the recorded ones this binary does not know. It changes
// nothing but creating an empty schema_migrations.
func (d *DB) MigrationStatus(ctx context.Context, migrations []Migration) ([]MigrationState, error) {
	g := d.gorm.WithContext(ctx)
	have, err := d.applied(g)
	if err != nil {
		return nil, err
	}
	var out []MigrationState
	known := map[int]bool{}
	for _, m := range migrations {
		known[m.Version] = true
		st := MigrationState{Version: m.Version, Name: m.Name}
		if at, ok := have[m.Version]; ok {
			st.AppliedAt = &at
		}
		out = append(out, st)
	}
	var done []schemaMigration
	if err := g.Order("version").Find(&done).Error; err != nil {
		return nil, err
	}
	for _, m := range done {
		if !known[m.Version] {
			at := m.AppliedAt
			out = append(out, MigrationState{Version: m.Version, Name: m.Name, AppliedAt: &at, Unknown: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
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
