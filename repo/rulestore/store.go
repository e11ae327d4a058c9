// Package rulestore keeps the earning rules (domain/rules) in MySQL or
// SQLite: the current version of each rule in `rules`, an immutable JSON
// snapshot of every version in `rule_versions`, what each rule awarded each
// member per Asia/Shanghai day in `rule_usage` (for the caps) and the budget
// pools in `rule_budgets`. A pool's spent points only grow through a
// conditional UPDATE that keeps them within the total, so a pool is never
// overspent, whatever the number of concurrent orders.
//
// Store implements rules.Store, rules.Usage and rules.Budget. It opens no
// transaction itself: it joins the one carried by the context (repo.DB.InTx).
//
// # A group's usage and pools (rules.Service.ApplyMany)
//
// A group of events costs a handful of statements whatever its size: one
// locked read of the usage rows the caps need (FOR UPDATE on MySQL, on the
// rows there are: the group's caller holds a member-level lock already,
// the order group's tier rows), one locked read of the budget pools, one
// conditional UPDATE per pool for what the group took (its answer is
// awaited: a pool is never overspent), and one multi-row upsert of usage,
// which in a pipelined transaction (repo.DB.InPipelinedTx) travels with
// the transaction's next statement or its COMMIT (repo.DB.Later); its
// failure then fails that statement and the transaction rolls back.
package rulestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/rules"
	"github.com/jifen/jifen/repo"
)

// Store is the gorm implementation of the rule interfaces.
type Store struct{ db *repo.DB }

// New returns a store over db.
func New(db *repo.DB) *Store { return &Store{db: db} }

var (
	_ rules.Store  = (*Store)(nil)
	_ rules.Usage  = (*Store)(nil)
	_ rules.Budget = (*Store)(nil)
)

type ruleRow struct {
	ID          int64 `gorm:"primaryKey"`
	Name        string
	TriggerKind string
	Status      string
	Priority    int
	Version     int
	ValidFrom   *time.Time
	ValidTo     *time.Time
	Spec        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (ruleRow) TableName() string { return "rules" }

type versionRow struct {
	RuleID    int64 `gorm:"primaryKey"`
	Version   int   `gorm:"primaryKey"`
	Status    string
	Spec      string
	CreatedAt time.Time
}

func (versionRow) TableName() string { return "rule_versions" }

type usageRow struct {
	MemberID int64 `gorm:"primaryKey"`
	RuleID   int64 `gorm:"primaryKey"`
	Day      int   `gorm:"primaryKey"`
	Points   int64
}

func (usageRow) TableName() string { return "rule_usage" }

type budgetRow struct {
	RuleID    int64 `gorm:"primaryKey"`
	Total     int64
	Spent     int64
	UpdatedAt time.Time
}

func (b budgetRow) remaining() int64 { return max(b.Total-b.Spent, 0) }

func (budgetRow) TableName() string { return "rule_budgets" }

func notFound(id int64) error { return domain.Errorf(domain.NotFound, "rule %d not found", id) }

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// encode fills row from r (whose ID and Version are final).
func encode(r *rules.Rule, row *ruleRow) error {
	snap := *r
	snap.BudgetRemaining = 0
	spec, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encode rule %d: %w", r.ID, err)
	}
	row.ID, row.Name, row.TriggerKind, row.Status = r.ID, r.Name, string(r.Trigger), string(r.Status)
	row.Priority, row.Version, row.Spec = r.Priority, r.Version, string(spec)
	row.ValidFrom, row.ValidTo = utc(r.ValidFrom), utc(r.ValidTo)
	row.CreatedAt, row.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return nil
}

func decode(spec string) (rules.Rule, error) {
	var r rules.Rule
	if err := json.Unmarshal([]byte(spec), &r); err != nil {
		return rules.Rule{}, fmt.Errorf("decode rule: %w", err)
	}
	return r, nil
}

func (row *ruleRow) rule() (rules.Rule, error) {
	r, err := decode(row.Spec)
	if err != nil {
		return rules.Rule{}, fmt.Errorf("rule %d: %w", row.ID, err)
	}
	// The columns are the truth for what the store itself manages.
	r.ID, r.Version, r.Status = row.ID, row.Version, rules.Status(row.Status)
	r.CreatedAt, r.UpdatedAt = row.CreatedAt, row.UpdatedAt
	return r, nil
}

