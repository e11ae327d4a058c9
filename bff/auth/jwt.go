// Package auth issues and verifies Jifen's access tokens: HS256 JWTs with
// the algorithm pinned, iss/aud/exp checked and a key id (kid) so keys can be
// rotated (previous keys stay accepted until removed).
package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jifen/jifen/domain"
)

// Audiences.
const (
	Shopper = "shopper"
	Guide   = "guide"
	Console = "console"
)

// Tokens signs and verifies access tokens.
type Tokens struct {
	Issuer string
	Kid    string
	Keys   map[string][]byte // kid → secret; must contain Kid
	TTL    time.Duration
	Clock  domain.Clock

	// verified remembers tokens whose signature and issuer were checked
	// (by the raw token), so a client's every request with the same token
	// does not parse and hash it again; the audience and the expiry are
	// checked on every request. At most verifiedMax entries: when full it starts
	// over.
	mu       sync.Mutex
	verified map[string]*Claims
}

// verifiedMax bounds the verified tokens remembered (a few hundred bytes
// each).
const verifiedMax = 4096

// Claims are what a verified token says.
type Claims struct {
	jwt.RegisteredClaims
	Role string `json:"role,omitempty"`
	// Sid is the login session (refresh-token family) the token was issued
	// under: a logout ends every token that carries it.
	Sid string `json:"sid,omitempty"`
}

// SubjectID returns the numeric subject (member or guide id); 0 if not
// numeric (ParseInt's answer to a number past int64 is the largest one,
// never a caller's id).
func (c *Claims) SubjectID() int64 {
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// subjectFits reports whether sub can name a caller of audience: the
// shopper's and the guide's tokens name a member or a guide by a positive
// id written as Jifen writes it ("42", never "042", "+42" or a number past
// int64), so no token, even one signed with a configured key, acts as
// member 0, -1 or 9223372036854775807, or as another member under a
// second spelling of its id. A console token names its user.
func subjectFits(audience, sub string) bool {
	if audience == Console {
		return sub != ""
	}
	id, err := strconv.ParseInt(sub, 10, 64)
	return err == nil && id > 0 && strconv.FormatInt(id, 10) == sub
}

// Sign issues an access token for subject in audience.
func (t *Tokens) Sign(audience, subject, role string) (string, error) {
	return t.SignSession(audience, subject, role, "")
}

// SignSession issues an access token that belongs to the login session sid.
func (t *Tokens) SignSession(audience, subject, role, sid string) (string, error) {
	now := t.Clock.Now()
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.Issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.TTL)),
			ID:        newJTI(),
		},
		Role: role,
		Sid:  sid,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = t.Kid
	key, ok := t.Keys[t.Kid]
	if !ok {
		return "", fmt.Errorf("no key for kid %q", t.Kid)
	}
	return tok.SignedString(key)
}

func newJTI() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewSessionID names a login session whose tokens carry it as sid.
func NewSessionID() string { return newJTI() }

var errToken = domain.Errorf(domain.Unauthorized, "access token missing, invalid or expired")

// Verify checks raw for audience and returns its claims. Any failure is an
// Unauthorized *domain.Error that says nothing about which check failed.
func (t *Tokens) Verify(raw, audience string) (*Claims, error) {
	t.mu.Lock()
	c, ok := t.verified[raw]
	t.mu.Unlock()
	if ok {
		// The same checks jwt.WithAudience, jwt.WithExpirationRequired
		// and the time function made: for this audience, expired at exp,
		// not before nbf; and verify's check of the subject, for this
		// audience.
		now := t.Clock.Now()
		if !slices.Contains(c.Audience, audience) || !now.Before(c.ExpiresAt.Time) ||
			(c.NotBefore != nil && now.Before(c.NotBefore.Time)) || !subjectFits(audience, c.Subject) {
			return nil, errToken
		}
		return c, nil
	}
	c, err := t.verify(raw, audience)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.verified == nil || len(t.verified) >= verifiedMax {
		t.verified = make(map[string]*Claims, 64)
	}
	t.verified[raw] = c
	t.mu.Unlock()
	return c, nil
}

// verify parses and checks raw for audience.
func (t *Tokens) verify(raw, audience string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(raw, &c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.Keys[kid]
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.Issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.Clock.Now),
	)
	if err != nil || !subjectFits(audience, c.Subject) {
		return nil, errToken
	}
	return &c, nil
}
