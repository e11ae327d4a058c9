// Package risk flags suspicious activity and, optionally, holds a member's
// spends until a reviewer decides (issue #24, section 2).
//
// # The model
//
// A Rule counts one kind of Action (sign-in, draw, task claim, referral
// bind) per Dimension (the device id the mini-program sends, the client
// IP, the first seven digits of the member's phone) per clock hour. The
// event that takes the count past the rule's MaxPerHour raises a Flag
// with its evidence (rule, key, count, window). A flag is unique per rule
// + key + window: the same burst raises exactly one flag, however many
// events follow it and however often the counters are rebuilt.
//
// A rule with Hold set also places a Hold on the flagged member. A held
// member's spends (mall, checkout, paid draws, paid make-up sign-ins, tier
// upgrades) are refused with ACCOUNT_HELD; earning goes on.
//
// # Invariants
//
//   - Counting never blocks the action counted: the counters may be lost
//     (they live in a cache) and the check fails open.
//   - Flags, holds and the policy are the truth and live in SQL; every
//     review decision writes an audit row in the same unit of work.
//   - One decision per rule: Rule.Breached says whether a count raises a
//     flag, and nothing else decides it.
package risk

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
)

// Action is what a rule counts.
type Action string

// The actions counted.
const (
	SignIn       Action = "signin"
	Draw         Action = "draw"
	TaskClaim    Action = "task_claim"
	ReferralBind Action = "referral_bind"
)

// Actions lists every Action, in the order the console shows them.
var Actions = []Action{SignIn, Draw, TaskClaim, ReferralBind}

// Dimension is what the events of a rule are grouped by.
type Dimension string

// The dimensions.
const (
	Device      Dimension = "device"       // the X-Device-Id header of the mini-program
	IP          Dimension = "ip"           // the client address
	PhonePrefix Dimension = "phone_prefix" // the first 7 digits of the member's bound phone
)

// Dimensions lists every Dimension.
var Dimensions = []Dimension{Device, IP, PhonePrefix}

// PhonePrefixLen is how many leading digits of a phone make its prefix: a
// mainland number's carrier segment and area block (138 0013 xxxx).
const PhonePrefixLen = 7

// MaxKeyLen bounds a device id kept as evidence; longer ids are cut.
const MaxKeyLen = 64

// Window is how long a rule counts: one clock hour.
const Window = time.Hour

// Rule is one velocity rule.
type Rule struct {
	Name       string    `json:"name"`
	Action     Action    `json:"action"`
	Dimension  Dimension `json:"dimension"`
	MaxPerHour int64     `json:"max_per_hour"`
	Hold       bool      `json:"hold"`
	Enabled    bool      `json:"enabled"`
	// Distinct counts different members instead of events: "more than N
	// members signed in from one device within the hour" (account farms).
	Distinct bool `json:"distinct"`
	// Kind is "" for a velocity rule (the fields above) or one of the
	// pattern kinds (RingKind), whose parameters follow.
	Kind string `json:"kind,omitempty"`
	// MaxLength (referral_ring): the longest ring flagged, in members.
	MaxLength int `json:"max_length,omitempty"`
	// WindowHours (referral_ring): every binding of the ring was made
	// within this many hours before the one closing it.
	WindowHours int `json:"window_hours,omitempty"`
	// MaxMinutes (guide_budget_burn): a budget used up within this many
	// minutes of the month's first grant is flagged.
	MaxMinutes int `json:"max_minutes,omitempty"`
	// MinPoints and MaxSharePct (guide_concentration): a guide's month of
	// at least MinPoints granted, more than MaxSharePct of it to one
	// customer.
	MinPoints   int64 `json:"min_points,omitempty"`
	MaxSharePct int   `json:"max_share_pct,omitempty"`
	// MinTimes (points_laundering): the earn-then-spend cycles in one
	// window that raise a flag (with MaxMinutes, MinPoints, WindowHours).
	MinTimes int `json:"min_times,omitempty"`
	// Span and MaxMembers (phone_sequence): more than MaxMembers members
	// whose phones lie within Span consecutive numbers, bound within
	// WindowHours.
	Span       int64 `json:"span,omitempty"`
	MaxMembers int   `json:"max_members,omitempty"`
	// MinRewards (referral_no_order): a member paid at least this many
	// referral rewards who has never ordered.
	MinRewards int `json:"min_rewards,omitempty"`
}

