// Package mall is the points mall (积分商城): items that shoppers redeem
// with points, coupon code pools, and redemptions with their fulfilment.
//
// # Invariants
//
//   - Stock never oversells: an item's Sold never exceeds its Stock. The
//     Gate (Redis) is the fast path that turns most shoppers of a sold-out
//     item away without touching SQL; the unit of work in SQL is the
//     guarantee (a conditional take of one unit, sold < stock). The Gate
//     rebuilds its counters from SQL when they are missing, and a rebuild
//     that overstates what is left is harmless because SQL still refuses.
//   - Each coupon code is given out once, ever: a code row names at most
//     one redemption and is never handed back.
//   - A redemption is one transaction: the member's limits (Decide, under
//     the member's lock on the item), the unit of stock, the code, the
//     points spent through the ledger (first to expire first) and the
//     record commit together or not at all.
//   - Cancel or refund before fulfilment reverses the spend into the same
//     lots with their original expiry (ledger reversal) and gives the unit
//     of stock back.
//   - Points + cash (pay.go): the points are held, not spent, until
//     WeChat Pay's verified notification for the exact amount captures
//     them; unpaid by the deadline or failed, the hold is released and the
//     unit given back. A redemption is never paid without both.
//
// Decide is the one decision on whether a member may redeem an item
// (on/off, sales window, tier, limits per day and in total,
// affordability); the item detail and every redemption path call it.
package mall

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
)

// Kind is what an item gives.
type Kind string

// The item kinds.
const (
	// KindCoupon gives a code from the item's pool (imported as CSV).
	KindCoupon Kind = "coupon"
	// KindPhysical is shipped to the shopper's address.
	KindPhysical Kind = "physical"
	// KindPickup is collected in a store with a one-time pickup code (核销码).
	KindPickup Kind = "pickup"
	// KindVirtual is fulfilled at once. With a Benefit, Jifen delivers it
	// in the redemption's unit of work (e.g. make-up cards); without one
	// the brand's own systems deliver it and the redemption record is the
	// proof.
	KindVirtual Kind = "virtual"
)

// Benefit is what a virtual item delivers inside Jifen.
type Benefit string

// The benefits.
const (
	// BenefitNone: the record is the proof, nothing is credited.
	BenefitNone Benefit = ""
	// BenefitMakeupCard credits BenefitQty make-up sign-in cards (补签卡)
	// per unit; a make-up sign-in uses one before points (domain/signin).
	BenefitMakeupCard Benefit = "makeup_card"
)

// MaxBenefitQty bounds what one unit delivers.
const MaxBenefitQty = 100

