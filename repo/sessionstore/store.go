// Package sessionstore is the gorm implementation of session.Store.
package sessionstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/session"
	"github.com/jifen/jifen/repo"
)

type row struct {
	ID        int64 `gorm:"primaryKey"`
	Audience  string
	Subject   int64
	Family    string
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

func (row) TableName() string { return "refresh_tokens" }

// Store implements session.Store.
type Store struct{ DB *repo.DB }

var _ session.Store = (*Store)(nil)

// Insert stores a token.
func (s *Store) Insert(ctx context.Context, t *session.Token) error {
	r := row{Audience: t.Audience, Subject: t.Subject, Family: t.Family, TokenHash: t.Hash, ExpiresAt: t.ExpiresAt.UTC(), CreatedAt: t.CreatedAt.UTC()}
	if err := s.DB.Conn(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	t.ID = r.ID
	return nil
}

// InsertMany stores tokens in one multi-row INSERT, travelling with the
// next statement in a pipelined transaction (repo.DB.Later).
func (s *Store) InsertMany(ctx context.Context, ts []*session.Token) error {
	if len(ts) == 0 {
		return nil
	}
	args := make([]any, 0, 6*len(ts))
	for _, t := range ts {
		args = append(args, t.Audience, t.Subject, t.Family, t.Hash, t.ExpiresAt.UTC(), t.CreatedAt.UTC())
	}
	err := s.DB.Later(ctx, nil, "INSERT INTO refresh_tokens (audience, subject, family, token_hash, expires_at, created_at) VALUES "+
		repo.RowsOf(len(ts), 6), args...)
	if err != nil {
		return fmt.Errorf("insert refresh tokens: %w", err)
	}
	return nil
}

// ByHash loads a token by hash.
func (s *Store) ByHash(ctx context.Context, hash string) (*session.Token, error) {
	var r row
	err := s.DB.ForUpdate(s.DB.Conn(ctx)).Where("token_hash = ?", hash).Take(&r).Error
	if repo.IsNotFound(err) {
		return nil, domain.Errorf(domain.NotFound, "refresh token not found")
	}
	if err != nil {
		return nil, err
	}
	return &session.Token{ID: r.ID, Audience: r.Audience, Subject: r.Subject, Family: r.Family, Hash: r.TokenHash,
		ExpiresAt: r.ExpiresAt, UsedAt: r.UsedAt, RevokedAt: r.RevokedAt, CreatedAt: r.CreatedAt}, nil
}

// MarkUsed spends a token once.
func (s *Store) MarkUsed(ctx context.Context, id int64, at time.Time) (bool, error) {
	res := s.DB.Conn(ctx).Model(&row{}).Where("id = ? AND used_at IS NULL", id).Update("used_at", at.UTC())
	return res.RowsAffected == 1, res.Error
}

// RevokeFamily revokes every token of a family.
func (s *Store) RevokeFamily(ctx context.Context, family string, at time.Time) error {
	return s.DB.Conn(ctx).Model(&row{}).Where("family = ? AND revoked_at IS NULL", family).Update("revoked_at", at.UTC()).Error
}
