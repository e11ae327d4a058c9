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
	"fmt"
	"strings"
	"time"

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
}

// Breached reports whether count events in one window break the rule: the
// one decision that raises a flag.
func (r Rule) Breached(count int64) bool { return r.Enabled && count > r.MaxPerHour }

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
		k := strings.TrimSpace(e.DeviceID)
		if len(k) > MaxKeyLen {
			k = k[:MaxKeyLen]
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
