package app

import (
	"context"
	"fmt"

	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/schema"
)

// CheckMigrated refuses a database that lacks migrations of this release:
// serve on a MySQL database nobody ran `jifen migrate` on (or not since
// the upgrade) would answer every request and job with "table doesn't
// exist" errors, for ever. Migrations a newer release recorded are fine
// (a rolling deploy's old instances).
func CheckMigrated(ctx context.Context, db *repo.DB) error {
	states, err := db.MigrationStatus(ctx, schema.All())
	if err != nil {
		return fmt.Errorf("read the applied migrations: %w", err)
	}
	var pending []repo.MigrationState
	for _, s := range states {
		if s.AppliedAt == nil && !s.Unknown {
			pending = append(pending, s)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	return fmt.Errorf("the database lacks %d of this release's %d migrations (the first: %d %s): run `jifen migrate` with the same settings first (`jifen migrate status` lists them)",
		len(pending), len(states), pending[0].Version, pending[0].Name)
}
