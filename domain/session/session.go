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
	// InsertMany stores ts, in the caller's unit of work, without
	// reporting their ids.
	InsertMany(ctx context.Context, ts []*Token) error
	// ByHash returns the token with that hash or a NotFound *domain.Error.
	ByHash(ctx context.Context, hash string) (*Token, error)
	// MarkUsed sets used_at if it is still empty; false means it was spent already.
	MarkUsed(ctx context.Context, id int64, at time.Time) (bool, error)
	RevokeFamily(ctx context.Context, family string, at time.Time) error
}

// Denylist remembers, until they expire, the sessions and access tokens
// that must no longer be accepted. Ids are "s:<session>" and "j:<jti>".
type Denylist interface {
	// Deny adds id until the time given (inside the caller's unit of work
	// when there is one).
	Deny(ctx context.Context, id string, until time.Time) error
	// Denied reports whether any of ids is denied. It may answer from a
	// copy (Redis) that a denial reaches a moment after it committed.
	Denied(ctx context.Context, ids ...string) (bool, error)
	// DeniedInRecord is Denied asked of the record itself (the
	// database), never of a copy.
	DeniedInRecord(ctx context.Context, ids ...string) (bool, error)
}

// Service issues, rotates and revokes refresh tokens, and says whether an
// access token's session is still open.
type Service struct {
	Store    Store
	Denylist Denylist
	Tx       domain.UnitOfWork
	Clock    domain.Clock
	TTL      time.Duration
	// AccessTTL is how long an access token lives: a closed session stays
	// on the denylist that long, after which its tokens have expired anyway.
	AccessTTL time.Duration
}

var errClosed = domain.Errorf(domain.Unauthorized, "this session has ended (logged out); log in again")

// Check refuses an access token whose session (sid, empty for tokens
// without one) or whose own id (jti) was ended before the token expired.
func (s *Service) Check(ctx context.Context, sid, jti string) error {
	ids := DenyIDs(sid, jti)
	if len(ids) == 0 {
		return nil
	}
	denied, err := s.Denylist.Denied(ctx, ids...)
	if err != nil {
		return err
	}
	if denied {
		return errClosed
	}
	return nil
}

// DenyIDs are the denylist ids an access token of session sid with id jti
// is refused by: its session's when it has one (End denies a session, and
// never the token of a session on its own), else its own id; none when it
// has neither. One decision for End and for every check, so a check reads
// no key that End never writes.
func DenyIDs(sid, jti string) []string {
	switch {
	case sid != "":
		return []string{"s:" + sid}
	case jti != "":
		return []string{"j:" + jti}
	}
	return nil
}

// Closed is Check's error for a session that was ended.
func Closed() error { return errClosed }

// RenewalSlack is how much longer than AccessTTL End denies a session:
// more than a sign-out takes from reading the clock to committing its
// denial, plus the clocks' difference between instances.
const RenewalSlack = time.Minute

// CheckRenewal is Check asked of the record, never of a copy that may not
// hold a denial yet (Denied's Redis, in the second after a sign-out whose
// copy failed, or one that lost it): a session whose tokens are renewed
// (the console's page session: a new token of the same session, past half
// the old one's life) is renewed only after it. So no renewed token
// outlives End's denial: a renewal that read the record before the
// sign-out committed made a token that expires at most AccessTTL after
// that, within the denial's AccessTTL + RenewalSlack; one that read it
// after is refused. Every token of an ended session has expired when its
// denial does.
func (s *Service) CheckRenewal(ctx context.Context, sid, jti string) error {
	ids := DenyIDs(sid, jti)
	if len(ids) == 0 {
		return nil
	}
	denied, err := s.Denylist.DeniedInRecord(ctx, ids...)
	if err != nil {
		return err
	}
	if denied {
		return errClosed
	}
	return nil
}

// End stops, until they expire, the access tokens of session sid — or,
// for a token without a session, that one token (jti): a console sign-out.
// The session stays denied RenewalSlack longer than its tokens live, so
// that a renewal racing the sign-out makes no token that outlives it
// (CheckRenewal).
func (s *Service) End(ctx context.Context, sid, jti string) error {
	until := s.Clock.Now().Add(s.AccessTTL + RenewalSlack)
	for _, id := range DenyIDs(sid, jti) {
		if err := s.Denylist.Deny(ctx, id, until); err != nil {
			return err
		}
	}
	return nil
}

// closeFamily revokes the refresh tokens of family and denies the access
// tokens issued under it.
func (s *Service) closeFamily(ctx context.Context, family string, now time.Time) error {
	if err := s.Store.RevokeFamily(ctx, family, now); err != nil {
		return err
	}
	return s.Denylist.Deny(ctx, DenyIDs(family, "")[0], now.Add(s.AccessTTL))
}

var errInvalid = domain.Errorf(domain.Unauthorized, "refresh token invalid or expired; log in again")

// Started is a session Issue started: its first refresh token (raw) and
// the session id that access tokens of the login carry.
type Started struct {
	Raw string
	SID string
}

// Issue starts a new family for each of subjects (in order), in the
// caller's unit of work.
func (s *Service) Issue(ctx context.Context, audience string, subjects ...int64) ([]Started, error) {
	out := make([]Started, len(subjects))
	ts := make([]*Token, len(subjects))
	for i, subject := range subjects {
		family := randomString(12)
		out[i].Raw, ts[i] = s.newToken(audience, subject, family)
		out[i].SID = family
	}
	if err := s.Store.InsertMany(ctx, ts); err != nil {
		return nil, err
	}
	return out, nil
}

// Rotate spends raw and returns its subject, its session id and the next
// token of the family.
func (s *Service) Rotate(ctx context.Context, audience, raw string) (subject int64, sid, next string, err error) {
	if raw == "" || len(raw) > 128 {
		return 0, "", "", errInvalid
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
			return s.closeFamily(ctx, t.Family, now)
		}
		var nt *Token
		next, nt = s.newToken(audience, t.Subject, t.Family)
		subject, sid = t.Subject, t.Family
		return s.Store.Insert(ctx, nt)
	})
	if err != nil {
		return 0, "", "", err
	}
	if reused {
		return 0, "", "", domain.Errorf(domain.Unauthorized, "refresh token reused; every session of this login was revoked, log in again")
	}
	return subject, sid, next, nil
}

// Revoke ends the family of raw (logout): its refresh tokens, and at once
// every access token issued under it. Unknown tokens are ignored so logout
// never fails on a stale client.
func (s *Service) Revoke(ctx context.Context, raw string) error {
	if raw == "" {
		return nil
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		t, err := s.Store.ByHash(ctx, hashToken(raw))
		if domain.ErrorCode(err) == domain.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		return s.closeFamily(ctx, t.Family, s.Clock.Now())
	})
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
