// Package schema lists every versioned migration of the Jifen database.
// Each capability keeps its tables in its own file here, as frozen structs:
// a migration, once released, never changes; a later change is a new
// migration. Version ranges: 1xx foundation, 2xx ledger, 3xx rules/tiers,
// 4xx sign-in/tasks/leaderboards, 5xx referral/lottery, 6xx reminders,
// 7xx guides, 85x mall, 86x checkout, 9xx analytics, 100x risk, 120x mall
// payments, 150x mall benefits (make-up cards).
package schema

import "github.com/jifen/jifen/repo"

// All returns every migration; repo.DB.Migrate sorts them by version.
func All() []repo.Migration {
	var all []repo.Migration
	all = append(all, foundation...)
	all = append(all, ledger...)
	all = append(all, rules...)
	all = append(all, guides...)
	all = append(all, engage...)
	all = append(all, growth...)
	all = append(all, orders...)
	all = append(all, tasks...)
	all = append(all, reminder...)
	all = append(all, mall...)
	all = append(all, checkout...)
	all = append(all, analytics...)
	all = append(all, reminderEffect...)
	all = append(all, risk...)
	all = append(all, mallPay...)
	all = append(all, mallBenefit...)
	return all
}
