package ledger

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jifen/jifen/domain"
)

// Never is the expiry of points that never expire: 9999-12-31 23:59:59 in
// Shanghai, the last second a DATETIME column holds. A far date rather
// than NULL keeps every query that orders or compares expiries (spend
// first-to-expire, the expiry job's "due at now", reminders' "expiring
// within N days", reconcile) correct without a special case: such lots sort
// last, are never due and never expiring soon.
var Never = time.Date(9999, 12, 31, 23, 59, 59, 0, domain.Shanghai).UTC()

// NeverExpires reports whether t is the Never sentinel (or beyond it).
func NeverExpires(t time.Time) bool { return !t.Before(Never) }

// Source names where earned points come from; each source has its own
// expiry policy (ExpiryPolicies).
type Source string

// The earning sources.
const (
	SourceOrders      Source = "orders"
	SourceSignin      Source = "signin"
	SourceTasks       Source = "tasks"
	SourceLottery     Source = "lottery"
	SourceReferral    Source = "referral"
	SourceGuideGrants Source = "guide_grants"
	SourceConsole     Source = "console"
)

// Sources lists every earning source, in the order configuration shows them.
var Sources = []Source{SourceOrders, SourceSignin, SourceTasks, SourceLottery, SourceReferral, SourceGuideGrants, SourceConsole}

// sourceOfRef is the source of an earn, named by the type of its reference.
// An earn whose reference is not listed (a birthday gift) gets the default
// policy.
var sourceOfRef = map[string]Source{
	"order": SourceOrders, "signin": SourceSignin, "task": SourceTasks,
	"lottery_draw": SourceLottery, "referral": SourceReferral,
}

// ExpiryKind is the shape of an expiry policy.
type ExpiryKind string

// The expiry policies; docs/features/expiry-policies.md shows each with
// examples. Every date is an Asia/Shanghai calendar date and points expire
// at 23:59:59 of it.
const (
	ExpireMonths        ExpiryKind = "months"           // the same day N months after earning (the month's last day when it has no such day)
	ExpireDays          ExpiryKind = "days"             // N days after earning
	ExpireEndOfMonth    ExpiryKind = "end_of_month"     // the last day of the month of earning
	ExpireEndOfYear     ExpiryKind = "end_of_year"      // 31 December of the year of earning
	ExpireEndOfNextYear ExpiryKind = "end_of_next_year" // 31 December of the next year
	ExpireNever         ExpiryKind = "never"            // Never
)

// Bounds of N, so every expiry stays a real date far below Never.
const (
	maxExpiryDays   = 3660 // ten years
	maxExpiryMonths = 120
)

// ExpiryPolicy decides when earned points expire. The zero value is the
// default: 12 months after earning.
type ExpiryPolicy struct {
	Kind ExpiryKind
	N    int // days or months, for ExpireDays and ExpireMonths
}

// DefaultExpiry is 12 months after earning.
var DefaultExpiry = ExpiryPolicy{Kind: ExpireMonths, N: 12}

// ParseExpiryPolicy reads a policy as configuration writes it: "never",
// "end_of_month", "end_of_year", "end_of_next_year", "days:N" (1–3660),
// "months:N" (1–120), or "months_12" (the older spelling of "months:12").
// A problem is an Invalid error naming field.
func ParseExpiryPolicy(field, s string) (ExpiryPolicy, error) {
	s = strings.TrimSpace(s)
	switch ExpiryKind(s) {
	case ExpireNever, ExpireEndOfMonth, ExpireEndOfYear, ExpireEndOfNextYear:
		return ExpiryPolicy{Kind: ExpiryKind(s)}, nil
	}
	if s == "months_12" {
		return DefaultExpiry, nil
	}
	kind, n, ok := strings.Cut(s, ":")
	max := map[ExpiryKind]int{ExpireDays: maxExpiryDays, ExpireMonths: maxExpiryMonths}[ExpiryKind(kind)]
	if !ok || max == 0 {
		return ExpiryPolicy{}, domain.FieldError(field, "must be never, end_of_month, end_of_year, end_of_next_year, days:N or months:N")
	}
	v, err := strconv.Atoi(n)
	if err != nil || v < 1 || v > max {
		return ExpiryPolicy{}, domain.FieldError(field, fmt.Sprintf("%s:N needs N from 1 to %d", kind, max))
	}
	return ExpiryPolicy{Kind: ExpiryKind(kind), N: v}, nil
}

// String is the policy as ParseExpiryPolicy reads it.
func (p ExpiryPolicy) String() string {
	p = p.orDefault()
	if p.Kind == ExpireDays || p.Kind == ExpireMonths {
		return fmt.Sprintf("%s:%d", p.Kind, p.N)
	}
	return string(p.Kind)
}

func (p ExpiryPolicy) orDefault() ExpiryPolicy {
	if p.Kind == "" {
		return DefaultExpiry
	}
	return p
}

// ExpiresAt returns the expiry of points earned at t: 23:59:59 (Shanghai) of
// the policy's day, or Never.
func (p ExpiryPolicy) ExpiresAt(t time.Time) time.Time {
	p = p.orDefault()
	d := domain.DayOf(t)
	switch p.Kind {
	case ExpireNever:
		return Never
	case ExpireDays:
		d = d.AddDays(p.N)
	case ExpireEndOfMonth:
		d = lastOfMonth(d.Year, d.Month)
	case ExpireEndOfYear:
		d = domain.Day{Year: d.Year, Month: time.December, Day: 31}
	case ExpireEndOfNextYear:
		d = domain.Day{Year: d.Year + 1, Month: time.December, Day: 31}
	default: // months
		m := int(d.Month) - 1 + p.N
		y, mon := d.Year+m/12, time.Month(m%12+1)
		d = domain.Day{Year: y, Month: mon, Day: min(d.Day, lastOfMonth(y, mon).Day)}
	}
	return d.AddDays(1).Start().Add(-time.Second).UTC()
}

func lastOfMonth(y int, m time.Month) domain.Day {
	return domain.DayOf(time.Date(y, m+1, 1, 12, 0, 0, 0, domain.Shanghai)).AddDays(-1)
}

// ExpiryPolicies are the policies by source; a source not listed, or an
// earn with no source, gets DefaultExpiry.
type ExpiryPolicies map[Source]ExpiryPolicy

// For returns the policy of source.
func (ps ExpiryPolicies) For(source Source) ExpiryPolicy { return ps[source].orDefault() }

// ExpiresAt is the expiry of points of source earned at now that become
// available at availableAt. The policy runs from the moment of earning;
// for pending points whose expiry would come before they are available, it
// runs from availableAt instead, so no points expire before they could be
// used.
func (ps ExpiryPolicies) ExpiresAt(source Source, now, availableAt time.Time) time.Time {
	p := ps.For(source)
	if at := p.ExpiresAt(now); at.After(availableAt) {
		return at
	}
	return p.ExpiresAt(availableAt)
}
