package signin

import (
	"fmt"

	"github.com/jifen/jifen/domain"
)

// Step is one rung of the streak ladder: on the Day-th day of a streak
// (of its cycle, when the cycle resets) the sign-in earns Bonus extra points
// and the base is multiplied by Multiplier (per mille, 2000 = ×2; 0 = none).
type Step struct {
	Day        int   `json:"day"`
	Bonus      int64 `json:"bonus"`
	Multiplier int64 `json:"multiplier_permille"`
}

// Rewards is the configured reward scheme.
type Rewards struct {
	Base int64
	// Cycle > 0 restarts the ladder after Cycle days (day Cycle+1 counts as
	// day 1 again); 0 lets the streak day keep growing.
	Cycle  int
	Ladder []Step
	// TierPermille multiplies the whole reward by tier (1000 = ×1); a tier
	// not listed is ×1.
	TierPermille map[string]int64
	// MakeupsPerMonth and MakeupCost bound and price make-ups.
	MakeupsPerMonth int
	MakeupCost      int64
}

// MaxPermille bounds a multiplier (×100), so a multiplied reward of
// domain.MaxPoints stays inside int64.
const MaxPermille = 100_000

// Validate checks the scheme once at start-up (the configuration calls
// it): points in range, ladder days within the cycle, multipliers from 0
// to MaxPermille, make-ups not negative and priced. key prefixes the
// fields its error names (the configuration's keys: key.base_points,
// key.ladder[i], …).
func (r Rewards) Validate(key string) error {
	bad := domain.Problems{}
	bad.Parsed(domain.ParsePointsOrZero(key+".base_points", r.Base))
	if r.Cycle < 0 {
		bad.Add(key+".cycle_days", "must be ≥ 0 (0: the streak keeps growing)")
	}
	for i, st := range r.Ladder {
		k := fmt.Sprintf("%s.ladder[%d]", key, i)
		if st.Day < 1 || (r.Cycle > 0 && st.Day > r.Cycle) || st.Multiplier < 0 || st.Multiplier > MaxPermille {
			bad.Add(k, fmt.Sprintf("day must be 1..cycle_days, multiplier_permille 0..%d", MaxPermille))
		}
		bad.Parsed(domain.ParsePointsOrZero(k+".bonus", st.Bonus))
	}
	for t, m := range r.TierPermille {
		if m < 0 || m > MaxPermille {
			bad.Add(key+".tier_multipliers_permille."+t, fmt.Sprintf("must be from 0 to %d", MaxPermille))
		}
	}
	if r.MakeupsPerMonth < 0 {
		bad.Add(key+".makeups_per_month", "must be ≥ 0")
	}
	bad.Parsed(domain.ParsePoints(key+".makeup_cost", r.MakeupCost))
	return bad.Err("invalid sign-in rewards")
}

// Line is one part of a sign-in reward, as the shopper sees it.
type Line struct {
	Title  string `json:"title"`
	Points int64  `json:"points"`
}

// CycleDay is the position of a streak in the ladder.
func (r Rewards) CycleDay(streak int) int {
	if r.Cycle > 0 && streak > 0 {
		return (streak-1)%r.Cycle + 1
	}
	return streak
}

// For returns the reward lines of a sign-in with streak for tier.
func (r Rewards) For(streak int, tier string) []Line {
	day := r.CycleDay(streak)
	lines := []Line{{Title: "每日签到", Points: r.Base}}
	var bonus int64
	for _, s := range r.Ladder {
		if s.Day != day {
			continue
		}
		if s.Multiplier > 0 && s.Multiplier != 1000 {
			lines = append(lines, Line{Title: fmt.Sprintf("连续签到%d天 ×%s", s.Day, permille(s.Multiplier)), Points: extra(r.Base, s.Multiplier)})
		}
		bonus += s.Bonus
	}
	if bonus > 0 {
		lines = append(lines, Line{Title: fmt.Sprintf("连续签到%d天奖励", day), Points: bonus})
	}
	if m, ok := r.TierPermille[tier]; ok && m != 1000 {
		var sub int64
		for _, l := range lines {
			sub += l.Points
		}
		lines = append(lines, Line{Title: fmt.Sprintf("会员等级 %s ×%s", tier, permille(m)), Points: extra(sub, m)})
	}
	out := lines[:0]
	for _, l := range lines {
		if l.Points != 0 {
			out = append(out, l)
		}
	}
	return out
}

// extra is what a multiplier of pm per mille adds to p, rounded down
// (domain.Points.MulPermille). Start-up validation bounds the points (10^12)
// and the multipliers (×100), so the product stays far inside int64; were
// it not to, the multiplier adds nothing rather than a wrapped number.
func extra(p, pm int64) int64 {
	v, err := domain.Points(p).MulPermille(pm)
	if err != nil {
		return 0
	}
	return int64(v) - p
}

func permille(m int64) string {
	if m%1000 == 0 {
		return fmt.Sprint(m / 1000)
	}
	s := fmt.Sprintf("%d.%03d", m/1000, m%1000)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}

// Total sums lines.
func Total(lines []Line) int64 {
	var t int64
	for _, l := range lines {
		t += l.Points
	}
	return t
}
