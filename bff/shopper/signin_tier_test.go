package shopper_test

import (
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

// engage.signin.tier_multipliers_permille multiplies a sign-in by the
// member's real tier, on the grouped path and on the one-by-one path alike.
func TestSigninTierMultiplierUsesTheMembersTier(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		groups int
	}{{"grouped", 1}, {"one by one", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := apptest.New(t, func(c *configs.Config) {
				c.Engage.Signin.TierPermille = map[string]int64{"normal": 1000, "silver": 1500, "gold": 2000}
				c.Engage.Signin.GroupCommits = tc.groups
			})
			baseTok, _, _ := h.Login(apptest.UniqueUser("base"))
			silverTok, _, silver := h.Login(apptest.UniqueUser("silver"))
			payOrder(t, h, silver, "S1-"+strings.ReplaceAll(tc.name, " ", ""), 110000) // 1,100 元 → 银卡 at once

			if r := signIn(t, h, baseTok); r.total() != 10 || len(r.Awarded) != 1 {
				t.Fatalf("base tier sign-in %+v, want 10 in one line", r)
			}
			r := signIn(t, h, silverTok)
			if r.total() != 15 || len(r.Awarded) != 2 || !strings.Contains(r.Awarded[1].Title, "×1.5") {
				t.Fatalf("silver sign-in %+v, want 10 + 5 (×1.5 line)", r)
			}
		})
	}
}

// A tier the multipliers name that tier.levels does not have would never
// match anyone: refused at start, naming the key.
func TestSigninTierMultiplierOfAnUnknownTierIsRefused(t *testing.T) {
	t.Parallel()
	cfg, err := configs.Load("", []string{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Engage.Signin.TierPermille = map[string]int64{"glod": 1500}
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "engage.signin.tier_multipliers_permille.glod") {
		t.Fatalf("unknown tier: %v", err)
	}
}