// Rule kinds beyond velocity.
const (
	// RingKind flags the members of a referral ring: a bind that would
	// close a loop of invitations (A invited B, B invited C, C binds to A's
	// ... A to C's code) of at most MaxLength members within WindowHours.
	RingKind = "referral_ring"
	// BudgetBurnKind flags a guide whose monthly budget was used up
	// within MaxMinutes of the month's first grant.
	BudgetBurnKind = "guide_budget_burn"
	// ConcentrationKind flags a guide who, having granted at least
	// MinPoints this month, gave one customer more than MaxSharePct of it.
	ConcentrationKind = "guide_concentration"
	// LaunderingKind flags a member who, MinTimes times or more within one
	// window of WindowHours, spent points within MaxMinutes of earning at
	// least MinPoints (laundering.go).
	LaunderingKind = "points_laundering"
	// PhoneSequenceKind flags the members of an account farm: more than
	// MaxMembers members whose phones lie within Span consecutive numbers,
	// all bound within WindowHours (phones.go).
	PhoneSequenceKind = "phone_sequence"
	// NoOrderKind flags a member paid at least MinRewards referral rewards
	// who has never ordered (noorder.go).
	NoOrderKind = "referral_no_order"
	// SelfGrantKind flags a guide's grant to a customer whose bound phone
	// is the guide's own (selfgrant.go).
	SelfGrantKind = "guide_self_grant"
	// SharedPayerKind flags the members of an account farm: more than
	// MaxMembers members whose paid orders named one payment account within
	// WindowHours (payer.go).
	SharedPayerKind = "shared_payer"
)

// OrderPaid is the action of shared_payer: a paid order naming the account
// that paid it.
const OrderPaid Action = "order_paid"

// PayerDim is the dimension of shared_payer: one payment account (the flag's
// key is the member, "member <id>"; the account is in its evidence).
const PayerDim Dimension = "payer"

// The actions of the pattern rules on members.
const (
	Spend          Action = "spend"           // points spent on a mall item or a paid draw
	PhoneBind      Action = "phone_bind"      // a member bound a phone
	ReferralReward Action = "referral_reward" // an inviter was rewarded for a bound phone
)

// The dimensions of the pattern rules on members.
const (
	MemberDim Dimension = "member" // key "member <id>": the member's own pattern
	PhoneDim  Dimension = "phone"  // key: the flagged member's phone
)

// GuideGrant is the action of a guide's rules: a guide granting points.
const GuideGrant Action = "guide_grant"

// GuideDim is the dimension of a guide's flag: its key is "guide <id>"
// and its MemberID 0, for the flag is on the guide, who has no spends to
// hold (a reviewer who confirms it disables the guide in the console).
const GuideDim Dimension = "guide"

// Chain is the dimension of a referral_ring flag: its key is the flagged
// member and the ring, in invitation order.
const Chain Dimension = "referral_chain"

// Breached reports whether count events in one window break the rule: the
// one decision that raises a flag.
func (r Rule) Breached(count int64) bool { return r.Enabled && count > r.MaxPerHour }

// velocity reports whether r is a velocity rule (counted per hour).
func (r Rule) velocity() bool { return r.Kind == "" }

// Policy is the marketers' set of rules. An edit is a new version.
type Policy struct {
	Version   int
	Rules     []Rule
	UpdatedBy string
	UpdatedAt time.Time
}

