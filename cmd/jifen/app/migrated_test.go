package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/schema"
)

// A database missing any migration of this release is refused, naming the
// first missing one and the command that applies it; a migrated one is
// not.
func TestCheckMigratedNamesWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	db, err := repo.OpenSQLite(filepath.Join(t.TempDir(), "jifen.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := CheckMigrated(ctx, db); err == nil || !strings.Contains(err.Error(), "jifen migrate") {
		t.Fatalf("an empty database: %v; want an error naming jifen migrate", err)
	}
	if _, err := db.Migrate(ctx, schema.All()); err != nil {
		t.Fatal(err)
	}
	if err := CheckMigrated(ctx, db); err != nil {
		t.Fatalf("a migrated database: %v", err)
	}
	// An upgrade whose migration was not applied yet.
	all := schema.All()
	last := all[len(all)-1]
	for _, m := range all {
		if m.Version > last.Version {
			last = m
		}
	}
	if err := db.Conn(ctx).Exec("DELETE FROM schema_migrations WHERE version = ?", last.Version).Error; err != nil {
		t.Fatal(err)
	}
	err = CheckMigrated(ctx, db)
	if err == nil || !strings.Contains(err.Error(), "lacks 1 of") || !strings.Contains(err.Error(), last.Name) {
		t.Fatalf("a database without migration %d: %v; want it named", last.Version, err)
	}
}
