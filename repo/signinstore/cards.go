package signinstore

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain/signin"
)

// cardRow is a member's make-up cards (table signin_cards, migration
// 1502): one row per member who ever got one, the count never negative.
type cardRow struct {
	MemberID  int64 `gorm:"primaryKey;autoIncrement:false"`
	Cards     int
	UpdatedAt time.Time
}

func (cardRow) TableName() string { return "signin_cards" }

var _ signin.Cards = (*Store)(nil)

// Cards reads the member's make-up cards (0 without a row).
func (s *Store) Cards(ctx context.Context, memberID int64) (int, error) {
	var rs []cardRow
	if err := s.DB.Conn(ctx).Where("member_id = ?", memberID).Limit(1).Find(&rs).Error; err != nil || len(rs) == 0 {
		return 0, err
	}
	return rs[0].Cards, nil
}

// AddCards adds n cards in one upsert (INSERT … ON DUPLICATE KEY UPDATE on
// MySQL, ON CONFLICT on SQLite).
func (s *Store) AddCards(ctx context.Context, memberID int64, n int) error {
	now := s.DB.Now()
	return s.DB.Conn(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "member_id"}},
		DoUpdates: clause.Assignments(map[string]any{"cards": gorm.Expr("cards + ?", n), "updated_at": now})}).
		Create(&cardRow{MemberID: memberID, Cards: n, UpdatedAt: now}).Error
}

// UseCard takes one card with a conditional UPDATE (cards > 0): a
// concurrent one waits for the row and then finds the count it left.
func (s *Store) UseCard(ctx context.Context, memberID int64) (bool, error) {
	res := s.DB.Conn(ctx).Model(&cardRow{}).Where("member_id = ? AND cards > 0", memberID).
		Updates(map[string]any{"cards": gorm.Expr("cards - 1"), "updated_at": s.DB.Now()})
	return res.RowsAffected == 1, res.Error
}