// DefaultPolicy is version 1, in force until a marketer saves another (the
// store answers it while no version is stored): every rule on,
// none holding, at thresholds ordinary use never reaches (a family sharing
// a phone, a shop's Wi-Fi, a city's phone block).
func DefaultPolicy() Policy {
	limits := map[Action][3]int64{ // device, ip, phone prefix
		SignIn:       {10, 120, 300},
		Draw:         {120, 600, 1200},
		TaskClaim:    {60, 300, 600},
		ReferralBind: {5, 30, 60},
	}
	var rules []Rule
	for _, a := range Actions {
		for i, d := range Dimensions {
			rules = append(rules, Rule{Name: string(a) + "_per_" + string(d), Action: a, Dimension: d,
				MaxPerHour: limits[a][i], Enabled: true})
		}
	}
	// Account farms: many members behind one device. A household shares a
	// phone now and then; six members in an hour is a farm.
	rules = append(rules, Rule{Name: "members_per_device", Action: SignIn, Dimension: Device, MaxPerHour: 5, Enabled: true, Distinct: true})
	// Referral rings: invitations going round in a loop of up to 6 members
	// within 30 days are one person's accounts inviting each other.
	rules = append(rules, Rule{Name: "referral_ring", Kind: RingKind, Action: ReferralBind, Dimension: Chain,
		MaxLength: 6, WindowHours: 720, Enabled: true})
	// Guides: a month's budget gone within an hour of the first grant is
	// not customers served one by one at the counter.
	rules = append(rules, Rule{Name: "guide_budget_burn", Kind: BudgetBurnKind, Action: GuideGrant, Dimension: GuideDim,
		MaxMinutes: 60, Enabled: true})
	// Guides: half of a month's 2,000 points or more to one customer is
	// a friend or the guide's own account, not a shop's customers.
	rules = append(rules, Rule{Name: "guide_concentration", Kind: ConcentrationKind, Action: GuideGrant, Dimension: GuideDim,
		MinPoints: 2000, MaxSharePct: 50, Enabled: true})
	// Points laundering: three times in a day, 100 points or more earned
	// and spent within 10 minutes.
	rules = append(rules, Rule{Name: "points_laundering", Kind: LaunderingKind, Action: Spend, Dimension: MemberDim,
		MaxMinutes: 10, MinTimes: 3, MinPoints: 100, WindowHours: 24, Enabled: true})
	// Account farms: four members or more binding phones within 10
	// consecutive numbers in a day are SIM cards bought together.
	rules = append(rules, Rule{Name: "phone_sequence", Kind: PhoneSequenceKind, Action: PhoneBind, Dimension: PhoneDim,
		Span: 10, MaxMembers: 3, WindowHours: 24, Enabled: true})
	// Account farms: ten referral rewards or more to a member who never
	// ordered are rewards collected, not friends brought.
	rules = append(rules, Rule{Name: "referral_no_order", Kind: NoOrderKind, Action: ReferralReward, Dimension: MemberDim,
		MinRewards: 10, Enabled: true})
	// Guides: a grant to a customer on the guide's own phone is a grant to
	// the guide or the guide's family.
	rules = append(rules, Rule{Name: "guide_self_grant", Kind: SelfGrantKind, Action: GuideGrant, Dimension: GuideDim, Enabled: true})
	// Account farms: more than three members paying with one account in a
	// day are not one household.
	rules = append(rules, Rule{Name: "shared_payer", Kind: SharedPayerKind, Action: OrderPaid, Dimension: PayerDim,
		MaxMembers: 3, WindowHours: 24, Enabled: true})
	return Policy{Version: 1, Rules: rules}
}

// Validate checks a policy a marketer sends.
func (p *Policy) Validate() error {
	if len(p.Rules) > 100 {
		return domain.FieldError("rules", "at most 100 rules")
	}
	seen := map[string]bool{}
	for i, r := range p.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.Name == "" || len(r.Name) > 48 || strings.TrimSpace(r.Name) != r.Name:
			return domain.FieldError(f+".name", "1 to 48 characters, no surrounding spaces")
		case seen[r.Name]:
			return domain.FieldError(f+".name", "used twice: names must be unique")
		case r.Kind == RingKind:
			if err := r.validateRing(f); err != nil {
				return err
			}
		case r.Kind == BudgetBurnKind:
			if err := r.validateBudgetBurn(f); err != nil {
				return err
			}
		case r.Kind == ConcentrationKind:
			if err := r.validateConcentration(f); err != nil {
				return err
			}
		case r.Kind == LaunderingKind:
			if err := r.validateLaundering(f); err != nil {
				return err
			}
		case r.Kind == PhoneSequenceKind:
			if err := r.validatePhoneSequence(f); err != nil {
				return err
			}
		case r.Kind == NoOrderKind:
			if err := r.validateNoOrder(f); err != nil {
				return err
			}
		case r.Kind == SelfGrantKind:
			if err := r.validateSelfGrant(f); err != nil {
				return err
			}
		case r.Kind == SharedPayerKind:
			if err := r.validateSharedPayer(f); err != nil {
				return err
			}
		case r.Kind != "":
			return domain.FieldError(f+".kind", "empty (a velocity rule), referral_ring, guide_budget_burn, guide_concentration, points_laundering, phone_sequence, referral_no_order, guide_self_grant or shared_payer")
		case !known(Actions, r.Action):
			return domain.FieldError(f+".action", "one of signin, draw, task_claim, referral_bind")
		case !known(Dimensions, r.Dimension):
			return domain.FieldError(f+".dimension", "one of device, ip, phone_prefix")
		case r.MaxPerHour < 1 || r.MaxPerHour > 1_000_000:
			return domain.FieldError(f+".max_per_hour", "between 1 and 1000000")
		}
		seen[r.Name] = true
	}
	return nil
}

