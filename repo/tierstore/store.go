// Package tierstore keeps member tiers (domain/tier) and birthday awards
// (domain/birthday) in MySQL or SQLite, joining the transaction in the
// context.
//
// A member's tier row is locked for the unit of work that changes it:
// SELECT … FOR UPDATE on MySQL; on SQLite the immediate transaction
// already holds the database's write lock.
//
// # A group's rows
//
// LockMany locks a group's rows with one locked read (ascending member
// id) and, only when some are missing, one multi-row insert-if-missing
// and a locked read of those; SaveMany is one UPDATE of them all.
//
// TakeRows (tier.RowTaker, behind tier.Service.LockMembers) queues the
// locked read (FOR UPDATE on MySQL) of LockMany in a pipelined
// transaction (repo.DB.InPipelinedTx): it travels with the transaction's
// next statement, so the rows are locked at the place of that statement
// in the group's lock order, and the next LockMany it covers reads again
// only the rows that were missing; outside one it does nothing. SaveMany's
// UPDATE travels with the next statement or the COMMIT (repo.DB.Later).
package tierstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/birthday"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/tier"
	"github.com/jifen/jifen/repo"
)

// Store implements tier.Store and birthday.Store.
type Store struct {
	DB      *repo.DB
	Members interface {
		ByID(ctx context.Context, id int64) (*member.Member, error)
	}
}

var (
	_ tier.Store     = (*Store)(nil)
	_ birthday.Store = (*Store)(nil)
)

type tierRow struct {
	MemberID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Level      string
	GrowthFen  int64
	PaidOrders int64
	WeekStart  int
	WeekOrders int64
	ReachedAt  time.Time
	ReviewAt   time.Time
	UpdatedAt  time.Time
}

func (tierRow) TableName() string { return "member_tiers" }

type purchaseRow struct {
	MemberID  int64  `gorm:"primaryKey;autoIncrement:false"`
	IdemKey   string `gorm:"primaryKey"`
	FromLevel string
	ToLevel   string
	Points    int64
	EntryID   int64
	CreatedAt time.Time
}

func (purchaseRow) TableName() string { return "tier_purchases" }

type awardRow struct {
	MemberID  int64 `gorm:"primaryKey;autoIncrement:false"`
	Year      int   `gorm:"primaryKey;autoIncrement:false"`
	Points    int64
	CreatedAt time.Time
}

func (awardRow) TableName() string { return "birthday_awards" }

func (r tierRow) toDomain() tier.State {
	return tier.State{MemberID: r.MemberID, Level: r.Level, GrowthFen: r.GrowthFen, PaidOrders: r.PaidOrders,
		WeekStart: r.WeekStart, WeekOrders: r.WeekOrders, ReachedAt: r.ReachedAt, ReviewAt: r.ReviewAt, UpdatedAt: r.UpdatedAt}
}

// Update implements tier.Store: insert-if-missing, then a locked read.
func (s *Store) Update(ctx context.Context, init tier.State, fn func(st *tier.State) error) error {
	conn := s.DB.Conn(ctx)
	ins := tierRow{MemberID: init.MemberID, Level: init.Level, ReachedAt: init.ReachedAt.UTC(), ReviewAt: init.ReviewAt.UTC(), UpdatedAt: init.UpdatedAt.UTC()}
	if err := conn.Clauses(clause.OnConflict{DoNothing: true}).Create(&ins).Error; err != nil {
		return fmt.Errorf("tier row of member %d: %w", init.MemberID, err)
	}
	var r tierRow
	if err := s.DB.ForUpdate(conn.Where("member_id = ?", init.MemberID)).Take(&r).Error; err != nil {
		return fmt.Errorf("lock tier of member %d: %w", init.MemberID, err)
	}
	st := r.toDomain()
	if err := fn(&st); err != nil {
		return err
	}
	err := conn.Model(&tierRow{}).Where("member_id = ?", st.MemberID).Updates(map[string]any{
		"level": st.Level, "growth_fen": st.GrowthFen, "paid_orders": st.PaidOrders, "week_start": st.WeekStart,
		"week_orders": st.WeekOrders, "reached_at": st.ReachedAt.UTC(),
		"review_at": st.ReviewAt.UTC(), "updated_at": st.UpdatedAt.UTC(),
	}).Error
	if err == nil {
		s.DB.Touch(ctx, st.MemberID) // the member's cached views show the tier (repo/touch.go)
	}
	return err
}

