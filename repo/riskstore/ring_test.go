package riskstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/domain/risk"
	"github.com/jifen/jifen/repo/referralstore"
)

type noBoard struct{}

func (noBoard) Add(context.Context, string, int64, int64) {}

// referrals wires the referral service to the fixture's risk service, as
// the app does.
func (f *fixture) referrals() *referral.Service {
	return &referral.Service{Store: &referralstore.Store{DB: f.env.DB}, Members: &referralstore.Members{DB: f.env.DB},
		Board: noBoard{}, Tx: f.env.DB, Clock: f.clock, Rules: referral.Rules{Window: 72 * time.Hour}, Rings: f.svc}
}

// bind binds invitee to inviter's code and returns the error code ("" when
// bound).
func (f *fixture) bind(t *testing.T, ref *referral.Service, invitee, inviter int64) domain.Code {
	t.Helper()
	ctx := context.Background()
	code, err := ref.Code(ctx, inviter)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ref.Bind(ctx, invitee, code)
	if c := domain.ErrorCode(err); c == domain.Internal {
		t.Fatal(err)
	}
	return domain.ErrorCode(err)
}

// A ring A→B→C→A (A invited B, B invited C, then A binds to C's code):
// the closing bind is refused, as before, and each of the three members is
// flagged once with the ring as evidence; the same ring tried again flags
// nothing more. A loop longer than max_length, and one whose first
// binding is older than the window, raise nothing.
func TestRiskReferralRing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.referrals()
	ids := make([]int64, 12)
	for i := range ids {
		ids[i] = f.member(t, "")
	}
	a, b, c := ids[0], ids[1], ids[2]
	if f.bind(t, ref, b, a) != "" || f.bind(t, ref, c, b) != "" {
		t.Fatal("ordinary binds refused")
	}
	f.clock.Advance(time.Hour)
	if got := f.bind(t, ref, a, c); got != domain.RuleViolation {
		t.Fatalf("closing the ring: %q, want RULE_VIOLATION", got)
	}
	if got := f.bind(t, ref, a, c); got != domain.RuleViolation {
		t.Fatalf("closing the ring again: %q", got)
	}
	flags := f.flags(t, risk.FlagQuery{Status: risk.Open})
	if len(flags) != 3 {
		t.Fatalf("%d flags for a ring of 3, want 3: %+v", len(flags), flags)
	}
	flagged := map[int64]bool{}
	for _, fl := range flags {
		flagged[fl.MemberID] = true
		var ev struct {
			Members []int64     `json:"members"`
			Links   []risk.Link `json:"links"`
		}
		if err := json.Unmarshal([]byte(fl.Evidence), &ev); err != nil {
			t.Fatalf("evidence %q: %v", fl.Evidence, err)
		}
		if fl.Rule != "referral_ring" || fl.Dimension != risk.Chain || fl.Count != 3 || fl.Limit != 6 || fl.Held ||
			fmt.Sprint(ev.Members) != fmt.Sprint([]int64{a, b, c}) || len(ev.Links) != 3 ||
			fl.Key != fmt.Sprintf("%d in %d>%d>%d", fl.MemberID, a, b, c) {
			t.Fatalf("flag %+v evidence %+v", fl, ev)
		}
	}
	if !flagged[a] || !flagged[b] || !flagged[c] {
		t.Fatalf("flagged %v, want %d, %d, %d", flagged, a, b, c)
	}

	// A loop of 7 > max_length 6: refused by referral, not flagged.
	long := ids[3:10]
	for i := 1; i < len(long); i++ {
		if f.bind(t, ref, long[i], long[i-1]) != "" {
			t.Fatal("chain bind refused")
		}
	}
	if f.bind(t, ref, long[0], long[6]) != domain.RuleViolation {
		t.Fatal("long loop not refused")
	}
	// A loop of 2 whose binding is 31 days old (window 30 days; the
	// referral window is widened so the bind reaches the loop check).
	d, e := ids[10], ids[11]
	if f.bind(t, ref, e, d) != "" {
		t.Fatal("bind refused")
	}
	f.clock.Advance(31 * 24 * time.Hour)
	ref.Rules.Window = 40 * 24 * time.Hour
	if f.bind(t, ref, d, e) != domain.RuleViolation {
		t.Fatal("old loop not refused")
	}
	if got := f.flags(t, risk.FlagQuery{}); len(got) != 3 {
		t.Fatalf("%d flags in all, want the ring's 3", len(got))
	}
}

// The same number of binds forming trees (an inviter with many invitees,
// invitees inviting further), with the refusals an ordinary shopper meets
// (own code, bound twice), flags nothing.
func TestRiskReferralTreesRaiseNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.referrals()
	const n = 40
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = f.member(t, "")
	}
	binds := 0
	for i := 1; i < n; i++ {
		if f.bind(t, ref, ids[i], ids[(i-1)/3]) != "" { // a tree of fan-out 3
			t.Fatalf("bind %d refused", i)
		}
		binds++
		f.clock.Advance(time.Minute)
	}
	if f.bind(t, ref, ids[0], ids[0]) != domain.RuleViolation || f.bind(t, ref, ids[5], ids[0]) != domain.Conflict {
		t.Fatal("own code or second bind not refused")
	}
	if got := f.flags(t, risk.FlagQuery{}); len(got) != 0 {
		t.Fatalf("%d flags after %d ordinary binds: %+v", len(got), binds, got)
	}
}