// validateRing checks a referral_ring rule; the fields of velocity rules
// must be left empty.
func (r Rule) validateRing(f string) error {
	switch {
	case r.Action != ReferralBind:
		return domain.FieldError(f+".action", "referral_bind for a referral_ring rule")
	case r.Dimension != Chain:
		return domain.FieldError(f+".dimension", "referral_chain for a referral_ring rule")
	case r.MaxLength < 2 || r.MaxLength > 20:
		return domain.FieldError(f+".max_length", "between 2 and 20 members")
	case r.WindowHours < 1 || r.WindowHours > 24*366:
		return domain.FieldError(f+".window_hours", "between 1 and 8784")
	case r.MaxPerHour != 0 || r.Distinct || r.unusedPattern():
		return domain.FieldError(f+".max_per_hour", "not used by a referral_ring rule: leave it 0")
	}
	return nil
}

// validateBudgetBurn checks a guide_budget_burn rule.
func (r Rule) validateBudgetBurn(f string) error {
	switch {
	case r.Action != GuideGrant:
		return domain.FieldError(f+".action", "guide_grant for a guide_budget_burn rule")
	case r.Dimension != GuideDim:
		return domain.FieldError(f+".dimension", "guide for a guide_budget_burn rule")
	case r.MaxMinutes < 1 || r.MaxMinutes > 60*24*31:
		return domain.FieldError(f+".max_minutes", "between 1 and 44640")
	case r.Hold:
		return domain.FieldError(f+".hold", "a guide has no spends to hold: leave it false and disable the guide if the flag is confirmed")
	case r.MaxPerHour != 0 || r.Distinct || r.MaxLength != 0 || r.WindowHours != 0 || r.unusedPattern():
		return domain.FieldError(f+".max_per_hour", "not used by a guide_budget_burn rule: leave it 0")
	}
	return nil
}

// validateConcentration checks a guide_concentration rule.
func (r Rule) validateConcentration(f string) error {
	switch {
	case r.Action != GuideGrant:
		return domain.FieldError(f+".action", "guide_grant for a guide_concentration rule")
	case r.Dimension != GuideDim:
		return domain.FieldError(f+".dimension", "guide for a guide_concentration rule")
	case r.MinPoints < 1 || r.MinPoints > 1_000_000_000:
		return domain.FieldError(f+".min_points", "between 1 and 1000000000")
	case r.MaxSharePct < 1 || r.MaxSharePct > 99:
		return domain.FieldError(f+".max_share_pct", "between 1 and 99")
	case r.Hold:
		return domain.FieldError(f+".hold", "a guide has no spends to hold: leave it false and disable the guide if the flag is confirmed")
	case r.MaxPerHour != 0 || r.Distinct || r.MaxLength != 0 || r.WindowHours != 0 || r.MaxMinutes != 0 || r.unusedPattern():
		return domain.FieldError(f+".max_per_hour", "not used by a guide_concentration rule: leave it 0")
	}
	return nil
}

// unusedPattern reports whether a field only the laundering, phone
// sequence and referral_no_order rules use is set.
func (r Rule) unusedPattern() bool {
	return r.MinTimes != 0 || r.Span != 0 || r.MaxMembers != 0 || r.MinRewards != 0
}