// Item is something shoppers can redeem.
type Item struct {
	ID          int64
	Kind        Kind
	Name        string
	Images      []string // URLs
	Description string
	Category    string
	Points      int64 // price in points, > 0
	CashFen     int64 // optional cash part in fen (points + cash); 0 = points only
	Stock       int64 // units ever available
	Sold        int64 // units taken by live redemptions (not cancelled or refunded)
	LimitDaily  int   // per member per Shanghai day; 0 = no limit
	LimitTotal  int   // per member ever; 0 = no limit
	Tiers       []string
	// Benefit is what a virtual item credits per unit, BenefitQty of it
	// (1 to MaxBenefitQty); BenefitNone (and 0) for the rest. An item with
	// a benefit is points-only and never grouped (group.go).
	Benefit    Benefit
	BenefitQty int
	// Stores are where a pickup item is collected (empty: every store).
	Stores    []int64
	StartsAt  time.Time // zero: no start
	EndsAt    time.Time // zero: no end
	Sort      int       // higher first in the catalogue
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Left is what stock remains.
func (it *Item) Left() int64 { return max(0, it.Stock-it.Sold) }

// Limits of field sizes, also in docs/openapi.yaml.
const (
	maxName        = 64
	maxDescription = 2000
	maxCategory    = 32
	maxImages      = 9
	maxImageURL    = 512
	maxTiers       = 10
	maxStores      = 20
	// MaxPoints bounds an item's price.
	MaxPoints int64 = 100_000_000
	// MaxCashFen bounds an item's cash part (1,000,000 yuan).
	MaxCashFen int64 = 100_000_000
	// MaxStock bounds an item's stock.
	MaxStock int64 = 10_000_000
)

// Validate checks an item as the console writes it.
func (it *Item) Validate() error {
	it.Name = strings.TrimSpace(it.Name)
	it.Category = strings.TrimSpace(it.Category)
	switch it.Kind {
	case KindCoupon, KindPhysical, KindPickup, KindVirtual:
	default:
		return domain.FieldError("kind", "must be coupon, physical, pickup or virtual")
	}
	if it.Name == "" || utf8.RuneCountInString(it.Name) > maxName {
		return domain.FieldError("name", fmt.Sprintf("1 to %d characters", maxName))
	}
	if utf8.RuneCountInString(it.Description) > maxDescription {
		return domain.FieldError("description", fmt.Sprintf("at most %d characters", maxDescription))
	}
	if it.Category == "" || utf8.RuneCountInString(it.Category) > maxCategory {
		return domain.FieldError("category", fmt.Sprintf("1 to %d characters", maxCategory))
	}
	if len(it.Images) > maxImages {
		return domain.FieldError("images", fmt.Sprintf("at most %d", maxImages))
	}
	for _, u := range it.Images {
		p, err := url.Parse(u)
		if err != nil || len(u) > maxImageURL || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return domain.FieldError("images", fmt.Sprintf("each an http(s) URL of at most %d bytes", maxImageURL))
		}
	}
	if it.Points <= 0 || it.Points > MaxPoints {
		return domain.FieldError("points", fmt.Sprintf("must be 1 to %d", MaxPoints))
	}
	if it.CashFen < 0 || it.CashFen > MaxCashFen {
		return domain.FieldError("cash_fen", fmt.Sprintf("must be 0 to %d", MaxCashFen))
	}
	if it.Stock < 0 || it.Stock > MaxStock {
		return domain.FieldError("stock", fmt.Sprintf("must be 0 to %d", MaxStock))
	}
	if it.LimitDaily < 0 || it.LimitTotal < 0 {
		return domain.FieldError("limit_daily", "limits must be 0 (none) or positive")
	}
	if it.LimitDaily > 0 && it.LimitTotal > 0 && it.LimitDaily > it.LimitTotal {
		return domain.FieldError("limit_daily", "must not exceed limit_total")
	}
	if len(it.Tiers) > maxTiers {
		return domain.FieldError("tiers", fmt.Sprintf("at most %d", maxTiers))
	}
	for i, t := range it.Tiers {
		if t == "" || len(t) > 16 {
			return domain.FieldError("tiers", "each a tier code of 1 to 16 bytes")
		}
		if slices.Contains(it.Tiers[:i], t) {
			return domain.FieldError(fmt.Sprintf("tiers[%d]", i), fmt.Sprintf("tier %q is already listed", t))
		}
	}
	if len(it.Stores) > 0 && it.Kind != KindPickup {
		return domain.FieldError("stores", "only pickup items name stores")
	}
	if len(it.Stores) > maxStores {
		return domain.FieldError("stores", fmt.Sprintf("at most %d", maxStores))
	}
	for i, id := range it.Stores {
		if id <= 0 {
			return domain.FieldError("stores", "each a positive store id")
		}
		if slices.Contains(it.Stores[:i], id) {
			return domain.FieldError(fmt.Sprintf("stores[%d]", i), fmt.Sprintf("store %d is already listed", id))
		}
	}
	if err := it.validateBenefit(); err != nil {
		return err
	}
	if !it.StartsAt.IsZero() && !it.EndsAt.IsZero() && !it.EndsAt.After(it.StartsAt) {
		return domain.FieldError("ends_at", "must be after starts_at")
	}
	return nil
}

// validateBenefit checks Benefit and BenefitQty: a known benefit, on a
// virtual points-only item (the cash part would deliver it only when the
// cash came: not supported), with 1 to MaxBenefitQty per unit.
func (it *Item) validateBenefit() error {
	switch it.Benefit {
	case BenefitNone:
		if it.BenefitQty != 0 {
			return domain.FieldError("benefit_qty", "must be 0 without a benefit")
		}
		return nil
	case BenefitMakeupCard:
	default:
		return domain.FieldError("benefit", `must be "" (none) or makeup_card`)
	}
	if it.Kind != KindVirtual {
		return domain.FieldError("benefit", "only virtual items carry a benefit")
	}
	if it.CashFen != 0 {
		return domain.FieldError("cash_fen", "must be 0 for an item with a benefit (points only)")
	}
	if it.BenefitQty < 1 || it.BenefitQty > MaxBenefitQty {
		return domain.FieldError("benefit_qty", fmt.Sprintf("must be 1 to %d", MaxBenefitQty))
	}
	return nil
}

// Status is a redemption's life stage.
//
//	reserved ─pay─▶ paid ─ship─▶ shipped ─deliver─▶ fulfilled
//	   │             │  └───────fulfil (coupon, virtual, pickup verified)──▶ fulfilled
//	   └─cancel─▶ cancelled ◀─cancel─┘ (before shipping)
//	              refunded  ◀─refund─ paid | shipped
//
// A points-only redemption starts paid; points + cash starts reserved
// until the cash arrives. A points-only coupon or virtual one is fulfilled
// at once, so it is never cancelled or refunded (409): the benefit it
// credited (make-up cards) is never taken back.
type Status string

// The statuses.
const (
	StatusReserved  Status = "reserved"
	StatusPaid      Status = "paid"
	StatusShipped   Status = "shipped"
	StatusFulfilled Status = "fulfilled"
	StatusCancelled Status = "cancelled"
	StatusRefunded  Status = "refunded"
)

// Event moves a redemption between statuses.
type Event string

// The events.
const (
	EventPay     Event = "pay"
	EventShip    Event = "ship"
	EventDeliver Event = "deliver"
	EventFulfil  Event = "fulfil"
	EventCancel  Event = "cancel"
	EventRefund  Event = "refund"
)