// Create inserts r as version 1 with its snapshot and budget pool.
func (s *Store) Create(ctx context.Context, r *rules.Rule) error {
	conn := s.db.Conn(ctx)
	row := ruleRow{Spec: "{}"}
	r.Version = 1
	if err := encode(r, &row); err != nil {
		return err
	}
	row.ID, row.Spec = 0, "{}"
	if err := conn.Create(&row).Error; err != nil {
		return fmt.Errorf("insert rule: %w", err)
	}
	r.ID = row.ID
	if err := encode(r, &row); err != nil {
		return err
	}
	if err := conn.Model(&ruleRow{}).Where("id = ?", row.ID).Update("spec", row.Spec).Error; err != nil {
		return fmt.Errorf("insert rule: %w", err)
	}
	if err := s.addVersion(conn, &row); err != nil {
		return err
	}
	if r.Budget > 0 {
		b := budgetRow{RuleID: r.ID, Total: r.Budget, UpdatedAt: row.UpdatedAt}
		if err := conn.Create(&b).Error; err != nil {
			return fmt.Errorf("insert budget of rule %d: %w", r.ID, err)
		}
	}
	return nil
}

func (s *Store) addVersion(conn *gorm.DB, row *ruleRow) error {
	v := versionRow{RuleID: row.ID, Version: row.Version, Status: row.Status, Spec: row.Spec, CreatedAt: row.UpdatedAt}
	if err := conn.Create(&v).Error; err != nil {
		if repo.IsDuplicate(err) {
			return domain.Errorf(domain.Conflict, "rule %d was changed meanwhile", row.ID)
		}
		return fmt.Errorf("insert version %d of rule %d: %w", row.Version, row.ID, err)
	}
	return nil
}

// current loads the current row of a live (not deleted) rule, locked.
func (s *Store) current(conn *gorm.DB, id int64) (ruleRow, error) {
	var cur ruleRow
	err := s.db.ForUpdate(conn.Where("id = ?", id)).Take(&cur).Error
	if repo.IsNotFound(err) || (err == nil && cur.Status == string(rules.Deleted)) {
		return ruleRow{}, notFound(id)
	}
	if err != nil {
		return ruleRow{}, fmt.Errorf("load rule %d: %w", id, err)
	}
	return cur, nil
}

// replace writes next as the new current version of the rule whose current
// row is cur.
func (s *Store) replace(conn *gorm.DB, cur, next *ruleRow) error {
	res := conn.Model(&ruleRow{}).Where("id = ? AND version = ?", cur.ID, cur.Version).Updates(map[string]any{
		"name": next.Name, "trigger_kind": next.TriggerKind, "status": next.Status, "priority": next.Priority,
		"version": next.Version, "valid_from": next.ValidFrom, "valid_to": next.ValidTo, "spec": next.Spec,
		"updated_at": next.UpdatedAt,
	})
	if res.Error != nil {
		return fmt.Errorf("update rule %d: %w", cur.ID, res.Error)
	}
	if res.RowsAffected != 1 {
		return domain.Errorf(domain.Conflict, "rule %d was changed meanwhile", cur.ID)
	}
	return s.addVersion(conn, next)
}

// Update stores r as the next version of rule r.ID and moves its budget
// pool by the change of the total.
func (s *Store) Update(ctx context.Context, r *rules.Rule) error {
	conn := s.db.Conn(ctx)
	cur, err := s.current(conn, r.ID)
	if err != nil {
		return err
	}
	if cur.Version != r.Version {
		return domain.Errorf(domain.Conflict, "rule %d is at version %d, not %d: reload and edit again", r.ID, cur.Version, r.Version)
	}
	old, err := cur.rule()
	if err != nil {
		return err
	}
	r.Version, r.CreatedAt = cur.Version+1, cur.CreatedAt
	var next ruleRow
	if err := encode(r, &next); err != nil {
		return err
	}
	if err := s.replace(conn, &cur, &next); err != nil {
		return err
	}
	if r.Budget == 0 || r.Budget == old.Budget {
		return nil
	}
	// What was spent stays spent: the pool now holds the new total minus it.
	var n int64
	if err := conn.Model(&budgetRow{}).Where("rule_id = ?", r.ID).Count(&n).Error; err != nil {
		return fmt.Errorf("load budget of rule %d: %w", r.ID, err)
	}
	if n == 0 {
		b := budgetRow{RuleID: r.ID, Total: r.Budget, UpdatedAt: next.UpdatedAt}
		if err := conn.Create(&b).Error; err != nil {
			return fmt.Errorf("insert budget of rule %d: %w", r.ID, err)
		}
		return nil
	}
	err = conn.Model(&budgetRow{}).Where("rule_id = ?", r.ID).Updates(map[string]any{"total": r.Budget, "updated_at": next.UpdatedAt}).Error
	if err != nil {
		return fmt.Errorf("update budget of rule %d: %w", r.ID, err)
	}
	return nil
}

