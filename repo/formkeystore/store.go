// Package formkeystore is the gorm implementation of formkey.Store: the
// console_form_keys table (migration 114).
package formkeystore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/domain/formkey"
	"github.com/jifen/jifen/repo"
)

type row struct {
	Actor     string `gorm:"primaryKey"`
	Form      string `gorm:"primaryKey"`
	FormKey   string `gorm:"primaryKey"`
	Result    string
	CreatedAt time.Time
}

func (row) TableName() string { return "console_form_keys" }

// Store implements formkey.Store.
type Store struct{ DB *repo.DB }

var _ formkey.Store = (*Store)(nil)

func where(db *gorm.DB, k formkey.Key) *gorm.DB {
	return db.Where("actor = ? AND form = ? AND form_key = ?", k.Actor, k.Form, k.Key)
}

// Claim inserts k; the primary key tells a copy from the first.
func (s *Store) Claim(ctx context.Context, k formkey.Key, at time.Time) (bool, string, error) {
	db := s.DB.Conn(ctx)
	// Keys past their day: few, as few as the forms sent (indexed).
	if err := db.Exec("DELETE FROM console_form_keys WHERE created_at < ?", at.Add(-formkey.Retention).UTC()).Error; err != nil {
		return false, "", fmt.Errorf("forget old form keys: %w", err)
	}
	err := db.Create(&row{Actor: k.Actor, Form: k.Form, FormKey: k.Key, CreatedAt: at.UTC()}).Error
	if err == nil {
		return true, "", nil
	}
	if !repo.IsDuplicate(err) {
		return false, "", fmt.Errorf("claim form key: %w", err)
	}
	var r row
	switch err := where(db, k).Take(&r).Error; {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return false, "", nil // released since: the caller claims again
	case err != nil:
		return false, "", fmt.Errorf("read form key: %w", err)
	}
	return false, r.Result, nil
}

// Finish stores the write's result.
func (s *Store) Finish(ctx context.Context, k formkey.Key, result string) error {
	if err := where(s.DB.Conn(ctx).Model(&row{}), k).Update("result", result).Error; err != nil {
		return fmt.Errorf("finish form key: %w", err)
	}
	return nil
}

// Release deletes k.
func (s *Store) Release(ctx context.Context, k formkey.Key) error {
	if err := where(s.DB.Conn(ctx), k).Delete(&row{}).Error; err != nil {
		return fmt.Errorf("release form key: %w", err)
	}
	return nil
}