func known[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Event is one counted action: who did it and from where.
type Event struct {
	MemberID int64
	Action   Action
	DeviceID string
	IP       string
	Phone    string // filled by the service when a phone rule needs it
}

// Key is the event's value along d ("" when it has none, and then no rule
// of d counts it).
func (e Event) Key(d Dimension) string {
	switch d {
	case Device:
		// The header is the client's to send: made valid UTF-8 and cut at
		// a character boundary, or MySQL's utf8mb4 column refuses the
		// flag and the device goes unflagged.
		k := strings.ToValidUTF8(strings.TrimSpace(e.DeviceID), "\uFFFD")
		if len(k) > MaxKeyLen {
			n := MaxKeyLen
			for n > 0 && !utf8.RuneStart(k[n]) {
				n--
			}
			k = k[:n]
		}
		return k
	case IP:
		return e.IP
	case PhonePrefix:
		if len(e.Phone) < PhonePrefixLen {
			return ""
		}
		return e.Phone[:PhonePrefixLen]
	}
	return ""
}

// WindowOf is the start of the hour t falls in. Shanghai is a whole number
// of hours from UTC, so this is the Shanghai clock hour as well.
func WindowOf(t time.Time) time.Time { return t.UTC().Truncate(Window) }

// Flag statuses.
const (
	Open      = "open"
	Cleared   = "cleared"   // a reviewer found nothing wrong
	Confirmed = "confirmed" // a reviewer confirmed the abuse
)

// Flag is one rule broken once, with its evidence.
type Flag struct {
	ID        int64
	MemberID  int64 // the member whose event broke the rule
	Rule      string
	Action    Action
	Dimension Dimension
	Key       string // the device id, IP or phone prefix
	Count     int64  // the count that broke the rule
	Limit     int64  // the rule's MaxPerHour then
	Window    time.Time
	Held      bool // the rule placed a hold
	Status    string
	DecidedBy string
	DecidedAt time.Time
	Note      string
	// Evidence is what a pattern rule saw, as JSON (the ring's members and
	// when each was bound); "" for a velocity rule, whose evidence is the
	// fields above.
	Evidence  string
	CreatedAt time.Time
}

// Hold pauses a member's spends.
type Hold struct {
	MemberID  int64
	FlagID    int64  // the flag that placed it (0: placed by hand)
	Reason    string // the rule's name or the reviewer's reason
	By        string // "risk" for a rule, else the reviewer
	CreatedAt time.Time
}

// Automatic is the actor name of holds and audit rows placed by a rule.
const Automatic = "risk"

// ErrHeld is the answer to a held member's spend.
func ErrHeld() error {
	return domain.Errorf(domain.AccountHeld, "this account is held for review: spending is paused until a reviewer releases it; points are still earned")
}

// DefaultPolicyWith is DefaultPolicy with rules (configs/default.yaml
// risk.rules) in place of the built-in rules of the same name; a rule of
// another name is added at the end. It is the policy in force until a
// marketer saves one.
func DefaultPolicyWith(rules []Rule) Policy {
	p := DefaultPolicy()
	for _, r := range rules {
		replaced := false
		for i := range p.Rules {
			if p.Rules[i].Name == r.Name {
				p.Rules[i], replaced = r, true
			}
		}
		if !replaced {
			p.Rules = append(p.Rules, r)
		}
	}
	return p
}

// ValidateDefaults checks configured rules (under the configuration key
// prefix) exactly as a marketer's policy is checked, naming the rule at
// fault as prefix[i]: the configuration's validator.
func ValidateDefaults(prefix string, rules []Rule) error {
	seen := map[string]bool{}
	for i, r := range rules {
		key := fmt.Sprintf("%s[%d]", prefix, i)
		if seen[r.Name] {
			return domain.FieldError(key+".name", "used twice: names must be unique")
		}
		seen[r.Name] = true
		one := Policy{Rules: []Rule{r}}
		if err := one.Validate(); err != nil {
			var de *domain.Error
			if errors.As(err, &de) {
				for f, why := range de.Fields {
					return domain.FieldError(key+strings.TrimPrefix(f, "rules[0]"), why)
				}
			}
			return err
		}
	}
	p := DefaultPolicyWith(rules)
	return p.Validate()
}