// Delete marks the rule deleted as a new version.
func (s *Store) Delete(ctx context.Context, id int64, at time.Time) error {
	conn := s.db.Conn(ctx)
	cur, err := s.current(conn, id)
	if err != nil {
		return err
	}
	r, err := cur.rule()
	if err != nil {
		return err
	}
	r.Version, r.Status, r.UpdatedAt = cur.Version+1, rules.Deleted, at
	var next ruleRow
	if err := encode(&r, &next); err != nil {
		return err
	}
	return s.replace(conn, &cur, &next)
}

// Get returns the current version of a rule, with its remaining budget.
func (s *Store) Get(ctx context.Context, id int64) (rules.Rule, error) {
	conn := s.db.Conn(ctx)
	var row ruleRow
	err := conn.Where("id = ?", id).Take(&row).Error
	if repo.IsNotFound(err) {
		return rules.Rule{}, notFound(id)
	}
	if err != nil {
		return rules.Rule{}, fmt.Errorf("load rule %d: %w", id, err)
	}
	r, err := row.rule()
	if err != nil {
		return rules.Rule{}, err
	}
	list := []rules.Rule{r}
	if err := s.fillBudgets(conn, list); err != nil {
		return rules.Rule{}, err
	}
	return list[0], nil
}

// GetVersion returns the snapshot of one version of a rule.
func (s *Store) GetVersion(ctx context.Context, id int64, version int) (rules.Rule, error) {
	var row versionRow
	err := s.db.Conn(ctx).Where("rule_id = ? AND version = ?", id, version).Take(&row).Error
	if repo.IsNotFound(err) {
		return rules.Rule{}, domain.Errorf(domain.NotFound, "rule %d has no version %d", id, version)
	}
	if err != nil {
		return rules.Rule{}, fmt.Errorf("load rule %d version %d: %w", id, version, err)
	}
	r, err := decode(row.Spec)
	if err != nil {
		return rules.Rule{}, fmt.Errorf("rule %d version %d: %w", id, version, err)
	}
	return r, nil
}