// Get implements tier.Store.
func (s *Store) Get(ctx context.Context, memberID int64) (tier.State, bool, error) {
	var r tierRow
	err := s.DB.Conn(ctx).Where("member_id = ?", memberID).Take(&r).Error
	if repo.IsNotFound(err) {
		return tier.State{}, false, nil
	}
	if err != nil {
		return tier.State{}, false, err
	}
	return r.toDomain(), true, nil
}

// GetMany implements tier.Store.
func (s *Store) GetMany(ctx context.Context, memberIDs []int64) (map[int64]tier.State, error) {
	out := make(map[int64]tier.State, len(memberIDs))
	if len(memberIDs) == 0 {
		return out, nil
	}
	var rs []tierRow
	if err := s.DB.Conn(ctx).Where("member_id IN ?", memberIDs).Find(&rs).Error; err != nil {
		return nil, err
	}
	for _, r := range rs {
		out[r.MemberID] = r.toDomain()
	}
	return out, nil
}

// PurchaseByKey implements tier.Store.
func (s *Store) PurchaseByKey(ctx context.Context, memberID int64, key string) (tier.Purchase, bool, error) {
	var r purchaseRow
	err := s.DB.Conn(ctx).Where("member_id = ? AND idem_key = ?", memberID, key).Take(&r).Error
	if repo.IsNotFound(err) {
		return tier.Purchase{}, false, nil
	}
	if err != nil {
		return tier.Purchase{}, false, err
	}
	return tier.Purchase{MemberID: r.MemberID, Key: r.IdemKey, From: r.FromLevel, To: r.ToLevel, Points: r.Points, EntryID: r.EntryID, CreatedAt: r.CreatedAt}, true, nil
}

// InsertPurchase implements tier.Store.
func (s *Store) InsertPurchase(ctx context.Context, p *tier.Purchase) error {
	r := purchaseRow{MemberID: p.MemberID, IdemKey: p.Key, FromLevel: p.From, ToLevel: p.To, Points: p.Points, EntryID: p.EntryID, CreatedAt: p.CreatedAt.UTC()}
	err := s.DB.Conn(ctx).Create(&r).Error
	if repo.IsDuplicate(err) {
		return domain.Errorf(domain.Conflict, "an upgrade with this idempotency key is in flight; retry")
	}
	return err
}

// DueForReview implements tier.Store.
func (s *Store) DueForReview(ctx context.Context, now time.Time, after int64, limit int) ([]int64, error) {
	var ids []int64
	err := s.DB.Conn(ctx).Model(&tierRow{}).Where("review_at <= ? AND member_id > ?", now.UTC(), after).
		Order("member_id").Limit(limit).Pluck("member_id", &ids).Error
	return ids, err
}

