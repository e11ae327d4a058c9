// Package member holds shoppers: WeChat login (openid is the identity,
// unionid links the brand's other WeChat apps), phone binding (one phone, one
// member) and the profile. The WeChat session_key is kept server-side only.
package member

import (
	"context"
	"strings"
	"time"
)

// Member is a shopper.
type Member struct {
	ID         int64
	OpenID     string
	UnionID    string
	Phone      string // "" until bound
	Nickname   string
	AvatarURL  string
	Birthday   string // "YYYY-MM-DD", "" until set
	CreatedAt  time.Time
	LastActive time.Time
}

// PhoneMasked returns 138****0000, or "" when no phone is bound.
func (m *Member) PhoneMasked() string { return MaskPhone(m.Phone) }

// MaskPhone keeps the first three and last four digits.
func MaskPhone(p string) string {
	if len(p) < 7 {
		return p
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}

// NormalPhone is a phone number as members' phones are stored (WeChat's
// purePhoneNumber: digits, no country code for the mainland), from what a
// person types: spaces and a leading +86 dropped, then 7 to 20 digits;
// false for anything else. The console's member search and a guide's
// phone both read numbers through it, so a number typed either way
// compares equal to the member's.
func NormalPhone(s string) (string, bool) {
	s = strings.TrimPrefix(strings.ReplaceAll(strings.TrimSpace(s), " ", ""), "+86")
	return s, digits(s) && len(s) >= 7 && len(s) <= 20
}

// WeChatSession is what login needs of code2session's answer. WeChat's
// session_key is not part of it: nothing here decrypts users' data, so it
// is neither stored nor passed on (and never logged or returned).
type WeChatSession struct {
	OpenID  string
	UnionID string
}

// MiniProgram is the part of the WeChat mini-program API login needs.
// Implementations return *domain.Error with InvalidCode, CodeUsed,
// RateLimited or Unavailable for WeChat's error codes.
type MiniProgram interface {
	Code2Session(ctx context.Context, code string) (WeChatSession, error)
	PhoneNumber(ctx context.Context, code string) (string, error)
}

// Store persists members. Lookups of a missing member return a
// *domain.Error with code NotFound.
type Store interface {
	ByID(ctx context.Context, id int64) (*Member, error)
	ByOpenID(ctx context.Context, openid string) (*Member, error)
	// Create inserts m and sets m.ID; a duplicate openid is a Conflict.
	Create(ctx context.Context, m *Member) error
	// UpdateLogin stores a fresh session key, the unionid when WeChat sent one,
	// and the activity time.
	UpdateLogin(ctx context.Context, id int64, unionID string, at time.Time) error
	// ByOpenIDs returns the members of openids that exist, by openid.
	ByOpenIDs(ctx context.Context, openids []string) (map[string]*Member, error)
	// CreateMany inserts ms (distinct openids) and sets their ids; a
	// duplicate openid is a Conflict.
	CreateMany(ctx context.Context, ms []*Member) error
	// TouchLogins records logins of the members ids at at (no unionid
	// change).
	TouchLogins(ctx context.Context, ids []int64, at time.Time) error
	// SetPhone binds phone to the member; a phone bound to another member is
	// a Conflict.
	SetPhone(ctx context.Context, id int64, phone string) error
	// SetBirthday records the birthday ("YYYY-MM-DD") of a member who has
	// none; a birthday already set is a Conflict (the check and the write
	// are one statement, so concurrent first sets store one birthday).
	SetBirthday(ctx context.Context, id int64, birthday string) error
}

// LoginInfo is what the mini-program sent besides the code.
type LoginInfo struct {
	InviteCode string // referral invite code, optional
	Scene      string // mini-program scene (e.g. "g:<guide code>"), optional
}

// Login is what a login did: the member, whether this login created it,
// and the session it started (nil when the Service has no Sessions).
type Login struct {
	Member  *Member
	IsNew   bool
	Session *Session
}

// Session is a started login session: its first refresh token and the id
// its access tokens carry.
type Session struct {
	Refresh string
	ID      string
}

// Hooks let other capabilities react to member events inside the same unit
// of work (referral binding, unmatched orders, guide binding). A hook's
// error aborts the whole operation.
type Hooks struct {
	Registered []RegisteredHook
	PhoneBound []func(ctx context.Context, m *Member) error
}

// Registration is a member a login created, with what the login brought.
type Registration struct {
	Member *Member
	Info   LoginInfo
}

// RegisteredHook is what a capability does, in the login's unit of work,
// when members are created. One handles one member. Many, optional,
// handles the members that grouped logins created together, in one go
// (a read for all of them, say, and One for those that need more); it
// must decide what One would for each.
type RegisteredHook struct {
	One  func(ctx context.Context, m *Member, info LoginInfo) error
	Many func(ctx context.Context, regs []Registration) error
}

// run calls the hook for regs: Many for several when there is one, One
// for each otherwise.
func (h RegisteredHook) run(ctx context.Context, regs []Registration) error {
	if h.Many != nil && len(regs) > 1 {
		return h.Many(ctx, regs)
	}
	for _, r := range regs {
		if err := h.One(ctx, r.Member, r.Info); err != nil {
			return err
		}
	}
	return nil
}