// List returns the current versions of the rules matching f, by id.
// Deleted rules are listed only when f.Status is deleted.
func (s *Store) List(ctx context.Context, f rules.Filter) ([]rules.Rule, error) {
	conn := s.db.Conn(ctx)
	q := conn.Model(&ruleRow{})
	if f.Trigger != "" {
		q = q.Where("trigger_kind = ?", string(f.Trigger))
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	} else {
		q = q.Where("status <> ?", string(rules.Deleted))
	}
	var rows []ruleRow
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	out := make([]rules.Rule, 0, len(rows))
	for i := range rows {
		r, err := rows[i].rule()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := s.fillBudgets(conn, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) fillBudgets(conn *gorm.DB, rs []rules.Rule) error {
	var ids []int64
	for _, r := range rs {
		if r.Budget > 0 {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var bs []budgetRow
	if err := conn.Where("rule_id IN ?", ids).Find(&bs).Error; err != nil {
		return fmt.Errorf("load budgets: %w", err)
	}
	left := make(map[int64]int64, len(bs))
	for _, b := range bs {
		left[b.RuleID] = b.remaining()
	}
	for i := range rs {
		rs[i].BudgetRemaining = left[rs[i].ID]
	}
	return nil
}

// ActiveFor returns the active rules of trigger whose validity window
// contains at. The window is checked here in Go rather than in SQL: SQLite
// keeps times as text, and a trigger has a handful of rules.
func (s *Store) ActiveFor(ctx context.Context, trigger rules.Trigger, at time.Time) ([]rules.Rule, error) {
	var rows []ruleRow
	err := s.db.Conn(ctx).Where("trigger_kind = ? AND status = ?", string(trigger), string(rules.Active)).Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("active rules for %s: %w", trigger, err)
	}
	out := make([]rules.Rule, 0, len(rows))
	for i := range rows {
		row := &rows[i]
		if (row.ValidFrom != nil && at.Before(*row.ValidFrom)) || (row.ValidTo != nil && !at.Before(*row.ValidTo)) {
			continue
		}
		r, err := row.rule()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Awarded sums what rule ruleID awarded memberID on days from..to. Inside
// a transaction on MySQL the read locks the rows and gaps it covers, so a
// concurrent event of the same member waits (or deadlocks and is retried by
// repo.DB.InTx) instead of passing the cap twice; on SQLite the immediate
// transaction already serialises writers.
func (s *Store) Awarded(ctx context.Context, memberID, ruleID int64, from, to domain.Day) (int64, error) {
	if repo.InTransaction(ctx) && s.db.Dialect() == repo.MySQL {
		// Under READ COMMITTED a locking read of rows that do not exist
		// yet locks nothing: two first events of one member in a period
		// would both see no usage and both pass the cap. The period's
		// first day row is made to exist (points unchanged) and so is
		// locked by this statement; a concurrent event of the member and
		// rule in the same period waits here until this one commits, then
		// reads what it recorded.
		if err := s.db.Conn(ctx).Exec(`INSERT INTO rule_usage (member_id, rule_id, day, points) VALUES (?, ?, ?, 0)
			ON DUPLICATE KEY UPDATE points = points`, memberID, ruleID, from.Int()).Error; err != nil {
			return 0, fmt.Errorf("usage of rule %d by member %d: %w", ruleID, memberID, err)
		}
	}
	q := s.db.Conn(ctx).Model(&usageRow{}).Select("COALESCE(SUM(points), 0)").
		Where("member_id = ? AND rule_id = ? AND day BETWEEN ? AND ?", memberID, ruleID, from.Int(), to.Int())
	if repo.InTransaction(ctx) {
		q = s.db.ForUpdate(q)
	}
	var n int64
	if err := q.Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("usage of rule %d by member %d: %w", ruleID, memberID, err)
	}
	return n, nil
}

// Add records points awarded by rule ruleID to memberID on day.
func (s *Store) Add(ctx context.Context, memberID, ruleID int64, day domain.Day, points int64) error {
	row := usageRow{MemberID: memberID, RuleID: ruleID, Day: day.Int(), Points: points}
	err := s.db.Conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "member_id"}, {Name: "rule_id"}, {Name: "day"}},
		DoUpdates: clause.Assignments(map[string]any{"points": gorm.Expr("points + ?", points)}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("record usage of rule %d by member %d: %w", ruleID, memberID, err)
	}
	return nil
}

// Remaining returns what the budget pool of ruleID still holds (0 when the
// rule has no pool row).
func (s *Store) Remaining(ctx context.Context, ruleID int64) (int64, error) {
	var b budgetRow
	err := s.db.Conn(ctx).Where("rule_id = ?", ruleID).Take(&b).Error
	if repo.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("budget of rule %d: %w", ruleID, err)
	}
	return b.remaining(), nil
}

// Reserve takes up to points from the pool of ruleID and returns what it
// took. Every reservation is an UPDATE conditioned on the pool holding at
// least that much, so spent never passes total; the first try takes
// everything, and only a short pool needs a locked read of what is left.
func (s *Store) Reserve(ctx context.Context, ruleID int64, points int64) (int64, error) {
	if points <= 0 {
		return 0, nil
	}
	conn := s.db.Conn(ctx)
	take := func(n int64) (bool, error) {
		res := conn.Exec("UPDATE rule_budgets SET spent = spent + ? WHERE rule_id = ? AND total - spent >= ?", n, ruleID, n)
		if res.Error != nil {
			return false, fmt.Errorf("reserve %d from budget of rule %d: %w", n, ruleID, res.Error)
		}
		return res.RowsAffected == 1, nil
	}
	if ok, err := take(points); ok || err != nil {
		if err != nil {
			return 0, err
		}
		return points, nil
	}
	// Short pool: take what is left. Without a transaction the read is not
	// locked, so another order may drain the pool first: try again.
	for range 10 {
		var left int64
		err := s.db.ForUpdate(conn.Model(&budgetRow{}).Select("total - spent").Where("rule_id = ?", ruleID)).Row().Scan(&left)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("budget of rule %d: %w", ruleID, err)
		}
		if left <= 0 {
			return 0, nil
		}
		n := min(left, points)
		ok, err := take(n)
		if err != nil {
			return 0, err
		}
		if ok {
			return n, nil
		}
	}
	return 0, domain.Errorf(domain.Conflict, "budget of rule %d is too contended, try again", ruleID)
}