// BornOn implements birthday.Store: birthdays are stored "YYYY-MM-DD".
func (s *Store) BornOn(ctx context.Context, month time.Month, day int, after int64, limit int) ([]*member.Member, error) {
	var ids []int64
	err := s.DB.Conn(ctx).Table("members").Where("birthday LIKE ? AND id > ?", fmt.Sprintf("%%-%02d-%02d", month, day), after).
		Order("id").Limit(limit).Pluck("id", &ids).Error
	if err != nil {
		return nil, err
	}
	out := make([]*member.Member, 0, len(ids))
	for _, id := range ids {
		m, err := s.Members.ByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// ClaimYear implements birthday.Store.
func (s *Store) ClaimYear(ctx context.Context, memberID int64, year int, points int64, at time.Time) (bool, error) {
	res := s.DB.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&awardRow{MemberID: memberID, Year: year, Points: points, CreatedAt: at.UTC()})
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

var _ tier.BatchStore = (*Store)(nil)

func toRow(st tier.State) tierRow {
	return tierRow{MemberID: st.MemberID, Level: st.Level, GrowthFen: st.GrowthFen, PaidOrders: st.PaidOrders,
		WeekStart: st.WeekStart, WeekOrders: st.WeekOrders, ReachedAt: st.ReachedAt.UTC(), ReviewAt: st.ReviewAt.UTC(), UpdatedAt: st.UpdatedAt.UTC()}
}

// LockMany implements tier.BatchStore: one locked read of the rows
// (ascending member id), or none when a TakeRows of the same
// transaction read them; only when some are missing, one multi-row
// insert-if-missing and a locked read of those.
func (s *Store) LockMany(ctx context.Context, inits []tier.State) (map[int64]tier.State, error) {
	out := make(map[int64]tier.State, len(inits))
	if len(inits) == 0 {
		return out, nil
	}
	conn := s.DB.Conn(ctx)
	lock := func(ids []int64) error {
		var rows []tierRow
		if err := s.DB.ForUpdate(conn.Where("member_id IN ?", ids).Order("member_id")).Find(&rows).Error; err != nil {
			return fmt.Errorf("lock tiers of %d members: %w", len(ids), err)
		}
		for _, r := range rows {
			out[r.MemberID] = r.toDomain()
		}
		return nil
	}
	ids := make([]int64, len(inits))
	for i, st := range inits {
		ids[i] = st.MemberID
	}
	if p := repo.TakePrefetch[tier.State](ctx, prelockKey{}); p != nil && p.Covers(ids) {
		maps.Copy(out, p.Pick(ids))
	} else if err := lock(ids); err != nil {
		return nil, err
	}
	var ins []tierRow
	ids = ids[:0]
	for _, st := range inits {
		if _, ok := out[st.MemberID]; !ok {
			ins = append(ins, tierRow{MemberID: st.MemberID, Level: st.Level, ReachedAt: st.ReachedAt.UTC(), ReviewAt: st.ReviewAt.UTC(), UpdatedAt: st.UpdatedAt.UTC()})
			ids = append(ids, st.MemberID)
		}
	}
	if len(ins) == 0 {
		return out, nil
	}
	if err := conn.Clauses(clause.OnConflict{DoNothing: true}).Create(&ins).Error; err != nil {
		return nil, fmt.Errorf("tier rows of %d members: %w", len(ins), err)
	}
	if err := lock(ids); err != nil {
		return nil, err
	}
	return out, nil
}

var _ tier.RowTaker = (*Store)(nil)

type prelockKey struct{}

// TakeRows implements tier.RowTaker: in a pipelined transaction the
// locked read of LockMany travels with the transaction's next statement,
// and the next LockMany covered by it reads only the rows it inserts.
// Outside one it does nothing (LockMany reads as usual).
func (s *Store) TakeRows(ctx context.Context, memberIDs []int64) error {
	if !repo.Pipelined(ctx) || len(memberIDs) == 0 {
		return nil
	}
	ids := slices.Clone(memberIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := `SELECT member_id, level, growth_fen, paid_orders, week_start, week_orders, reached_at, review_at, updated_at
		FROM member_tiers WHERE member_id IN (` + repo.Marks(len(ids)) + `) ORDER BY member_id`
	if s.DB.Dialect() == repo.MySQL {
		q += " FOR UPDATE"
	}
	conn := s.DB.Conn(ctx)
	return repo.PrefetchRows(ctx, s.DB, prelockKey{}, ids, func(rows *sql.Rows) (int64, tier.State, error) {
		var r tierRow
		if err := conn.ScanRows(rows, &r); err != nil {
			return 0, tier.State{}, fmt.Errorf("lock tiers of %d members: %w", len(ids), err)
		}
		return r.MemberID, r.toDomain(), nil
	}, q, args...)
}

// SaveMany implements tier.BatchStore with one UPDATE of rows that
// LockMany locked, sent with the transaction's next statement or its
// COMMIT in a pipelined transaction (repo.DB.Later).
func (s *Store) SaveMany(ctx context.Context, sts []tier.State) error {
	if len(sts) == 0 {
		return nil
	}
	q, args := repo.CaseUpdate("member_tiers", "member_id", len(sts),
		[]string{"level", "growth_fen", "paid_orders", "week_start", "week_orders", "reached_at", "review_at", "updated_at"},
		func(i int) (any, []any) {
			r := toRow(sts[i])
			return r.MemberID, []any{r.Level, r.GrowthFen, r.PaidOrders, r.WeekStart, r.WeekOrders, r.ReachedAt, r.ReviewAt, r.UpdatedAt}
		})
	if err := s.DB.Later(ctx, nil, q, args...); err != nil {
		return fmt.Errorf("save tiers of %d members: %w", len(sts), err)
	}
	ids := make([]int64, len(sts))
	for i, st := range sts {
		ids[i] = st.MemberID
	}
	s.DB.Touch(ctx, ids...) // their cached views show the tier (repo/touch.go)
	return nil
}
