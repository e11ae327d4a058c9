// Package session keeps rotating refresh tokens. Each login starts a family;
// every refresh spends the presented token and issues the next one of the
// family. A spent token presented again means it was stolen or replayed: the
// whole family is revoked and the holder must log in again. Only SHA-256
// hashes of tokens are stored.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/jifen/jifen/domain"
)

// Token is a stored refresh token.
type Token struct {
	ID        int64
	Audience  string
	Subject   int64
	Family    string
	Hash      string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

// Store persists refresh tokens.
type Store interface {
	Insert(ctx context.Context, t *Token) error
	// ByHash returns the token with that hash or a NotFound *domain.Error.
	ByHash(ctx context.Context, hash string) (*Token, error)
	// MarkUsed sets used_at if it is still empty; false means it was spent already.
	MarkUsed(ctx context.Context, id int64, at time.Time) (bool, error)
	RevokeFamily(ctx context.Context, family string, at time.Time) error
}

// Service issues, rotates and revokes refresh tokens.
type Service struct {
	Store Store
	Tx    domain.UnitOfWork
	Clock domain.Clock
	TTL   time.Duration
}

var errInvalid = domain.Errorf(domain.Unauthorized, "refresh token invalid or expired; log in again")

// Issue starts a new family for subject and returns the raw token.
func (s *Service) Issue(ctx context.Context, audience string, subject int64) (string, error) {
	raw, t := s.newToken(audience, subject, randomString(12))
	if err := s.Store.Insert(ctx, t); err != nil {
		return "", err
	}
	return raw, nil
}

// Rotate spends raw and returns its subject and the next token of the family.
func (s *Service) Rotate(ctx context.Context, audience, raw string) (subject int64, next string, err error) {
	if raw == "" || len(raw) > 128 {
		return 0, "", errInvalid
	}
	now := s.Clock.Now()
	reused := false
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		t, err := s.Store.ByHash(ctx, hashToken(raw))
		if domain.ErrorCode(err) == domain.NotFound {
			return errInvalid
		}
		if err != nil {
			return err
		}
		if t.Audience != audience || t.RevokedAt != nil || !now.Before(t.ExpiresAt) {
			return errInvalid
		}
		ok, err := s.Store.MarkUsed(ctx, t.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			// Replay of a spent token: revoke the family and commit that.
			reused = true
			return s.Store.RevokeFamily(ctx, t.Family, now)
		}
		var nt *Token
		next, nt = s.newToken(audience, t.Subject, t.Family)
		subject = t.Subject
		return s.Store.Insert(ctx, nt)
	})
	if err != nil {
		return 0, "", err
	}
	if reused {
		return 0, "", domain.Errorf(domain.Unauthorized, "refresh token reused; every session of this login was revoked, log in again")
	}
	return subject, next, nil
}

// Revoke ends the family of raw (logout). Unknown tokens are ignored so
// logout never fails on a stale client.
func (s *Service) Revoke(ctx context.Context, raw string) error {
	if raw == "" {
		return nil
	}
	t, err := s.Store.ByHash(ctx, hashToken(raw))
	if domain.ErrorCode(err) == domain.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return s.Store.RevokeFamily(ctx, t.Family, s.Clock.Now())
}

func (s *Service) newToken(audience string, subject int64, family string) (string, *Token) {
	raw := randomString(32)
	now := s.Clock.Now()
	return raw, &Token{Audience: audience, Subject: subject, Family: family, Hash: hashToken(raw), ExpiresAt: now.Add(s.TTL), CreatedAt: now}
}

func hashToken(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS has no entropy; nothing sane to do
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