var transitions = map[Status]map[Event]Status{
	StatusReserved: {EventPay: StatusPaid, EventCancel: StatusCancelled},
	StatusPaid:     {EventShip: StatusShipped, EventFulfil: StatusFulfilled, EventCancel: StatusCancelled, EventRefund: StatusRefunded},
	StatusShipped:  {EventDeliver: StatusFulfilled, EventRefund: StatusRefunded},
}

// Next returns the status after e, or a Conflict naming why not.
func (s Status) Next(e Event) (Status, error) {
	if to, ok := transitions[s][e]; ok {
		return to, nil
	}
	return "", domain.Errorf(domain.Conflict, "a %s redemption cannot %s", s, e)
}

// Live reports whether the redemption still holds its unit of stock and
// counts towards the member's limits.
func (s Status) Live() bool { return s != StatusCancelled && s != StatusRefunded }

// Redemption is one shopper's redemption of one unit of an item.
type Redemption struct {
	ID         int64
	ItemID     int64
	MemberID   int64
	Key        string // the shopper's idempotency key
	Day        int    // yyyymmdd (Shanghai) of the redemption
	Kind       Kind
	ItemName   string
	Points     int64
	CashFen    int64
	Status     Status
	CouponCode string // coupon items
	PickupCode string // pickup items
	Carrier    string // physical items once shipped
	TrackingNo string
	StoreID    int64 // pickup: the store where the code was verified
	Note       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Replayed is true when this is the stored answer to an earlier
	// request with the same key (not stored).
	Replayed bool
	// Payment is the cash part of a reserved points + cash redemption, as
	// Redeem answers it (not stored here; pay.go).
	Payment *Payment
}

// Usage is how much of an item a member has redeemed (live redemptions).
type Usage struct {
	Total int
	Today int
}

// Shopper is what Decide knows of the member.
type Shopper struct {
	Tier      string
	Available int64 // points available
	// PointsUnread: Available was not read; the caller's ledger spend
	// checks the points (a group of redemptions, group.go), and Decide
	// checks everything else.
	PointsUnread bool
}

// Verdict is Decide's answer for an item that may be redeemed.
type Verdict struct {
	// LimitLeft is how many more units the member may redeem now (the
	// smaller of the daily and total limits); -1 without limits.
	LimitLeft int
	// Affordable reports whether the member has the points.
	Affordable bool
}

// Decide is the one decision on whether a member may redeem one unit of
// an item at now: on/off, sales window, tier, per-member limits (daily and
// total, counting live redemptions), stock as the caller knows it, and
// points. It returns the verdict and, when the member may not redeem, the
// refusal: RuleViolation (422) for closed, tier, limits and sold out,
// PointsInsufficient (422) for points.
func Decide(it *Item, who Shopper, used Usage, now time.Time) (Verdict, error) {
	v := Verdict{LimitLeft: -1, Affordable: who.PointsUnread || who.Available >= it.Points}
	if it.LimitTotal > 0 {
		v.LimitLeft = max(0, it.LimitTotal-used.Total)
	}
	if it.LimitDaily > 0 {
		d := max(0, it.LimitDaily-used.Today)
		if v.LimitLeft < 0 || d < v.LimitLeft {
			v.LimitLeft = d
		}
	}
	if err := it.OnSale(now); err != nil {
		return v, err
	}
	switch {
	case len(it.Tiers) > 0 && !contains(it.Tiers, who.Tier):
		return v, domain.Errorf(domain.RuleViolation, "%s is for members of tier %s", it.Name, strings.Join(it.Tiers, ", "))
	case it.LimitTotal > 0 && used.Total >= it.LimitTotal:
		return v, domain.Errorf(domain.RuleViolation, "you have redeemed %s %d times, the most allowed", it.Name, it.LimitTotal)
	case it.LimitDaily > 0 && used.Today >= it.LimitDaily:
		return v, domain.Errorf(domain.RuleViolation, "you have redeemed %s %d times today, the most allowed a day", it.Name, it.LimitDaily)
	case it.Left() <= 0:
		return v, domain.Errorf(domain.RuleViolation, "%s is sold out", it.Name)
	case !v.Affordable:
		return v, domain.Errorf(domain.PointsInsufficient, "%s costs %d points, you have %d", it.Name, it.Points, who.Available)
	}
	return v, nil
}

// OnSale refuses (RuleViolation) an item that is off or outside its sales
// window at now; Decide starts with it.
func (it *Item) OnSale(now time.Time) error {
	switch {
	case !it.Enabled:
		return domain.Errorf(domain.RuleViolation, "%s is not on sale", it.Name)
	case !it.StartsAt.IsZero() && now.Before(it.StartsAt):
		return domain.Errorf(domain.RuleViolation, "%s is on sale from %s", it.Name, it.StartsAt.In(domain.Shanghai).Format("2006-01-02 15:04"))
	case !it.EndsAt.IsZero() && !now.Before(it.EndsAt):
		return domain.Errorf(domain.RuleViolation, "%s was on sale until %s", it.Name, it.EndsAt.In(domain.Shanghai).Format("2006-01-02 15:04"))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
