package schema

import (
	"github.com/jifen/jifen/repo"
	"gorm.io/gorm"
)

// The task center's tables were created by 402 (engage.go); these add what
// the built feature needs: the page a browse task shows, and the
// Idempotency-Key of the claim that paid a period (so its replay answers
// the first result instead of 409).
var tasks = []repo.Migration{
	{Version: 450, Name: "tasks_page", Up: func(tx *gorm.DB) error {
		return tx.Exec("ALTER TABLE tasks ADD COLUMN page VARCHAR(128) NOT NULL DEFAULT ''").Error
	}},
	{Version: 451, Name: "task_progress_claim_key", Up: func(tx *gorm.DB) error {
		return tx.Exec("ALTER TABLE task_progress ADD COLUMN claim_key VARCHAR(100) NOT NULL DEFAULT ''").Error
	}},
}
