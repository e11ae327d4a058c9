// Package guide is the shop guides' side of Jifen: guides working in WeCom
// (企业微信) log in with WeCom OAuth, see the customers bound to them, grant
// points within a monthly budget, push expiry reminders to their customers,
// and each store's group gets a daily summary.
//
// Invariants: a member is bound to at most one guide; a guide sees and
// grants only to their own customers; a guide's grants in a month never add
// up to more than the monthly budget, because every grant runs under a lock
// on the guide's row and the month's use is the sum of the grants written in
// that same unit of work.
package guide

import (
	"context"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/member"
)

// Status of a guide. Only active guides log in and act.
type Status string

// The statuses.
const (
	Active   Status = "active"
	Disabled Status = "disabled"
)

// Store is a shop with its WeCom group robot.
type Store struct {
	ID        int64
	Name      string
	RobotKey  string // the group robot's webhook key; "" sends no summary
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Guide is a shop guide, identified in WeCom by UserID.
type Guide struct {
	ID            int64
	UserID        string // WeCom userid
	Code          string // short code in the mini-program scene "g:<code>"
	Name          string
	StoreID       int64
	MonthlyBudget int64 // points the guide may grant per Shanghai month
	// Phone is the guide's own mobile number ("" when not given), set in
	// the console: a grant to a customer bound to the same number is a
	// grant to the guide or the guide's family (risk's guide_self_grant).
	Phone     string
	Status    Status
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Binding sources.
const (
	SourceScene = "scene" // opened the mini-program from the guide's code
	SourceWeCom = "wecom" // added the guide as a WeCom external contact
)

// Binding ties a member to their guide.
type Binding struct {
	MemberID       int64
	GuideID        int64
	Source         string
	ExternalUserID string // WeCom external_userid, "" until known
	BoundAt        time.Time
}

// Grant is points a guide gave a customer.
type Grant struct {
	ID          int64
	GuideID     int64
	MemberID    int64
	Points      int64
	Reason      string
	Key         string // the guide's idempotency key
	RequestHash string
	Month       int // yyyymm, Shanghai
	Day         int // yyyymmdd, Shanghai
	EntryID     int64
	CreatedAt   time.Time
	Replayed    bool // answered from a previous request with the same key
}

// Push is one customer reminded by a guide's broadcast on one day.
type Push struct {
	GuideID  int64
	MemberID int64
	Day      int
	Batch    string // one broadcast
	MsgID    string // WeCom's msgid, once the broadcast was created
	At       time.Time
}

// Repository persists guides. Lookups of missing rows return a
// *domain.Error with code NotFound; duplicates are a Conflict.
type Repository interface {
	CreateStore(ctx context.Context, s *Store) error
	UpdateStore(ctx context.Context, s *Store) error
	StoreByID(ctx context.Context, id int64) (*Store, error)
	ListStores(ctx context.Context) ([]Store, error)

	CreateGuide(ctx context.Context, g *Guide) error
	UpdateGuide(ctx context.Context, g *Guide) error
	GuideByID(ctx context.Context, id int64) (*Guide, error)
	GuideByUserID(ctx context.Context, userID string) (*Guide, error)
	GuideByCode(ctx context.Context, code string) (*Guide, error)
	// ListGuides returns guides with id > after, ascending.
	ListGuides(ctx context.Context, after int64, limit int) ([]Guide, error)
	// LockGuide reads the guide and takes it for the unit of work in ctx
	// until it ends.
	LockGuide(ctx context.Context, id int64) (*Guide, error)

	Binding(ctx context.Context, memberID int64) (Binding, bool, error)
	// SaveBinding inserts or replaces the member's binding.
	SaveBinding(ctx context.Context, b Binding) error
	// Customers returns the guide's bindings with member id > after, ascending.
	Customers(ctx context.Context, guideID, after int64, limit int) ([]Binding, error)
	// GuidesOf maps each of the members that has a guide to the guide's id.
	GuidesOf(ctx context.Context, memberIDs []int64) (map[int64]int64, error)

	GrantByKey(ctx context.Context, guideID int64, key string) (Grant, bool, error)
	MonthGranted(ctx context.Context, guideID int64, month int) (int64, error)
	DayGranted(ctx context.Context, memberID int64, day int) (int64, error)
	InsertGrant(ctx context.Context, g *Grant) error
	// Grants returns the guide's grants of month, newest first.
	Grants(ctx context.Context, guideID int64, month, limit int) ([]Grant, error)

	// ReservePushes inserts the pushes not yet made on their day and
	// returns those it inserted.
	ReservePushes(ctx context.Context, ps []Push) ([]Push, error)
	SetPushMsgID(ctx context.Context, batch, msgID string) error
	DeletePushes(ctx context.Context, batch string) error

	// CallbackSeen reports whether a callback with digest was handled.
	CallbackSeen(ctx context.Context, digest string) (bool, error)
	// RecordCallback remembers digest; false when it was already there.
	RecordCallback(ctx context.Context, digest, event string, at time.Time) (bool, error)

	// KeepContact keeps a contact of a guide that is no member yet; one
	// kept already (same external userid and guide) stays as it is.
	KeepContact(ctx context.Context, c Contact) error
	// TakeContacts removes and returns the contacts kept with unionID,
	// oldest first.
	TakeContacts(ctx context.Context, unionID string) ([]Contact, error)
	// ContactsKept reports which of unionIDs have contacts kept.
	ContactsKept(ctx context.Context, unionIDs []string) (map[string]bool, error)
}

// Contact is a WeCom external contact a guide added before the person
// logged in to the mini-program. UnionID is "" when WeCom named none.
type Contact struct {
	ExternalUserID string
	GuideID        int64
	UnionID        string
	AddedAt        time.Time
}

// Members is what guides read of members.
type Members interface {
	ByID(ctx context.Context, id int64) (*member.Member, error)
	ByUnionID(ctx context.Context, unionID string) (*member.Member, error)
}

// WeCom is the part of the WeCom API guides need. Implementations return
// *domain.Error (InvalidCode, RateLimited, Unavailable) for WeCom's errors.
type WeCom interface {
	// UserIDFromCode resolves an OAuth code to the corp member's userid, ""
	// when the visitor is not a member of the corp.
	UserIDFromCode(ctx context.Context, code string) (string, error)
	// ExternalUnionID returns the WeChat unionid of an external contact.
	ExternalUnionID(ctx context.Context, externalUserID string) (string, error)
	// AddMsgTemplate creates a customer broadcast from sender (a userid)
	// to the external contacts; WeCom then asks the sender to confirm.
	AddMsgTemplate(ctx context.Context, sender string, externalUserIDs []string, text string) (msgID string, failed []string, err error)
}

// StoreNotifier delivers a store's daily summary to its group robot.
type StoreNotifier interface {
	SendStoreSummary(ctx context.Context, robotKey, text string) error
}

// Rebind says what happens when a bound member meets another guide.
type Rebind string

// The rebinding rules.
const (
	FirstWins Rebind = "first" // the first guide keeps the customer
	LastWins  Rebind = "last"  // the latest guide takes the customer over
)

// Rules are the configurable limits.
type Rules struct {
	Rebind Rebind
	// DailyCapPerCustomer bounds the points one customer gets from guides
	// per Shanghai day (0: no cap).
	DailyCapPerCustomer int64
	// PushWindowDays: a push reaches customers whose points expire within it.
	PushWindowDays int
	// SummaryWindowDays: the store summary counts points expiring within it.
	SummaryWindowDays int
	// PushText is the broadcast text.
	PushText string
}

// MaxWindowDays bounds the push and summary windows: a year.
const MaxWindowDays = 366

// Validate names every wrong rule under key (e.g. "guides").
func (r Rules) Validate(key string) error {
	bad := domain.Problems{}
	if r.Rebind != FirstWins && r.Rebind != LastWins {
		bad.Add(key+".rebind", "must be first or last")
	}
	bad.Parsed(domain.ParsePointsOrZero(key+".daily_cap_per_customer", r.DailyCapPerCustomer))
	if r.PushWindowDays < 1 || r.PushWindowDays > MaxWindowDays {
		bad.Add(key+".push_window_days", "must be from 1 to 366")
	}
	if r.SummaryWindowDays < 1 || r.SummaryWindowDays > MaxWindowDays {
		bad.Add(key+".summary_window_days", "must be from 1 to 366")
	}
	if r.PushText == "" || len(r.PushText) > 4000 {
		bad.Add(key+".push_text", "required, at most 4000 bytes")
	}
	return bad.Err("invalid guide rules")
}