var (
	_ rules.BatchUsage  = (*Store)(nil)
	_ rules.BatchBudget = (*Store)(nil)
)

// UsageDays implements rules.BatchUsage: one read of every pair's usage
// rows on days from..to, locked inside a transaction on MySQL like Awarded.
func (s *Store) UsageDays(ctx context.Context, pairs []rules.MemberRule, from, to domain.Day) (map[rules.MemberRule]map[int]int64, error) {
	out := map[rules.MemberRule]map[int]int64{}
	if len(pairs) == 0 {
		return out, nil
	}
	cond := make([][]any, len(pairs))
	for i, p := range pairs {
		cond[i] = []any{p.Member, p.Rule}
	}
	q := s.db.Conn(ctx).Model(&usageRow{}).Where("(member_id, rule_id) IN ? AND day BETWEEN ? AND ?", cond, from.Int(), to.Int())
	if repo.InTransaction(ctx) {
		q = s.db.ForUpdate(q)
	}
	var rows []usageRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("usage of %d member rules: %w", len(pairs), err)
	}
	for _, r := range rows {
		k := rules.MemberRule{Member: r.MemberID, Rule: r.RuleID}
		if out[k] == nil {
			out[k] = map[int]int64{}
		}
		out[k][r.Day] += r.Points
	}
	return out, nil
}

// AddMany implements rules.BatchUsage with one multi-row upsert, sent
// with the transaction's next statement or its COMMIT in a pipelined
// transaction (repo.DB.Later).
func (s *Store) AddMany(ctx context.Context, adds []rules.UsageAdd) error {
	if len(adds) == 0 {
		return nil
	}
	args := make([]any, 0, 4*len(adds))
	for _, a := range adds {
		args = append(args, a.Member, a.Rule, a.Day.Int(), a.Points)
	}
	q := `INSERT INTO rule_usage (member_id, rule_id, day, points) VALUES ` + repo.RowsOf(len(adds), 4)
	if s.db.Dialect() == repo.MySQL {
		q += ` ON DUPLICATE KEY UPDATE points = points + VALUES(points)`
	} else {
		q += ` ON CONFLICT (member_id, rule_id, day) DO UPDATE SET points = rule_usage.points + excluded.points`
	}
	if err := s.db.Later(ctx, nil, q, args...); err != nil {
		return fmt.Errorf("record usage of %d member rules: %w", len(adds), err)
	}
	return nil
}

// LockPools implements rules.BatchBudget.
func (s *Store) LockPools(ctx context.Context, ruleIDs []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(ruleIDs))
	if len(ruleIDs) == 0 {
		return out, nil
	}
	var bs []budgetRow
	if err := s.db.ForUpdate(s.db.Conn(ctx).Where("rule_id IN ?", ruleIDs).Order("rule_id")).Find(&bs).Error; err != nil {
		return nil, fmt.Errorf("lock budgets: %w", err)
	}
	for _, b := range bs {
		out[b.RuleID] = b.remaining()
	}
	return out, nil
}

// TakePools implements rules.BatchBudget: one conditional UPDATE per pool,
// so spent never passes total even if the pool was not locked.
func (s *Store) TakePools(ctx context.Context, taken map[int64]int64) error {
	ids := make([]int64, 0, len(taken))
	for id := range taken {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, k int) bool { return ids[i] < ids[k] })
	conn := s.db.Conn(ctx)
	for _, id := range ids {
		n := taken[id]
		if n <= 0 {
			continue
		}
		res := conn.Exec("UPDATE rule_budgets SET spent = spent + ? WHERE rule_id = ? AND total - spent >= ?", n, id, n)
		if res.Error != nil {
			return fmt.Errorf("reserve %d from budget of rule %d: %w", n, id, res.Error)
		}
		if res.RowsAffected != 1 {
			return domain.Errorf(domain.Conflict, "budget of rule %d no longer holds %d points", id, n)
		}
	}
	return nil
}
