package signin_test

import (
	"fmt"
	"testing"

	"github.com/jifen/jifen/domain/signin"
)

func TestRewardsLadder(t *testing.T) {
	ladder := []signin.Step{{Day: 3, Bonus: 5}, {Day: 7, Multiplier: 2000}}
	cases := []struct {
		cycle  int
		streak int
		tier   string
		want   string
	}{
		{7, 1, "normal", "[{每日签到 10}]"},
		{7, 3, "normal", "[{每日签到 10} {连续签到3天奖励 5}]"},
		{7, 7, "normal", "[{每日签到 10} {连续签到7天 ×2 10}]"},
		{7, 8, "normal", "[{每日签到 10}]"},
		{7, 10, "normal", "[{每日签到 10} {连续签到3天奖励 5}]"},
		{0, 10, "normal", "[{每日签到 10}]"},
		{0, 7, "normal", "[{每日签到 10} {连续签到7天 ×2 10}]"},
		{7, 3, "gold", "[{每日签到 10} {连续签到3天奖励 5} {会员等级 gold ×1.5 7}]"},
		{7, 1, "silver", "[{每日签到 10}]"}, // ×1 adds no line
	}
	for _, c := range cases {
		r := signin.Rewards{Base: 10, Cycle: c.cycle, Ladder: ladder, TierPermille: map[string]int64{"gold": 1500, "silver": 1000}, MakeupCost: 20}
		if err := r.Validate("engage.signin"); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(r.For(c.streak, c.tier)); got != c.want {
			t.Errorf("cycle %d streak %d %s: %s, want %s", c.cycle, c.streak, c.tier, got, c.want)
		}
	}
	if err := (signin.Rewards{Base: 10, Cycle: 7, Ladder: []signin.Step{{Day: 8}}, MakeupCost: 20}).Validate("engage.signin"); err == nil {
		t.Error("a ladder step beyond the cycle must be refused")
	}
}
